"""The Salesforce fake reproduces the documented wire behaviour the connector depends on."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from connectors.salesforce.fake import FakeSalesforce
from connectors.testing.server import serve

QUERY = "/services/data/v62.0/query"
DELETE = "/services/data/v62.0/composite/sobjects"


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    server = FakeSalesforce(page_size=2)
    with serve(server):
        yield server


@pytest.fixture
def client(fake: FakeSalesforce) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, headers={"Authorization": f"Bearer {fake.token}"}, timeout=5) as c:
        yield c


def test_bad_token_gets_invalid_session_id(fake: FakeSalesforce) -> None:
    response = httpx.get(f"{fake.url}{QUERY}", params={"q": "SELECT Id FROM Contact WHERE Email = 'a'"})
    assert response.status_code == 401
    assert response.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FROM Contact WHERE Email = 'x'); DROP--'", "MALFORMED_QUERY"),
        ("SELECT Id FROM Contact WHERE Email = 'unterminated", "MALFORMED_QUERY"),
        ("SELECT Id FROM Contact WHERE Email = 'a' OR Id != null", "MALFORMED_QUERY"),
        ("SELECT Password FROM Contact WHERE Email = 'a'", "INVALID_FIELD"),
        ("SELECT Id FROM User WHERE Email = 'a'", "INVALID_TYPE"),
    ],
)
def test_query_errors(client: httpx.Client, soql: str, code: str) -> None:
    response = client.get(QUERY, params={"q": soql})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == code


def test_query_pages_carry_limit_info(fake: FakeSalesforce, client: httpx.Client) -> None:
    for i in range(3):
        fake.add("Contact", Email="Q@example.com", LastName=f"Q{i}")
    first = client.get(QUERY, params={"q": "SELECT Id, Email FROM Contact WHERE Email = 'q@example.com'"})
    body = first.json()
    assert (body["totalSize"], body["done"], len(body["records"])) == (3, False, 2)
    assert body["records"][0]["attributes"]["type"] == "Contact"
    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/15000"
    rest = client.get(body["nextRecordsUrl"]).json()
    assert rest["done"] is True
    assert "nextRecordsUrl" not in rest
    assert len(rest["records"]) == 1


def test_composite_delete_results_in_order_and_limits(fake: FakeSalesforce, client: httpx.Client) -> None:
    live = fake.add("Contact", Email="d@example.com", LastName="D")
    gone = fake.add("Lead", Email="d@example.com", LastName="G")
    fake.records[gone].deleted = True
    results = client.delete(DELETE, params={"ids": f"{live},{gone},bad!", "allOrNone": "false"}).json()
    assert results[0] == {"id": live, "success": True, "errors": []}
    assert [r["errors"][0]["statusCode"] for r in results[1:]] == ["ENTITY_IS_DELETED", "MALFORMED_ID"]
    too_many = client.delete(DELETE, params={"ids": ",".join([live] * 201)})
    assert too_many.status_code == 400
    assert too_many.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_all_or_none_rolls_back(fake: FakeSalesforce, client: httpx.Client) -> None:
    live = fake.add("Contact", Email="r@example.com", LastName="R")
    results = client.delete(DELETE, params={"ids": f"{live},003Fk9999999999AAA", "allOrNone": "true"}).json()
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert not fake.records[live].deleted
