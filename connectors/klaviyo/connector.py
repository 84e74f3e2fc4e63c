"""Klaviyo connector: finds profiles by email, requests their deletion with an asynchronous job.

- Find/access: ``GET /api/profiles?filter=equals(email,"<email>")`` (JSON:API, ``page[cursor]`` paging
  through ``links.next``). Every profile's email is compared again after normalisation.
- Erase: ``POST /api/data-privacy-deletion-jobs`` (one job per subject, by email: Klaviyo deletes every
  profile matching it). Klaviyo answers 202 with no body and documents **no job-status endpoint**, so
  :meth:`KlaviyoConnector.erase` returns a :class:`~connectors.types.JobHandle` at once carrying the ids
  of the profiles it found, and :meth:`KlaviyoConnector.poll` confirms completion by looking those ids
  up again until none is left. ``poll`` only reads: it never submits a second job.
"""

from __future__ import annotations

import hashlib
import re
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import Field, SecretStr, field_validator

from connectors.base import Capability, Connector, ConnectorConfig
from connectors.errors import AuthError, ConnectorError, PermanentError, TransientError
from connectors.http import HttpClient, paginate_cursor
from connectors.ratelimit import Rate, account_key, default_limiter
from connectors.types import (
    CheckResult,
    ErasureMethod,
    ErasureResult,
    JobHandle,
    Record,
    Subject,
    normalise_email,
)

JSONAPI = "application/vnd.api+json"
# Documented limits (x-klaviyo-ratelimit in klaviyo/openapi): Get Profiles burst 75/s, steady 750/min;
# Request Profile Deletion burst 3/s, steady 60/min.
PROFILES_RATE = Rate.per(750, 60, burst=75)
DELETION_RATE = Rate.per(60, 60, burst=3)
_PROFILE_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")
DELETION_NOTE = (
    "Klaviyo deleted the profiles asynchronously (confirmed by looking them up again). Klaviyo keeps a "
    "record of the deleted profile's identifier on its Deleted Profiles page."
)


class KlaviyoConfig(ConnectorConfig):
    api_key: SecretStr = Field(
        description="A private API key (pk_...) with profiles:read, data-privacy:write"
    )
    base_url: str = "https://a.klaviyo.com"
    revision: str = "2024-10-15"  # pinned API revision (the required `revision` header)
    page_size: int = Field(default=100, ge=1, le=100)
    poll_interval: float = Field(default=300.0, gt=0)  # seconds between polls of a deletion job
    max_job_age: float = Field(default=14 * 86400.0, gt=0)  # give up (PermanentError) after this long
    timeout: float = Field(default=30.0, gt=0, le=300)
    rate_limit: bool = True

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        parsed = urllib.parse.urlsplit(value.strip())
        local = parsed.hostname in ("127.0.0.1", "localhost", "::1")
        if parsed.scheme != "https" and not (parsed.scheme == "http" and local):
            raise ValueError("must be an https:// URL")
        if not parsed.hostname or parsed.path not in ("", "/") or parsed.query or parsed.username:
            raise ValueError("must be an origin only, e.g. https://a.klaviyo.com")
        return f"{parsed.scheme}://{parsed.netloc}"

    @field_validator("revision")
    @classmethod
    def _revision(cls, value: str) -> str:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:\.[a-z]+)?", value):
            raise ValueError("must look like 2024-10-15")
        return value


def filter_string(value: str) -> str:
    """``value`` as a double-quoted filter literal. Quotes and backslashes are refused.

    Klaviyo's filter syntax documents no escape sequence, and such characters appear only in exotic
    quoted local parts; refusing them is safer than guessing an escaping rule.
    """
    if any(ch in value for ch in '"\\') or any(ord(ch) < 32 for ch in value):
        raise PermanentError("klaviyo: this email address cannot be expressed in Klaviyo's filter syntax")
    return f'"{value}"'


