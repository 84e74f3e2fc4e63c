"""The Stripe fake reproduces the documented wire behaviour the connector depends on."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from connectors.stripe.fake import FakeStripe
from connectors.testing.server import serve


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    server = FakeStripe()
    with serve(server):
        yield server


@pytest.fixture
def client(fake: FakeStripe) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, headers={"Authorization": f"Bearer {fake.key}"}, timeout=5) as c:
        yield c


def test_unauthenticated_request_gets_stripe_401_with_a_masked_key(fake: FakeStripe) -> None:
    response = httpx.get(f"{fake.url}/v1/customers", headers={"Authorization": "Bearer sk_test_nope"})
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("Invalid API Key provided: sk_test_****")
    assert fake.key not in response.text


def test_basic_auth_with_the_key_as_user_is_accepted(fake: FakeStripe) -> None:
    assert httpx.get(f"{fake.url}/v1/customers", auth=(fake.key, "")).status_code == 200


def test_list_email_filter_is_case_sensitive_and_paged(fake: FakeStripe, client: httpx.Client) -> None:
    ids = [fake.add_customer("a@example.com") for _ in range(3)]
    fake.add_customer("A@example.com")
    page = client.get("/v1/customers", params={"email": "a@example.com", "limit": 2}).json()
    assert (page["object"], page["url"], page["has_more"]) == ("list", "/v1/customers", True)
    assert [c["id"] for c in page["data"]] == [ids[2], ids[1]]  # newest first
    rest = client.get("/v1/customers", params={"email": "a@example.com", "starting_after": ids[1]}).json()
    assert [c["id"] for c in rest["data"]] == [ids[0]]
    assert rest["has_more"] is False


def test_limit_out_of_range_is_a_parameter_error(client: httpx.Client) -> None:
    response = client.get("/v1/customers", params={"limit": 101})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "limit"


def test_search_is_case_insensitive_and_returns_a_search_result(
    fake: FakeStripe, client: httpx.Client
) -> None:
    fake.add_customer("Mixed@Example.com")
    fake.add_customer("mixed+x@example.com")
    body = client.get("/v1/customers/search", params={"query": "email:'mixed@example.com'"}).json()
    assert body["object"] == "search_result"
    assert body["next_page"] is None
    assert [c["email"] for c in body["data"]] == ["Mixed@Example.com"]
    bad = client.get("/v1/customers/search", params={"query": "name~'x'"})
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "query"


def test_delete_then_retrieve_gives_a_stub_and_a_second_delete_404s(
    fake: FakeStripe, client: httpx.Client
) -> None:
    customer = fake.add_customer("gone@example.com")
    assert client.delete(f"/v1/customers/{customer}").json() == {
        "id": customer,
        "object": "customer",
        "deleted": True,
    }
    assert client.get(f"/v1/customers/{customer}").json() == {
        "id": customer,
        "object": "customer",
        "deleted": True,
    }
    again = client.delete(f"/v1/customers/{customer}")
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "resource_missing"


def test_json_bodies_are_refused(fake: FakeStripe, client: httpx.Client) -> None:
    customer = fake.add_customer("x@example.com")
    response = client.request("DELETE", f"/v1/customers/{customer}", json={"a": 1})
    assert response.status_code == 400
    assert customer in fake.customers
