"""Mailchimp Marketing API: find a subscriber on every audience (list), return it, delete it
permanently, or unsubscribe it (opt-out).

See README.md in this folder for what is deleted, what Mailchimp keeps, and the rate limits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any, ClassVar, Self

from pydantic import Field, SecretStr, field_validator, model_validator

from connectors.base import Capability, Connector, ConnectorConfig
from connectors.errors import ConfigError, ConnectorError, PermanentError
from connectors.http import HttpClient, paginate_offset, quote_segment, validate_base_url
from connectors.ratelimit import Rate, account_key, default_limiter
from connectors.types import CheckResult, ErasureMethod, ErasureResult, Record, Subject, normalise_email

_SERVER_PREFIX = re.compile(r"^[a-z]{2,8}[0-9]{1,4}$")
# Member statuses that already receive no marketing e-mail and stay suppressed: an opt-out leaves
# them as they are (``cleaned`` is a bounced address Mailchimp will not mail again).
_SUPPRESSED_STATUSES = frozenset({"unsubscribed", "cleaned"})


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: the MD5 of the lower-cased address (an identifier, not security)."""
    return hashlib.md5(normalise_email(email).encode(), usedforsecurity=False).hexdigest()


class MailchimpConfig(ConnectorConfig):
    """``api_key`` ends with ``-<dc>`` (e.g. ``...-us6``); the data center picks the API host.

    ``server_prefix`` overrides the data center; ``base_url`` overrides the whole API root
    (``https://us6.api.mailchimp.com/3.0``; tests point it at a local fake).
    """

    api_key: SecretStr
    server_prefix: str | None = None
    base_url: str | None = None
    page_size: int = Field(default=1000, ge=1, le=1000)
    timeout: float = Field(default=30.0, gt=0, le=300)
    requests_per_second: float = Field(default=10.0, gt=0)

    @field_validator("server_prefix")
    @classmethod
    def _check_prefix(cls, value: str | None) -> str | None:
        if value is not None and not _SERVER_PREFIX.match(value):
            raise ValueError("must look like 'us6'")
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        return None if value is None else validate_base_url(value)

    @model_validator(mode="after")
    def _check_data_center(self) -> Self:
        if self.base_url is None and self.server_prefix is None:
            _, sep, dc = self.api_key.get_secret_value().rpartition("-")
            if not sep or not _SERVER_PREFIX.match(dc):
                raise ValueError("the API key has no '-<dc>' suffix: set server_prefix or base_url")
        return self

    def api_root(self) -> str:
        if self.base_url:
            return self.base_url
        dc = self.server_prefix or self.api_key.get_secret_value().rpartition("-")[2]
        return f"https://{dc}.api.mailchimp.com/3.0"


