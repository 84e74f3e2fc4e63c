"""HubSpot CRM: find contacts by email, return their properties, GDPR-delete them.

See README.md in this folder for what is deleted, what HubSpot keeps, and the rate limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import httpx
from pydantic import Field, SecretStr, field_validator

from connectors.base import Capability, Connector, ConnectorConfig
from connectors.errors import ConnectorError, PermanentError
from connectors.http import HttpClient, paginate_cursor, validate_base_url
from connectors.ratelimit import Rate, account_key, default_limiter
from connectors.types import CheckResult, ErasureMethod, ErasureResult, Record, Subject, normalise_email

DEFAULT_BASE_URL = "https://api.hubapi.com"
SEARCH_PATH = "/crm/v3/objects/contacts/search"
GDPR_DELETE_PATH = "/crm/v3/objects/contacts/gdpr-delete"
ADDITIONAL_EMAILS = "hs_additional_emails"


class HubSpotConfig(ConnectorConfig):
    """``access_token``: a private-app token (scopes ``crm.objects.contacts.read`` and ``.write``)."""

    access_token: SecretStr
    base_url: str = DEFAULT_BASE_URL
    properties: tuple[str, ...] | None = Field(
        default=None,
        description="Contact properties to return on access; None = every property of the portal.",
    )
    match_additional_emails: bool = Field(
        default=True, description="Also match contacts listing the address in hs_additional_emails."
    )
    page_size: int = Field(default=100, ge=1, le=200)
    timeout: float = Field(default=30.0, gt=0, le=300)
    requests_per_10s: int = Field(default=100, ge=1, description="Burst limit of the private app's tier.")
    search_per_second: float = Field(default=4.0, gt=0, description="Search API limit per token.")

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        return validate_base_url(value)


def _retry_after_from_hubspot(response: httpx.Response) -> float | None:
    """HubSpot's 429s name the window in ``X-HubSpot-RateLimit-Interval-Milliseconds``."""
    interval = response.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
    if interval and interval.isdigit():
        return int(interval) / 1000.0
    try:
        policy = response.json().get("policyName", "")
    except (ValueError, AttributeError):
        return None
    return {"SECONDLY": 1.0, "TEN_SECONDLY_ROLLING": 10.0}.get(str(policy))


