"""Stripe connector: finds customers by email, exports them with charge and card metadata, deletes them.

Finding a person (README.md explains why both lookups are needed):

1. ``GET /v1/customers?email=<normalised email>`` pages through the strongly consistent list API.
   Its ``email`` filter is a case-sensitive exact match, so it only finds the lower-case form.
2. ``GET /v1/customers/search?query=email:'<email>'`` (exact match in the search language is
   case-insensitive) finds ``Jane.Doe@Example.COM`` too. Search is eventually consistent, so each hit
   not already found by the list is re-read with ``GET /v1/customers/{id}`` (strongly consistent) and
   dropped if it was deleted or its email no longer matches.

Every candidate's email is compared after :func:`connectors.normalise_email`; a ``+tag`` variant or a
longer address never matches. Erasure is ``DELETE /v1/customers/{id}``; the charges stay at Stripe
(reported as retained with their legal basis).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from typing import Any, ClassVar

from pydantic import Field, SecretStr, field_validator

from connectors.base import Capability, Connector, ConnectorConfig
from connectors.errors import AuthError, ConnectorError, PermanentError, TransientError
from connectors.http import HttpClient, paginate_cursor, quote_segment
from connectors.ratelimit import Rate, account_key, default_limiter
from connectors.types import (
    CheckResult,
    ErasureMethod,
    ErasureResult,
    Record,
    Retained,
    Subject,
    normalise_email,
)

# Stripe's documented limits: 25 requests/s per endpoint by default (100/s account-wide in live
# mode) and 20 read requests/s for every search endpoint together.
DEFAULT_RATE = Rate.per(25, 1)
SEARCH_RATE = Rate.per(20, 1)
CHARGES_RETAINED_BASIS = (
    "Stripe keeps charges, invoices and other payment records of deleted customers to meet its legal "
    "and financial obligations (anti-money-laundering, tax, card-network rules); GDPR Art. 17(3)(b)."
)
DELETE_NOTE = (
    "Customer deleted at Stripe: card details removed and subscriptions cancelled; the deleted "
    "customer stays retrievable as a stub and its payment records remain at Stripe."
)
CARD_FIELDS = ("brand", "last4", "exp_month", "exp_year", "country", "funding", "wallet")
CHARGE_FIELDS = (
    "id",
    "amount",
    "currency",
    "created",
    "status",
    "paid",
    "refunded",
    "description",
    "receipt_email",
    "billing_details",
    "statement_descriptor",
)
_ID = re.compile(r"^[A-Za-z]+_[A-Za-z0-9]+$")


class StripeConfig(ConnectorConfig):
    api_key: SecretStr = Field(description="A secret (sk_...) or restricted (rk_...) key")
    base_url: str = "https://api.stripe.com"
    stripe_version: str | None = "2024-06-20"  # pinned: response shapes do not move under us
    search_other_case: bool = True  # also use the search API (unavailable to accounts in India)
    include_charges: bool = True
    include_payment_methods: bool = True
    page_size: int = Field(default=100, ge=1, le=100)
    timeout: float = Field(default=30.0, gt=0, le=300)
    rate_limit: bool = True

    @field_validator("api_key")
    @classmethod
    def _key(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("sk_", "rk_")):
            raise ValueError("must be a secret key (sk_...) or a restricted key (rk_...)")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        parsed = urllib.parse.urlsplit(value.strip())
        local = parsed.hostname in ("127.0.0.1", "localhost", "::1")
        if parsed.scheme != "https" and not (parsed.scheme == "http" and local):
            raise ValueError("must be an https:// URL")
        if not parsed.hostname or parsed.path not in ("", "/") or parsed.query or parsed.username:
            raise ValueError("must be an origin only, e.g. https://api.stripe.com")
        return f"{parsed.scheme}://{parsed.netloc}"


def search_literal(value: str) -> str:
    """``value`` as a quoted string of Stripe's search language (``'`` and ``\\`` escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _card(card: Any) -> dict[str, Any] | None:
    """Card metadata only: brand, last 4 digits, expiry, country. Never a number or fingerprint."""
    if not isinstance(card, dict):
        return None
    return {k: card.get(k) for k in CARD_FIELDS if k in card}