class MailchimpConnector(Connector):
    """Members of every audience of one Mailchimp account, matched on the subscriber hash."""

    key: ClassVar[str] = "mailchimp"
    label: ClassVar[str] = "Mailchimp Marketing"
    category: ClassVar[str] = "email"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.ACCESS, Capability.ERASE, Capability.OPT_OUT}
    )
    allowed_hosts: ClassVar[tuple[str, ...]] = ("*.api.mailchimp.com",)
    Config: ClassVar[type[ConnectorConfig]] = MailchimpConfig
    config: MailchimpConfig

    def __init__(self, config: ConnectorConfig | dict[str, Any], **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        api_key = self.config.api_key.get_secret_value()
        if not api_key:
            raise ConfigError("invalid mailchimp config: api_key is empty")
        self.http = HttpClient(
            self.config.api_root(),
            vendor="mailchimp",
            auth=("dsr-hub", api_key),  # any username; the key is the password
            timeout=self.config.timeout,
            secrets=self.secret_values(),
            logger=self.log,
            limiter=default_limiter(),
            limit_key=account_key("mailchimp", api_key),
            rate=Rate(
                per_second=self.config.requests_per_second, burst=max(1, int(self.config.requests_per_second))
            ),
            policy=self.outbound,
        )

    def close(self) -> None:
        self.http.close()

    # -- operations -----------------------------------------------------------------------------
    def check(self) -> CheckResult:
        try:
            self.http.get_json("/ping")
        except ConnectorError as exc:
            return CheckResult(ok=False, message=self.redact(str(exc)))
        return CheckResult(ok=True, message="Mailchimp API key accepted")

    def access(self, subject: Subject) -> Iterator[Record]:
        for mailing_list, member in self._memberships(subject):
            data = {k: v for k, v in member.items() if k != "_links"}
            data["list_name"] = mailing_list.get("name")
            yield Record(
                category="list_member", record_id=f"{mailing_list['id']}:{member.get('id')}", data=data
            )

    def erase(self, subject: Subject) -> ErasureResult:
        memberships = [(str(ml["id"]), str(m["id"])) for ml, m in self._memberships(subject)]
        if not memberships:
            return ErasureResult(found=0, erased=0, method=ErasureMethod.NONE, dry_run=self.dry_run)
        if self.dry_run:
            return ErasureResult(
                found=len(memberships),
                erased=0,
                method=ErasureMethod.DELETED,
                dry_run=True,
                per_category={"list_member": len(memberships)},
                notes="dry run: would permanently delete the member from each audience",
            )
        erased = 0
        for list_id, member_hash in memberships:
            member_path = f"/lists/{quote_segment(list_id)}/members/{quote_segment(member_hash)}"
            response = self.http.post(
                f"{member_path}/actions/delete-permanent",
                allow=(404,),
                log_as="/lists/{list_id}/members/{subscriber_hash}/actions/delete-permanent",
            )
            if response.status_code != 404:  # 404: deleted meanwhile, nothing left
                erased += 1
        self.log.info("mailchimp: permanently deleted %d membership(s)", erased)
        return ErasureResult(
            found=erased,
            erased=erased,
            method=ErasureMethod.DELETED if erased else ErasureMethod.NONE,
            per_category={"list_member": erased} if erased else {},
            notes="delete-permanent: PII removed per audience; the address cannot be re-imported",
        )

    def opt_out(self, subject: Subject) -> ErasureResult:
        """Set every membership of ``subject`` to ``unsubscribed``; the member stays on the list.

        Keeping the member as ``unsubscribed`` is what makes the opt-out stick: Mailchimp will not
        mail it, and an import cannot silently re-subscribe it. Members already ``unsubscribed`` or
        ``cleaned`` are counted as found and not written again, so a second call reports
        ``erased=0``.
        """
        memberships = [
            (str(ml["id"]), str(m["id"]), str(m.get("status", ""))) for ml, m in self._memberships(subject)
        ]
        if not memberships:
            return ErasureResult(found=0, erased=0, method=ErasureMethod.NONE, dry_run=self.dry_run)
        to_patch = [(list_id, h) for list_id, h, status in memberships if status not in _SUPPRESSED_STATUSES]
        if self.dry_run:
            return ErasureResult(
                found=len(memberships),
                erased=0,
                method=ErasureMethod.SUPPRESSED,
                dry_run=True,
                per_category={"list_member": len(to_patch)},
                notes=f"dry run: would unsubscribe {len(to_patch)} of {len(memberships)} membership(s)",
            )
        unsubscribed = 0
        for list_id, member_hash in to_patch:
            response = self.http.request(
                "PATCH",
                f"/lists/{quote_segment(list_id)}/members/{quote_segment(member_hash)}",
                json={"status": "unsubscribed"},
                allow=(404,),
                log_as="/lists/{list_id}/members/{subscriber_hash}",
            )
            if response.status_code != 404:  # 404: deleted meanwhile, nothing left to mail
                unsubscribed += 1
        self.log.info(
            "mailchimp: unsubscribed %d of %d membership(s) for %s",
            unsubscribed,
            len(memberships),
            subject.reference,
        )
        return ErasureResult(
            found=len(memberships),
            erased=unsubscribed,
            method=ErasureMethod.SUPPRESSED,
            per_category={"list_member": unsubscribed} if unsubscribed else {},
            notes="status set to unsubscribed on each audience; the member is kept so it stays suppressed",
        )

    # -- internals ------------------------------------------------------------------------------
    def _lists(self) -> Iterator[dict[str, Any]]:
        def fetch(offset: int, count: int) -> tuple[list[dict[str, Any]], int | None]:
            data = self.http.get_json(
                "/lists",
                params={"count": count, "offset": offset, "fields": "lists.id,lists.name,total_items"},
            )
            if not isinstance(data, dict) or not isinstance(data.get("lists"), list):
                raise PermanentError("mailchimp: unexpected /lists response shape")
            total = data.get("total_items")
            return data["lists"], int(total) if isinstance(total, int) else None

        yield from paginate_offset(
            fetch, page_size=self.config.page_size, key=lambda ml: str(ml.get("id")), what="mailchimp lists"
        )

    def _memberships(self, subject: Subject) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        email = normalise_email(subject.email)
        member_hash = subscriber_hash(email)
        for mailing_list in self._lists():
            path = f"/lists/{quote_segment(str(mailing_list['id']))}/members/{member_hash}"
            response = self.http.get(path, allow=(404,), log_as="/lists/{list_id}/members/{subscriber_hash}")
            if response.status_code == 404:
                continue  # not on this audience
            member = self.http.json(response)
            if not isinstance(member, dict):
                raise PermanentError("mailchimp: unexpected member response shape")
            if normalise_email(str(member.get("email_address", ""))) != email:
                continue  # never trust an identifier alone
            yield mailing_list, member
