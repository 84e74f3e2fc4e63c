"""Stripe connector: the conformance kit plus case handling, search lag and retention tests."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors import ConfigError, Subject
from connectors.registry import BUILTINS, validate
from connectors.stripe.connector import StripeConnector, search_literal
from connectors.stripe.fake import FakeStripe, parse_search_query
from connectors.stripe.tests.backend import StripeBackend
from connectors.testing import LOCAL_FAKES
from connectors.testing.server import serve
from connectors.types import ErasureMethod, ErasureResult

JANE = Subject.create(email="jane.doe@example.com")


# -- case handling ---------------------------------------------------------------------------------
def test_list_filter_is_case_sensitive_so_search_finds_the_other_case(
    fake: FakeStripe, backend_: StripeBackend
) -> None:
    lower = fake.add_customer("jane.doe@example.com", description="LOWER")
    upper = fake.add_customer("Jane.Doe@Example.COM", description="UPPER")
    with backend_.make_connector() as stripe:
        customers = stripe.find_customers(JANE)
    assert {c["id"] for c in customers} == {lower, upper}
    listed = fake.requests_to("GET", r"^/v1/customers$")
    assert listed[0].arg("email") == "jane.doe@example.com"
    searched = fake.requests_to("GET", r"^/v1/customers/search$")
    assert searched[0].arg("query") == "email:'jane.doe@example.com'"


def test_without_search_only_the_exact_form_is_found(fake: FakeStripe, backend_: StripeBackend) -> None:
    lower = fake.add_customer("jane.doe@example.com")
    fake.add_customer("Jane.Doe@Example.COM")
    with StripeConnector(backend_.config(search_other_case=False), outbound_allow=LOCAL_FAKES) as stripe:
        assert [c["id"] for c in stripe.find_customers(JANE)] == [lower]
    assert fake.requests_to("GET", r"/search$") == []


def test_decoys_never_match(fake: FakeStripe, backend_: StripeBackend) -> None:
    for email in ("jane.doe+news@example.com", "mary.jane.doe@example.com", "jane.doe@example.net", None):
        fake.add_customer(email, name="Jane Doe")
    with backend_.make_connector() as stripe:
        assert list(stripe.access(JANE)) == []
        assert stripe.erase(JANE) == ErasureResult(found=0, erased=0, method=ErasureMethod.NONE)
    assert len(fake.customers) == 4


def test_stale_search_hit_of_a_deleted_customer_is_ignored(backend_: StripeBackend) -> None:
    lagging = FakeStripe(search_lag=True)
    with serve(lagging):
        backend = StripeBackend(lagging)
        upper = lagging.add_customer("Jane.Doe@Example.COM", description="UPPER")
        lagging.reindex()
        with backend.make_connector() as stripe:
            result = stripe.erase(JANE)
            assert isinstance(result, ErasureResult)
            assert result.erased == 1
            # The index still lists the deleted customer; the consistent re-read drops it.
            assert any(c["id"] == upper for c in lagging._search_index.values())
            assert list(stripe.access(JANE)) == []
            assert stripe.erase(JANE).found == 0
        assert lagging.requests_to("GET", rf"^/v1/customers/{upper}$")


def test_apostrophe_is_escaped_in_the_search_query(fake: FakeStripe, backend_: StripeBackend) -> None:
    assert search_literal("o'brien@example.com") == "'o\\'brien@example.com'"
    assert parse_search_query("email:" + search_literal("a\\'b@x.io")) == "a\\'b@x.io"
    customer = fake.add_customer("O'Brien@Example.com")
    with backend_.make_connector() as stripe:
        assert [c["id"] for c in stripe.find_customers(Subject.create(email="o'brien@example.com"))] == [
            customer
        ]


# -- access content ----------------------------------------------------------------------------------
def test_access_returns_customer_charges_and_card_metadata_only(
    fake: FakeStripe, backend_: StripeBackend
) -> None:
    customer = fake.add_customer("jane.doe@example.com", name="Jane Doe")
    fake.add_charge(customer, amount=4200)
    fake.add_payment_method(customer)
    with backend_.make_connector() as stripe:
        records = list(stripe.access(JANE))
    assert [r.category for r in records] == ["customer", "payment_method", "charge"]
    assert records[0].record_id == customer
    card = records[1].data["card"]
    assert card == {"brand": "mastercard", "last4": "4444", "exp_month": 1, "exp_year": 2031, "country": "FR",
                    "funding": "debit"}  # fmt: skip
    assert records[2].data["amount"] == 4200
    assert records[2].data["payment_method_details"]["card"]["last4"] == "4242"
    assert "fingerprint" not in json.dumps([dict(r.data) for r in records])


# -- erase ----------------------------------------------------------------------------------------------
def test_erase_deletes_customers_and_reports_retained_charges(
    fake: FakeStripe, backend_: StripeBackend
) -> None:
    first = fake.add_customer("jane.doe@example.com")
    second = fake.add_customer("JANE.DOE@example.com")
    fake.add_charge(first)
    fake.add_charge(first)
    fake.add_charge(second)
    with backend_.make_connector() as stripe:
        result = stripe.erase(JANE)
    assert isinstance(result, ErasureResult)
    assert (result.found, result.erased, result.method) == (2, 2, ErasureMethod.DELETED)
    assert [(r.category, r.count) for r in result.retained] == [("charge", 3)]
    assert "Art. 17(3)(b)" in result.retained[0].basis
    assert {r.path for r in fake.requests_to("DELETE", "")} == {
        f"/v1/customers/{first}",
        f"/v1/customers/{second}",
    }
    assert all(not r.body for r in fake.requests_to("DELETE", ""))
    assert set(fake.deleted) == {first, second}
    assert len(fake.charges) == 3  # Stripe keeps payment records


def test_dry_run_reports_without_deleting(fake: FakeStripe, backend_: StripeBackend) -> None:
    fake.add_customer("jane.doe@example.com")
    with backend_.make_connector(dry_run=True) as stripe:
        result = stripe.erase(JANE)
    assert isinstance(result, ErasureResult)
    assert result.dry_run
    assert result.erased == 1
    assert fake.requests_to("DELETE", "") == []
    assert len(fake.customers) == 1


def test_customer_deleted_concurrently_is_not_an_error(fake: FakeStripe, backend_: StripeBackend) -> None:
    customer = fake.add_customer("jane.doe@example.com")
    with backend_.make_connector() as stripe:
        fake.customers.pop(customer)  # gone before our DELETE
        stripe._delete(customer)


# -- wire format and config ------------------------------------------------------------------------------
def test_requests_use_bearer_auth_and_pinned_version(fake: FakeStripe, backend_: StripeBackend) -> None:
    with backend_.make_connector() as stripe:
        list(stripe.access(JANE))
    for request in fake.requests:
        assert request.header("authorization") == f"Bearer {fake.key}"
        assert request.header("stripe-version") == "2024-06-20"
        assert request.arg("limit") == "2"


@pytest.mark.parametrize(
    "overrides",
    [
        {"api_key": "pk_test_publishable"},
        {"page_size": 101},
        {"base_url": "http://api.stripe.com"},
        {"base_url": "https://api.stripe.com/v1"},
    ],
)
def test_config_is_validated(backend_: StripeBackend, overrides: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        StripeConnector(backend_.config(**overrides), outbound_allow=LOCAL_FAKES)


def test_registered_as_a_builtin() -> None:
    assert BUILTINS["stripe"] == "connectors.stripe.connector:StripeConnector"
    assert validate(StripeConnector) == []
