"""Salesforce connector: finds Contacts and Leads by email with SOQL, deletes them in batches of 200.

Reads go through the REST query resource (``GET /services/data/vXX.X/query?q=...``), following
``nextRecordsUrl`` until ``done``. SOQL cannot bind parameters over REST, so every literal is escaped
by :mod:`connectors.salesforce.soql` and every object and field name is validated as an API name
when the config is loaded. Deletes use the sObject Collections resource
(``DELETE /composite/sobjects?ids=...&allOrNone=false``), which answers one result per id, in order.
See README.md for what Salesforce keeps after a delete (the Recycle Bin).
"""

from __future__ import annotations

import re
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from connectors.base import Capability, Connector, ConnectorConfig
from connectors.errors import AuthError, PermanentError, RateLimited, TransientError
from connectors.http import HttpClient, paginate_cursor, scrub
from connectors.ratelimit import account_key, default_limiter
from connectors.salesforce import soql
from connectors.types import CheckResult, ErasureMethod, ErasureResult, Record, Subject, normalise_email

MAX_IDS_PER_DELETE = 200  # the sObject Collections limit
_RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
# Per-record delete errors that a later retry can clear (row locks, a long-running request).
TRANSIENT_RECORD_ERRORS = frozenset({"UNABLE_TO_LOCK_ROW", "REQUEST_RUNNING_TOO_LONG", "SERVER_UNAVAILABLE"})
RECYCLE_BIN_NOTE = (
    "Salesforce moves deleted records to the Recycle Bin, where they can be restored for 15 days "
    "before they are purged; a permanent delete needs Bulk API 2.0 hardDelete and the "
    "'Bulk API Hard Delete' permission."
)


class SObjectSpec(BaseModel):
    """One object to search: its API name, the field holding the email, and the fields to export."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    email_field: str = "Email"
    fields: tuple[str, ...]
    erase: bool = True  # False: report in access, never delete (e.g. Cases kept for support records)

    @field_validator("name", "email_field")
    @classmethod
    def _api_name(cls, value: str) -> str:
        try:
            return soql.identifier(value)
        except soql.SOQLError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("fields")
    @classmethod
    def _api_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            return tuple(soql.identifier(name) for name in value)
        except soql.SOQLError as exc:
            raise ValueError(str(exc)) from None

    def select_fields(self) -> list[str]:
        """``Id`` and the email field first, then the configured fields (no duplicates)."""
        out: list[str] = []
        for name in ("Id", self.email_field, *self.fields):
            if name.lower() not in (n.lower() for n in out):
                out.append(name)
        return out


DEFAULT_OBJECTS: tuple[SObjectSpec, ...] = (
    SObjectSpec(
        name="Contact",
        fields=(
            "FirstName",
            "LastName",
            "Phone",
            "MobilePhone",
            "Title",
            "MailingStreet",
            "MailingCity",
            "MailingPostalCode",
            "MailingCountry",
            "AccountId",
            "CreatedDate",
            "LastModifiedDate",
        ),
    ),
    SObjectSpec(
        name="Lead",
        fields=(
            "FirstName",
            "LastName",
            "Phone",
            "Company",
            "Title",
            "Street",
            "City",
            "PostalCode",
            "Country",
            "Status",
            "CreatedDate",
            "LastModifiedDate",
        ),
    ),
)


class SalesforceConfig(ConnectorConfig):
    instance_url: str = Field(description="https://<MyDomain>.my.salesforce.com (no path)")
    access_token: SecretStr
    api_version: str = "62.0"
    objects: tuple[SObjectSpec, ...] = DEFAULT_OBJECTS
    timeout: float = Field(default=30.0, gt=0, le=300)
    rate_limit: bool = True  # take a token from the shared limiter before each request

    @field_validator("instance_url")
    @classmethod
    def _instance_url(cls, value: str) -> str:
        parsed = urllib.parse.urlsplit(value.strip())
        local = parsed.hostname in ("127.0.0.1", "localhost", "::1")
        if parsed.scheme != "https" and not (parsed.scheme == "http" and local):
            raise ValueError("must be an https:// URL")
        if not parsed.hostname or parsed.path not in ("", "/") or parsed.query or parsed.fragment:
            raise ValueError("must be the instance's origin only, e.g. https://acme.my.salesforce.com")
        if parsed.username or parsed.password:
            raise ValueError("must not contain credentials")
        return f"{parsed.scheme}://{parsed.netloc}"

    @field_validator("api_version")
    @classmethod
    def _api_version(cls, value: str) -> str:
        value = value.removeprefix("v")
        if not re.fullmatch(r"\d{2,3}\.0", value):
            raise ValueError("must look like 62.0")
        return value

    @field_validator("objects")
    @classmethod
    def _objects(cls, value: tuple[SObjectSpec, ...]) -> tuple[SObjectSpec, ...]:
        if not value:
            raise ValueError("at least one object is needed")
        names = [spec.name.lower() for spec in value]
        if len(set(names)) != len(names):
            raise ValueError("each object may be listed once")
        return value


def _salesforce_message(response: httpx.Response) -> str | None:
    """Salesforce errors are a list: ``[{"message": ..., "errorCode": ...}]``."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or None
    if isinstance(body, list) and body and isinstance(body[0], dict):
        first = body[0]
        return f"{first.get('errorCode', 'ERROR')}: {first.get('message', '')}"
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error_description") or body.get("error") or "") or None
    return None


