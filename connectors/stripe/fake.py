"""A fake Stripe API (customers, customer search, charges, payment methods) on 127.0.0.1.

Reproduces what the Stripe connector relies on, from docs.stripe.com/api and ``stripe/openapi``:

- Auth: ``Authorization: Bearer sk_...`` (or Basic with the key as user name). Anything else is 401
  ``{"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_****abcd"}}``.
- Errors: ``{"error": {"type", "code", "message", "param"}}``; unknown ids are 404 ``resource_missing``.
- ``GET /v1/customers?email=&limit=&starting_after=``: ``{object: "list", url, has_more, data}``, newest
  first. The ``email`` filter is a **case-sensitive exact match** (Stripe documents it so); ``limit``
  must be 1..100.
- ``GET /v1/customers/search?query=email:'...'&limit=&page=``: ``{object: "search_result", url,
  has_more, next_page, data}``. Exact matches in the search language are case-insensitive; quotes in
  a value are escaped with a backslash. The search index can lag writes: with ``search_lag=True`` it
  only changes on :meth:`FakeStripe.reindex` (Stripe: "normally under a minute").
- ``GET /v1/customers/{id}``: the customer, or ``{id, object: "customer", deleted: true}`` once deleted
  (deleted customers stay retrievable).
- ``DELETE /v1/customers/{id}``: ``{id, object: "customer", deleted: true}``; a second delete is 404.
  Charges stay (Stripe keeps payment records); payment methods are detached.
- ``GET /v1/charges?customer=`` and ``GET /v1/customers/{id}/payment_methods``: lists as above.
- Request bodies, when any, must be form-encoded (Stripe refuses JSON).
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable
from typing import Any

from connectors.testing.server import FakeServer, Request, Response, json_response

DEFAULT_KEY = "sk_test_FakeStripeSecretKey0123456789"


def stripe_error(
    status: int, message: str, *, code: str | None = None, param: str | None = None, type_: str | None = None
) -> Response:
    if type_ is None:
        type_ = "api_error" if status >= 500 else "invalid_request_error"
    if code is None and status == 429:
        code = "rate_limit"
    error: dict[str, Any] = {"type": type_, "message": message}
    if code:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param:
        error["param"] = param
    return json_response({"error": error}, status=status)


def _auth(key: str) -> Callable[[Request], bool]:
    def check(req: Request) -> bool:
        value = req.header("authorization") or ""
        scheme, _, credential = value.partition(" ")
        if scheme.lower() == "bearer":
            return credential == key
        if scheme.lower() == "basic":
            try:
                user, _, _ = base64.b64decode(credential).decode().partition(":")
            except ValueError:
                return False
            return user == key
        return False

    return check


def parse_search_query(query: str) -> str:
    """The value of ``email:'...'`` / ``email:"..."`` (backslash escapes); ValueError otherwise."""
    field, sep, rest = query.strip().partition(":")
    if field.strip() != "email" or not sep or len(rest) < 2 or rest[0] not in "'\"":
        raise ValueError("only email:'<value>' queries are supported by this fake")
    quote = rest[0]
    out = []
    i = 1
    while i < len(rest):
        ch = rest[i]
        if ch == "\\" and i + 1 < len(rest):
            out.append(rest[i + 1])
            i += 2
            continue
        if ch == quote:
            if rest[i + 1 :].strip():
                raise ValueError("unexpected text after the value")
            return "".join(out)
        out.append(ch)
        i += 1
    raise ValueError("unterminated string value")


class FakeStripe(FakeServer):
    """The fake account. Seed with :meth:`add_customer` / :meth:`add_charge` / :meth:`add_payment_method`."""

    def __init__(
        self, *, key: str = DEFAULT_KEY, search_lag: bool = False, timeout_delay: float = 1.5
    ) -> None:
        super().__init__(
            auth=_auth(key), error_body=self._error_body, timeout_delay=timeout_delay, name="stripe"
        )
        self.key = key
        self.search_lag = search_lag
        self.customers: dict[str, dict[str, Any]] = {}  # live customers, in creation order
        self.deleted: dict[str, dict[str, Any]] = {}  # deleted customers (still retrievable as stubs)
        self.charges: dict[str, dict[str, Any]] = {}
        self.payment_methods: dict[str, dict[str, Any]] = {}
        self._search_index: dict[str, dict[str, Any]] = {}
        self._search_pages: dict[str, int] = {}
        self._seq = itertools.count(1)
        self._created = itertools.count(1_700_000_000)
        self.add_route("GET", "/v1/customers", self._list_customers)
        self.add_route("GET", "/v1/customers/search", self._search_customers)
        self.add_route("GET", "/v1/customers/{id}", self._retrieve_customer)
        self.add_route("DELETE", "/v1/customers/{id}", self._delete_customer)
        self.add_route("GET", "/v1/customers/{id}/payment_methods", self._list_payment_methods)
        self.add_route("GET", "/v1/charges", self._list_charges)

    # -- seeding ---------------------------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        return f"{prefix}_Fk{next(self._seq):012d}"

    def add_customer(self, email: str | None, *, name: str | None = None, **extra: Any) -> str:
        customer_id = self._id("cus")
        customer: dict[str, Any] = {
            "id": customer_id,
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": next(self._created),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": None,
            "discount": None,
            "email": email,
            "invoice_prefix": customer_id[-8:].upper(),
            "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None},
            "livemode": False,
            "metadata": {},
            "name": name,
            "phone": None,
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
        customer.update(extra)
        self.customers[customer_id] = customer
        if not self.search_lag:
            self.reindex()
        return customer_id

    def add_charge(self, customer_id: str, *, amount: int = 1000, currency: str = "eur") -> str:
        customer = self.customers[customer_id]
        charge_id = self._id("ch")
        self.charges[charge_id] = {
            "id": charge_id,
            "object": "charge",
            "amount": amount,
            "currency": currency,
            "created": next(self._created),
            "customer": customer_id,
            "description": None,
            "paid": True,
            "status": "succeeded",
            "receipt_email": customer["email"],
            "billing_details": {
                "email": customer["email"],
                "name": customer["name"],
                "phone": None,
                "address": None,
            },
            "payment_method_details": {
                "type": "card",
                "card": {
                    "brand": "visa",
                    "last4": "4242",
                    "exp_month": 12,
                    "exp_year": 2030,
                    "country": "DE",
                    "funding": "credit",
                    "fingerprint": "FkFingerprint123",
                },
            },
        }
        return charge_id

    def add_payment_method(self, customer_id: str) -> str:
        customer = self.customers[customer_id]
        pm_id = self._id("pm")
        self.payment_methods[pm_id] = {
            "id": pm_id,
            "object": "payment_method",
            "created": next(self._created),
            "customer": customer_id,
            "type": "card",
            "billing_details": {
                "email": customer["email"],
                "name": customer["name"],
                "phone": None,
                "address": None,
            },
            "card": {
                "brand": "mastercard",
                "last4": "4444",
                "exp_month": 1,
                "exp_year": 2031,
                "country": "FR",
                "funding": "debit",
                "fingerprint": "FkFingerprint456",
            },
            "livemode": False,
            "metadata": {},
        }
        return pm_id

    def reindex(self) -> None:
        """Bring the search index up to date with the customers (immediate unless ``search_lag``)."""
        self._search_index = {k: dict(v) for k, v in self.customers.items()}

    # -- helpers -----------------------------------------------------------------------------------
    def _error_body(self, status: int, message: str) -> Response:
        if status == 401:
            masked = "sk_test_****" + self.key[-4:]
            message = f"Invalid API Key provided: {masked}"
        return stripe_error(status, message)

    @staticmethod
    def _limit(req: Request, default: int = 10) -> int | Response:
        raw = req.arg("limit")
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            return stripe_error(
                400, "Invalid integer: " + raw, code="parameter_invalid_integer", param="limit"
            )
        if not 1 <= value <= 100:
            return stripe_error(
                400, "This value must be between 1 and 100.", code="parameter_invalid_integer", param="limit"
            )
        return value

    def _page(self, req: Request, items: list[dict[str, Any]], url: str) -> Response:
        limit = self._limit(req)
        if isinstance(limit, Response):
            return limit
        items = sorted(items, key=lambda o: (o["created"], o["id"]), reverse=True)  # newest first
        start = 0
        after = req.arg("starting_after")
        if after:
            ids = [o["id"] for o in items]
            if after not in ids:
                return stripe_error(
                    400, f"No such object: '{after}'", code="resource_missing", param="starting_after"
                )
            start = ids.index(after) + 1
            if self.take_flag("repeated_cursor"):
                # A broken vendor: the page that ends with the cursor comes back again, so the
                # client's next cursor is the one it just used.
                return json_response(
                    {
                        "object": "list",
                        "url": url,
                        "has_more": True,
                        "data": items[max(0, start - limit) : start],
                    }
                )
        page = items[start : start + limit]
        return json_response(
            {"object": "list", "url": url, "has_more": start + limit < len(items), "data": page}
        )

    def _check_body(self, req: Request) -> Response | None:
        if req.body and "application/x-www-form-urlencoded" not in (req.header("content-type") or ""):
            return stripe_error(400, "Invalid request: Stripe expects form-encoded bodies")
        return None

    # -- routes ------------------------------------------------------------------------------------
    def _list_customers(self, req: Request) -> Response:
        email = req.arg("email")
        items = [c for c in self.customers.values() if email is None or c["email"] == email]  # case-sensitive
        return self._page(req, items, "/v1/customers")

    def _search_customers(self, req: Request) -> Response:
        query = req.arg("query")
        if not query:
            return stripe_error(
                400, "Missing required param: query.", code="parameter_missing", param="query"
            )
        try:
            value = parse_search_query(query)
        except ValueError as exc:
            return stripe_error(400, f"Invalid query: {exc}", code="parameter_invalid_string", param="query")
        limit = self._limit(req)
        if isinstance(limit, Response):
            return limit
        hits = sorted(
            (c for c in self._search_index.values() if (c["email"] or "").lower() == value.lower()),
            key=lambda o: (o["created"], o["id"]),
            reverse=True,
        )
        offset = 0
        page_token = req.arg("page")
        if page_token:
            if page_token not in self._search_pages:
                return stripe_error(400, "Invalid page token.", code="parameter_invalid_string", param="page")
            offset = self._search_pages[page_token]
        page = hits[offset : offset + limit]
        has_more = offset + limit < len(hits)
        next_page = None
        if has_more:
            next_page = (
                "page_" + base64.urlsafe_b64encode(json.dumps([value, offset + limit]).encode()).decode()
            )
            self._search_pages[next_page] = offset + limit
        return json_response(
            {
                "object": "search_result",
                "url": "/v1/customers/search",
                "has_more": has_more,
                "next_page": next_page,
                "data": page,
            }
        )

    def _retrieve_customer(self, req: Request) -> Response:
        customer_id = req.params["id"]
        if customer_id in self.customers:
            return json_response(self.customers[customer_id])
        if customer_id in self.deleted:
            return json_response({"id": customer_id, "object": "customer", "deleted": True})
        return stripe_error(404, f"No such customer: '{customer_id}'", code="resource_missing", param="id")

    def _delete_customer(self, req: Request) -> Response:
        bad = self._check_body(req)
        if bad:
            return bad
        customer_id = req.params["id"]
        customer = self.customers.pop(customer_id, None)
        if customer is None:
            return stripe_error(
                404, f"No such customer: '{customer_id}'", code="resource_missing", param="id"
            )
        self.deleted[customer_id] = customer
        for pm in self.payment_methods.values():
            if pm["customer"] == customer_id:
                pm["customer"] = None
        if not self.search_lag:
            self.reindex()
        return json_response({"id": customer_id, "object": "customer", "deleted": True})

    def _list_payment_methods(self, req: Request) -> Response:
        customer_id = req.params["id"]
        if customer_id not in self.customers:
            return stripe_error(
                404, f"No such customer: '{customer_id}'", code="resource_missing", param="customer"
            )
        items = [pm for pm in self.payment_methods.values() if pm["customer"] == customer_id]
        return self._page(req, items, f"/v1/customers/{customer_id}/payment_methods")

    def _list_charges(self, req: Request) -> Response:
        customer_id = req.arg("customer")
        items = [c for c in self.charges.values() if customer_id is None or c["customer"] == customer_id]
        return self._page(req, items, "/v1/charges")