class KlaviyoConnector(Connector):
    key = "klaviyo"
    label = "Klaviyo"
    category = "email"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.ACCESS, Capability.ERASE})
    allowed_hosts: ClassVar[tuple[str, ...]] = ("a.klaviyo.com",)
    Config = KlaviyoConfig
    config: KlaviyoConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        key = self.config.api_key.get_secret_value()
        self.http = HttpClient(
            self.config.base_url,
            vendor="klaviyo",
            headers={
                "Authorization": f"Klaviyo-API-Key {key}",
                "revision": self.config.revision,
                "Accept": JSONAPI,
            },
            secrets=self.secret_values(),
            timeout=self.config.timeout,
            logger=self.log,
            limiter=default_limiter() if self.config.rate_limit else None,
            limit_key=account_key("klaviyo", self.config.base_url, key),
            rate=PROFILES_RATE,
            policy=self.outbound,
        )

    def close(self) -> None:
        self.http.close()

    # -- profiles ----------------------------------------------------------------------------
    def _profiles(self, filter_expr: str) -> Iterator[dict[str, Any]]:
        """Every profile matching ``filter_expr``, following ``links.next`` (same host only)."""

        def fetch(next_url: str | None) -> tuple[list[dict[str, Any]], str | None]:
            if next_url is None:
                params = {"filter": filter_expr, "page[size]": str(self.config.page_size)}
                body = self.http.get_json("/api/profiles", params=params)
            else:
                body = self.http.get_json(next_url)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise TransientError("klaviyo: GET /api/profiles returned an unexpected body")
            links = body.get("links") if isinstance(body.get("links"), dict) else {}
            following = links.get("next") if links else None
            profiles = [p for p in body["data"] if isinstance(p, dict) and p.get("type") == "profile"]
            return profiles, (str(following) if following else None)

        yield from paginate_cursor(fetch, what="klaviyo profiles")

    def find_profiles(self, subject: Subject) -> list[dict[str, Any]]:
        """Profiles whose email is the subject's (in any case), checked again after normalisation."""
        found: dict[str, dict[str, Any]] = {}
        for profile in self._profiles(f"equals(email,{filter_string(subject.email)})"):
            attributes = profile.get("attributes")
            email = attributes.get("email") if isinstance(attributes, dict) else None
            profile_id = profile.get("id")
            if (
                isinstance(email, str)
                and normalise_email(email) == subject.email
                and isinstance(profile_id, str)
            ):
                if not _PROFILE_ID.match(profile_id):
                    raise PermanentError("klaviyo: a profile id has an unexpected format")
                found[profile_id] = profile
        return list(found.values())

    # -- operations --------------------------------------------------------------------------
    def check(self) -> CheckResult:
        try:
            self.http.get_json("/api/profiles", params={"page[size]": "1"})
        except AuthError as exc:
            return CheckResult(ok=False, message=f"Klaviyo refused the private API key: {exc}")
        except ConnectorError as exc:
            return CheckResult(ok=False, message=f"Klaviyo is not reachable: {exc}")
        return CheckResult(
            ok=True, message=f"the Klaviyo key can read profiles (revision {self.config.revision})"
        )

    def access(self, subject: Subject) -> Iterator[Record]:
        for profile in self.find_profiles(subject):
            raw = profile.get("attributes")
            attributes: dict[str, Any] = raw if isinstance(raw, dict) else {}
            yield Record(
                category="profile", data={"id": profile["id"], **attributes}, record_id=profile["id"]
            )

    def erase(self, subject: Subject) -> ErasureResult | JobHandle:
        profiles = self.find_profiles(subject)
        if not profiles:
            return ErasureResult(found=0, erased=0, method=ErasureMethod.NONE)
        ids = sorted(str(p["id"]) for p in profiles)
        if self.dry_run:
            return ErasureResult(
                found=len(ids),
                erased=len(ids),
                method=ErasureMethod.QUEUED_AT_VENDOR,
                dry_run=True,
                per_category={"profile": len(ids)},
                notes="would submit one Klaviyo data-privacy deletion job by email",
            )
        body = {
            "data": {
                "type": "data-privacy-deletion-job",
                "attributes": {
                    "profile": {"data": {"type": "profile", "attributes": {"email": subject.email}}}
                },
            }
        }
        self.http.post(
            "/api/data-privacy-deletion-jobs",
            json=body,
            headers={"Content-Type": JSONAPI},
            rate=DELETION_RATE,
            bucket="deletion",
        )
        # No job id comes back: the handle is derived from the profiles it must remove, and holds
        # their ids (not the email) so the stored handle carries no direct identifier.
        digest = hashlib.sha256(",".join(ids).encode()).hexdigest()[:24]
        return JobHandle(
            id=f"klaviyo-deletion-{digest}",
            poll_after=self.config.poll_interval,
            data={
                "profile_ids": ",".join(ids),
                "found": str(len(ids)),
                "submitted_at": datetime.now(UTC).isoformat(),
            },
        )

    def poll(self, handle: JobHandle) -> ErasureResult | JobHandle:
        """Completed when none of the handle's profiles can be found any more. Never submits a job."""
        try:
            ids = [i for i in handle.data["profile_ids"].split(",") if i]
            found = int(handle.data.get("found", len(ids)))
            submitted = datetime.fromisoformat(handle.data["submitted_at"])
        except (KeyError, ValueError) as exc:
            raise PermanentError(
                f"klaviyo: the job handle is not one of ours ({type(exc).__name__})"
            ) from None
        if not ids or not all(_PROFILE_ID.match(i) for i in ids):
            raise PermanentError("klaviyo: the job handle holds no valid profile ids")
        literal = "[" + ",".join(f'"{i}"' for i in ids) + "]"
        remaining = sum(1 for _ in self._profiles(f"any(id,{literal})"))
        if remaining == 0:
            return ErasureResult(
                found=found,
                erased=found,
                method=ErasureMethod.DELETED,
                per_category={"profile": found},
                notes=DELETION_NOTE,
            )
        age = (datetime.now(UTC) - submitted).total_seconds()
        if age > self.config.max_job_age:
            raise PermanentError(
                f"klaviyo: {remaining} of {found} profiles still exist {age / 86400:.0f} days after the "
                "deletion job was submitted; check Klaviyo's Deleted Profiles page and resubmit"
            )
        return JobHandle(id=handle.id, poll_after=self.config.poll_interval, data=dict(handle.data))