def _error_codes(response: httpx.Response) -> set[str]:
    try:
        body = response.json()
    except ValueError:
        return set()
    if isinstance(body, list):
        return {str(item.get("errorCode")) for item in body if isinstance(item, dict)}
    return set()


class SalesforceConnector(Connector):
    key = "salesforce"
    label = "Salesforce"
    category = "crm"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.ACCESS, Capability.ERASE})
    allowed_hosts: ClassVar[tuple[str, ...]] = ("*.my.salesforce.com",)
    Config = SalesforceConfig
    config: SalesforceConfig

    @classmethod
    def configured_urls(cls, config: ConnectorConfig) -> list[str]:
        return [config.instance_url] if isinstance(config, SalesforceConfig) else []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        token = self.config.access_token.get_secret_value()
        self.api_usage: tuple[int, int] | None = None  # last Sforce-Limit-Info: (used, allowed)
        self.http = HttpClient(
            self.config.instance_url,
            vendor="salesforce",
            headers={"Authorization": f"Bearer {token}"},
            secrets=self.secret_values(),
            timeout=self.config.timeout,
            logger=self.log,
            limiter=default_limiter() if self.config.rate_limit else None,
            limit_key=account_key("salesforce", self.config.instance_url, token),
            error_message=_salesforce_message,
            policy=self.outbound,
        )

    @property
    def _data_path(self) -> str:
        return f"/services/data/v{self.config.api_version}"

    def close(self) -> None:
        self.http.close()

    # -- HTTP -----------------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; a 403 REQUEST_LIMIT_EXCEEDED is the org's API allocation, not a permission."""
        response = self.http.request(method, path, allow=(403,), **kwargs)
        self._record_limit_info(response)
        if response.status_code == 403:
            codes = _error_codes(response)
            message = scrub(_salesforce_message(response) or "forbidden", self.secret_values())
            if "REQUEST_LIMIT_EXCEEDED" in codes:
                # The 24-hour allocation is rolling: retry in an hour rather than hammer it.
                raise RateLimited(f"salesforce: {message}", retry_after=3600.0)
            raise AuthError(f"salesforce: {method} {urllib.parse.urlsplit(path).path} -> 403: {message}")
        return response

    def _record_limit_info(self, response: httpx.Response) -> None:
        match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            self.api_usage = (int(match.group(1)), int(match.group(2)))
            self.log.debug("salesforce api usage %s/%s", *self.api_usage)

    def _query(self, statement: str) -> Iterator[dict[str, Any]]:
        """Every record of a SOQL query, following ``nextRecordsUrl`` until ``done``."""

        def fetch(cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
            if cursor is None:
                response = self._request("GET", f"{self._data_path}/query", params={"q": statement})
            else:
                response = self._request("GET", cursor)
            body = self.http.json(response)
            if not isinstance(body, dict) or not isinstance(body.get("records"), list):
                raise TransientError("salesforce: query returned an unexpected body")
            next_url = body.get("nextRecordsUrl")
            if body.get("done", True) or not next_url:
                return body["records"], None
            if not str(next_url).startswith(f"{self._data_path}/query/"):
                raise PermanentError("salesforce: nextRecordsUrl points outside the query resource")
            return body["records"], str(next_url)

        yield from paginate_cursor(fetch, what="salesforce query results")

    def _find(self, spec: SObjectSpec, subject: Subject) -> Iterator[dict[str, Any]]:
        statement = soql.select_where_equals(spec.name, spec.select_fields(), spec.email_field, subject.email)
        for row in self._query(statement):
            value = row.get(spec.email_field)
            # SOQL '=' is already exact and case-insensitive; re-check so nothing else can slip in.
            if isinstance(value, str) and normalise_email(value) == subject.email:
                yield row

    # -- operations -----------------------------------------------------------------------------
    def check(self) -> CheckResult:
        try:
            for spec in self.config.objects:  # the token, the API version and read access to each object
                list(self._query(soql.select_limit(spec.name, spec.select_fields(), 1)))
        except AuthError as exc:
            return CheckResult(ok=False, message=f"Salesforce refused the access token: {exc}")
        except (PermanentError, TransientError) as exc:
            return CheckResult(ok=False, message=f"Salesforce query failed: {exc}")
        usage = f" (API usage {self.api_usage[0]}/{self.api_usage[1]})" if self.api_usage else ""
        return CheckResult(ok=True, message=f"connected to {self.config.instance_url}{usage}")

    def access(self, subject: Subject) -> Iterator[Record]:
        for spec in self.config.objects:
            for row in self._find(spec, subject):
                data = {k: v for k, v in row.items() if k != "attributes"}
                yield Record(category=spec.name, data=data, record_id=str(row.get("Id")))

    def erase(self, subject: Subject) -> ErasureResult:
        targets: list[tuple[str, str]] = []  # (object name, record id)
        for spec in self.config.objects:
            if not spec.erase:
                continue
            for row in self._find(spec, subject):
                record_id = str(row.get("Id", ""))
                if not _RECORD_ID.match(record_id):
                    raise PermanentError(f"salesforce: {spec.name} returned an invalid record id")
                targets.append((spec.name, record_id))
        found = Counter(name for name, _ in targets)
        if not targets:
            return ErasureResult(found=0, erased=0, method=ErasureMethod.NONE)
        if self.dry_run:
            return ErasureResult(
                found=len(targets),
                erased=len(targets),
                method=ErasureMethod.DELETED,
                dry_run=True,
                per_category=dict(found),
                notes=RECYCLE_BIN_NOTE,
            )
        erased: Counter[str] = Counter()
        failures: Counter[str] = Counter()
        for start in range(0, len(targets), MAX_IDS_PER_DELETE):
            batch = targets[start : start + MAX_IDS_PER_DELETE]
            for (name, _id), outcome in zip(batch, self._delete_batch([i for _, i in batch]), strict=True):
                if outcome is None:
                    erased[name] += 1
                else:
                    failures[outcome] += 1
        if failures:
            summary = ", ".join(f"{code} x{n}" for code, n in sorted(failures.items()))
            error = TransientError if set(failures) <= TRANSIENT_RECORD_ERRORS else PermanentError
            raise error(f"salesforce: {sum(failures.values())} of {len(targets)} deletes failed ({summary})")
        return ErasureResult(
            found=len(targets),
            erased=sum(erased.values()),
            method=ErasureMethod.DELETED,
            per_category=dict(erased),
            notes=RECYCLE_BIN_NOTE,
        )

    def _delete_batch(self, ids: list[str]) -> list[str | None]:
        """Delete up to 200 ids; for each id (in order) ``None`` if it is gone, else the error code."""
        response = self._request(
            "DELETE",
            f"{self._data_path}/composite/sobjects",
            params={"ids": ",".join(ids), "allOrNone": "false"},
        )
        results = self.http.json(response)
        if not isinstance(results, list) or len(results) != len(ids):
            raise TransientError("salesforce: composite delete returned an unexpected body")
        outcomes: list[str | None] = []
        for result in results:
            if not isinstance(result, dict):
                raise TransientError("salesforce: composite delete returned an unexpected body")
            if result.get("success"):
                outcomes.append(None)
                continue
            codes = {str(e.get("statusCode")) for e in result.get("errors") or [] if isinstance(e, dict)}
            # Already in the Recycle Bin (a concurrent or earlier delete): the goal is reached.
            outcomes.append(None if codes == {"ENTITY_IS_DELETED"} else ",".join(sorted(codes)) or "UNKNOWN")
        return outcomes
