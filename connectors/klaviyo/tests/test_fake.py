"""The Klaviyo fake reproduces the documented wire behaviour the connector depends on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.klaviyo.fake import FakeKlaviyo
from connectors.testing.server import serve


@pytest.fixture
def fake() -> Iterator[FakeKlaviyo]:
    server = FakeKlaviyo(job_steps=2)
    with serve(server):
        yield server


@pytest.fixture
def client(fake: FakeKlaviyo) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Klaviyo-API-Key {fake.key}", "revision": "2024-10-15"}
    with httpx.Client(base_url=fake.url, headers=headers, timeout=5) as c:
        yield c


def job(attributes: dict[str, Any], profile_id: str | None = None) -> dict[str, Any]:
    profile: dict[str, Any] = {"type": "profile", "attributes": attributes}
    if profile_id:
        profile["id"] = profile_id
    return {"data": {"type": "data-privacy-deletion-job", "attributes": {"profile": {"data": profile}}}}


JSONAPI = {"Content-Type": "application/vnd.api+json"}


def test_errors_are_json_api(fake: FakeKlaviyo) -> None:
    response = httpx.get(f"{fake.url}/api/profiles", headers={"revision": "2024-10-15"})
    assert response.status_code == 401
    (error,) = response.json()["errors"]
    assert set(error) >= {"id", "code", "title", "detail"}
    assert error["code"] == "not_authenticated"


def test_revision_header_is_required(fake: FakeKlaviyo) -> None:
    response = httpx.get(f"{fake.url}/api/profiles", headers={"Authorization": f"Klaviyo-API-Key {fake.key}"})
    assert response.status_code == 400


def test_profiles_collection_has_the_documented_shape(fake: FakeKlaviyo, client: httpx.Client) -> None:
    for _ in range(3):
        fake.add_profile("Pat@Example.com", first_name="Pat")
    fake.add_profile("pat+1@example.com")
    first = client.get("/api/profiles", params={"filter": 'equals(email,"pat@example.com")', "page[size]": 2})
    assert first.headers["content-type"] == "application/vnd.api+json"
    body = first.json()
    assert body["links"]["self"]
    assert body["links"]["next"].startswith(fake.url)
    for resource in body["data"]:  # GetProfileResponseCollectionCompoundDocument (required keys)
        assert resource["type"] == "profile"
        assert resource["id"]
        assert resource["links"]["self"]
        assert resource["attributes"]["email"] == "Pat@Example.com"
    second = client.get(body["links"]["next"]).json()
    assert len(second["data"]) == 1
    assert second["links"]["next"] is None


def test_invalid_filter_and_page_size_are_400(client: httpx.Client) -> None:
    assert client.get("/api/profiles", params={"filter": "contains(email,'x')"}).status_code == 400
    assert client.get("/api/profiles", params={"page[size]": 101}).status_code == 400


def test_deletion_job_is_202_without_body_and_runs_later(fake: FakeKlaviyo, client: httpx.Client) -> None:
    fake.add_profile("del@example.com")
    fake.add_profile("DEL@example.com")
    keep = fake.add_profile("del@example.org")
    response = client.post(
        "/api/data-privacy-deletion-jobs", json=job({"email": "del@example.com"}), headers=JSONAPI
    )
    assert response.status_code == 202
    assert response.content == b""
    assert len(fake.profiles) == 3
    fake.advance()
    assert len(fake.profiles) == 3
    fake.advance()
    assert list(fake.profiles) == [keep]
    assert len(fake.deleted_profiles) == 2


def test_deletion_job_needs_exactly_one_identifier(fake: FakeKlaviyo, client: httpx.Client) -> None:
    two = job({"email": "a@example.com", "phone_number": "+15005550006"})
    assert client.post("/api/data-privacy-deletion-jobs", json=two, headers=JSONAPI).status_code == 400
    none = job({})
    assert client.post("/api/data-privacy-deletion-jobs", json=none, headers=JSONAPI).status_code == 400
    by_id = job({}, profile_id="01ABC")
    assert client.post("/api/data-privacy-deletion-jobs", json=by_id, headers=JSONAPI).status_code == 202
    assert [(j.kind, j.value) for j in fake.jobs] == [("id", "01ABC")]