class HubSpotConnector(Connector):
    """Contacts in one HubSpot portal (account), matched on ``email`` (and additional emails)."""

    key: ClassVar[str] = "hubspot"
    label: ClassVar[str] = "HubSpot CRM"
    category: ClassVar[str] = "crm"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.ACCESS, Capability.ERASE})
    allowed_hosts: ClassVar[tuple[str, ...]] = ("api.hubapi.com", "api-eu1.hubapi.com")
    Config: ClassVar[type[ConnectorConfig]] = HubSpotConfig
    config: HubSpotConfig

    def __init__(self, config: ConnectorConfig | dict[str, Any], **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        token = self.config.access_token.get_secret_value()
        self.http = HttpClient(
            self.config.base_url,
            vendor="hubspot",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=self.config.timeout,
            secrets=self.secret_values(),
            logger=self.log,
            limiter=default_limiter(),
            limit_key=account_key("hubspot", token),
            rate=Rate.per(self.config.requests_per_10s, 10),
            retry_after=_retry_after_from_hubspot,
            policy=self.outbound,
        )

    def close(self) -> None:
        self.http.close()

    # -- operations -----------------------------------------------------------------------------
    def check(self) -> CheckResult:
        try:
            self.http.get_json("/crm/v3/objects/contacts", params={"limit": 1, "archived": "false"})
        except ConnectorError as exc:
            return CheckResult(ok=False, message=self.redact(str(exc)))
        return CheckResult(ok=True, message="HubSpot token accepted; contacts are readable")

    def access(self, subject: Subject) -> Iterator[Record]:
        for contact in self._find(subject, self._access_properties()):
            yield Record(
                category="contact",
                record_id=str(contact["id"]),
                data={
                    "id": contact["id"],
                    "properties": {
                        k: v for k, v in (contact.get("properties") or {}).items() if v is not None
                    },
                    "createdAt": contact.get("createdAt"),
                    "updatedAt": contact.get("updatedAt"),
                    "archived": contact.get("archived", False),
                },
            )

    def erase(self, subject: Subject) -> ErasureResult:
        # Search first: gdpr-delete of an unknown email would blocklist it (HubSpot side effect).
        ids = [str(c["id"]) for c in self._find(subject, ["email", ADDITIONAL_EMAILS])]
        if not ids:
            return ErasureResult(found=0, erased=0, method=ErasureMethod.NONE, dry_run=self.dry_run)
        if self.dry_run:
            return ErasureResult(
                found=len(ids),
                erased=0,
                method=ErasureMethod.DELETED,
                dry_run=True,
                per_category={"contact": len(ids)},
                notes="dry run: would GDPR-delete the contacts found",
            )
        erased = 0
        for contact_id in ids:
            response = self.http.post(GDPR_DELETE_PATH, json={"objectId": contact_id}, allow=(404,))
            if response.status_code == 404:
                continue  # already gone (search lags deletes): nothing left to erase
            erased += 1
        self.log.info("hubspot: GDPR-deleted %d contact(s)", erased)
        return ErasureResult(
            found=erased,
            erased=erased,
            method=ErasureMethod.DELETED if erased else ErasureMethod.NONE,
            per_category={"contact": erased} if erased else {},
            notes="GDPR delete: contact and associated content permanently deleted",
        )

    # -- internals ------------------------------------------------------------------------------
    def _access_properties(self) -> list[str]:
        if self.config.properties is not None:
            return sorted({*self.config.properties, "email", ADDITIONAL_EMAILS})
        data = self.http.get_json("/crm/v3/properties/contacts", params={"archived": "false"})
        names = [str(p["name"]) for p in data.get("results", []) if isinstance(p, dict) and "name" in p]
        if not names:
            raise PermanentError("hubspot: the portal returned no contact properties")
        return sorted({*names, "email", ADDITIONAL_EMAILS})

    def _find(self, subject: Subject, properties: Iterable[str]) -> Iterator[dict[str, Any]]:
        """Contacts whose email (or an additional email) is the subject's, verified client-side."""
        email = normalise_email(subject.email)
        groups = [{"filters": [{"propertyName": "email", "operator": "EQ", "value": email}]}]
        if self.config.match_additional_emails:
            groups.append(
                {
                    "filters": [
                        {"propertyName": ADDITIONAL_EMAILS, "operator": "CONTAINS_TOKEN", "value": email}
                    ]
                }
            )
        props = list(properties)

        def fetch(after: str | None) -> tuple[list[dict[str, Any]], str | None]:
            body: dict[str, Any] = {
                "filterGroups": groups,
                "properties": props,
                "limit": self.config.page_size,
                "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            }
            if after:
                body["after"] = after
            data = self.http.post_json(
                SEARCH_PATH,
                json=body,
                bucket="search",
                rate=Rate(
                    per_second=self.config.search_per_second, burst=max(1, int(self.config.search_per_second))
                ),
            )
            if not isinstance(data, dict) or not isinstance(data.get("results"), list):
                raise PermanentError("hubspot: unexpected search response shape")
            next_after = ((data.get("paging") or {}).get("next") or {}).get("after")
            return data["results"], (str(next_after) if next_after else None)

        seen: set[str] = set()
        for contact in paginate_cursor(fetch, what="hubspot contact search"):
            contact_id = str(contact.get("id"))
            if contact_id in seen or not self._is_subject(contact, email):
                continue  # never trust a vendor search to be exact
            seen.add(contact_id)
            yield contact

    def _is_subject(self, contact: dict[str, Any], email: str) -> bool:
        properties = contact.get("properties") or {}
        primary = properties.get("email")
        if isinstance(primary, str) and normalise_email(primary) == email:
            return True
        extra = properties.get(ADDITIONAL_EMAILS)
        if self.config.match_additional_emails and isinstance(extra, str):
            return email in {normalise_email(e) for e in extra.split(";") if e.strip()}
        return False