class StripeConnector(Connector):
    key = "stripe"
    label = "Stripe"
    category = "payments"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.ACCESS, Capability.ERASE})
    allowed_hosts: ClassVar[tuple[str, ...]] = ("api.stripe.com",)
    Config = StripeConfig
    config: StripeConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        key = self.config.api_key.get_secret_value()
        headers = {"Authorization": f"Bearer {key}"}
        if self.config.stripe_version:
            headers["Stripe-Version"] = self.config.stripe_version
        self.http = HttpClient(
            self.config.base_url,
            vendor="stripe",
            headers=headers,
            secrets=self.secret_values(),
            timeout=self.config.timeout,
            logger=self.log,
            limiter=default_limiter() if self.config.rate_limit else None,
            limit_key=account_key("stripe", self.config.base_url, key),
            rate=DEFAULT_RATE,
            policy=self.outbound,
        )

    def close(self) -> None:
        self.http.close()

    # -- HTTP helpers -----------------------------------------------------------------------
    def _get(self, path: str, params: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        body = self.http.get_json(path, params=params, **kwargs)
        if not isinstance(body, dict):
            raise TransientError(f"stripe: GET {path} returned an unexpected body")
        return body

    def _list(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every object of a list endpoint, paging with ``starting_after=<last id>``."""

        def fetch(cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
            query = {**params, "limit": self.config.page_size}
            if cursor:
                query["starting_after"] = cursor
            body = self._get(path, query)
            data = body.get("data")
            if body.get("object") != "list" or not isinstance(data, list):
                raise TransientError(f"stripe: GET {path} did not return a list")
            objects = [o for o in data if isinstance(o, dict)]
            if body.get("has_more") and objects:
                return objects, str(objects[-1].get("id"))
            return objects, None

        yield from paginate_cursor(fetch, what=f"stripe {path}")

    def _search(self, email: str) -> Iterator[dict[str, Any]]:
        """Customers whose email equals ``email`` in any case, from the (eventually consistent) index."""
        query = f"email:{search_literal(email)}"

        def fetch(page: str | None) -> tuple[list[dict[str, Any]], str | None]:
            params: dict[str, Any] = {"query": query, "limit": self.config.page_size}
            if page:
                params["page"] = page
            body = self._get("/v1/customers/search", params, rate=SEARCH_RATE, bucket="search")
            data = body.get("data")
            if body.get("object") != "search_result" or not isinstance(data, list):
                raise TransientError("stripe: customer search did not return a search_result")
            next_page = body.get("next_page") if body.get("has_more") else None
            return [o for o in data if isinstance(o, dict)], (str(next_page) if next_page else None)

        yield from paginate_cursor(fetch, what="stripe customer search")

    def _retrieve(self, customer_id: str) -> dict[str, Any] | None:
        """The live customer, or ``None`` if it was deleted or never existed."""
        response = self.http.get(f"/v1/customers/{quote_segment(customer_id)}", allow=(404,))
        if response.status_code == 404:
            return None
        body = self.http.json(response)
        if not isinstance(body, dict) or body.get("deleted"):
            return None
        return body

    # -- finding -----------------------------------------------------------------------------
    def find_customers(self, subject: Subject) -> list[dict[str, Any]]:
        """The live customers whose email is the subject's, in any letter case."""

        def matches(customer: dict[str, Any]) -> bool:
            email = customer.get("email")
            return isinstance(email, str) and normalise_email(email) == subject.email

        found: dict[str, dict[str, Any]] = {}
        for customer in self._list("/v1/customers", {"email": subject.email}):
            if matches(customer) and isinstance(customer.get("id"), str):
                found[customer["id"]] = customer
        if self.config.search_other_case:
            for hit in self._search(subject.email):
                customer_id = hit.get("id")
                if not isinstance(customer_id, str) or customer_id in found or not matches(hit):
                    continue
                # The index lags writes: confirm with a strongly consistent read.
                live = self._retrieve(customer_id)
                if live is not None and matches(live):
                    found[customer_id] = live
        for customer_id in found:
            if not _ID.match(customer_id):
                raise PermanentError("stripe: a customer id has an unexpected format")
        return list(found.values())

    # -- operations --------------------------------------------------------------------------
    def check(self) -> CheckResult:
        try:
            self._get("/v1/customers", {"limit": 1})
        except AuthError as exc:
            return CheckResult(ok=False, message=f"Stripe refused the API key: {exc}")
        except ConnectorError as exc:
            return CheckResult(ok=False, message=f"Stripe is not reachable: {exc}")
        return CheckResult(ok=True, message="the Stripe API key can list customers")

    def access(self, subject: Subject) -> Iterator[Record]:
        for customer in self.find_customers(subject):
            customer_id = str(customer["id"])
            yield Record(category="customer", data=customer, record_id=customer_id)
            if self.config.include_payment_methods:
                for pm in self._list(f"/v1/customers/{quote_segment(customer_id)}/payment_methods", {}):
                    yield Record(
                        category="payment_method", data=self._payment_method(pm), record_id=pm.get("id")
                    )
            if self.config.include_charges:
                for charge in self._list("/v1/charges", {"customer": customer_id}):
                    yield Record(category="charge", data=self._charge(charge), record_id=charge.get("id"))

    @staticmethod
    def _payment_method(pm: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": pm.get("id"),
            "type": pm.get("type"),
            "created": pm.get("created"),
            "billing_details": pm.get("billing_details"),
            "card": _card(pm.get("card")),
        }

    @staticmethod
    def _charge(charge: dict[str, Any]) -> dict[str, Any]:
        data = {k: charge.get(k) for k in CHARGE_FIELDS if k in charge}
        details = charge.get("payment_method_details")
        if isinstance(details, dict):
            data["payment_method_details"] = {"type": details.get("type"), "card": _card(details.get("card"))}
        return data

    def _count_charges(self, customer_id: str) -> int:
        return sum(1 for _ in self._list("/v1/charges", {"customer": customer_id}))

    def erase(self, subject: Subject) -> ErasureResult:
        customers = self.find_customers(subject)
        if not customers:
            return ErasureResult(found=0, erased=0, method=ErasureMethod.NONE)
        charges = sum(self._count_charges(str(c["id"])) for c in customers)
        retained = (
            (Retained(category="charge", count=charges, basis=CHARGES_RETAINED_BASIS),) if charges else ()
        )
        if self.dry_run:
            return ErasureResult(
                found=len(customers),
                erased=len(customers),
                method=ErasureMethod.DELETED,
                retained=retained,
                dry_run=True,
                per_category={"customer": len(customers)},
                notes=DELETE_NOTE,
            )
        erased = 0
        for customer in customers:
            self._delete(str(customer["id"]))
            erased += 1
        return ErasureResult(
            found=len(customers),
            erased=erased,
            method=ErasureMethod.DELETED,
            retained=retained,
            per_category={"customer": erased},
            notes=DELETE_NOTE,
        )

    def _delete(self, customer_id: str) -> None:
        response = self.http.delete(f"/v1/customers/{quote_segment(customer_id)}", allow=(404,))
        if response.status_code == 404:
            # Deleted meanwhile (a concurrent or earlier attempt): the goal is reached.
            self.log.info("stripe customer was already deleted")
            return
        body = self.http.json(response)
        if not isinstance(body, dict) or body.get("deleted") is not True:
            raise TransientError("stripe: DELETE /v1/customers/{id} did not confirm the deletion")
