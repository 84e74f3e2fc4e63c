"""HubSpot-specific behaviour beyond the conformance kit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors import registry
from connectors.errors import AuthError, ConfigError, RateLimited
from connectors.hubspot import HubSpotConnector
from connectors.hubspot.fake import FakeHubSpot
from connectors.hubspot.tests.backend import GOOD_TOKEN, READ_ONLY_TOKEN, HubSpotBackend
from connectors.ratelimit import MemoryRateLimiter, set_default_limiter
from connectors.testing import LOCAL_FAKES, STANDARD
from connectors.testing.server import Fault, serve
from connectors.types import ErasureResult, Subject


@pytest.fixture(autouse=True)
def _fresh_limiter() -> Iterator[None]:
    previous = set_default_limiter(MemoryRateLimiter())
    yield
    set_default_limiter(previous)


def test_registered() -> None:
    assert registry.get("hubspot") is HubSpotConnector
    assert registry.validate(HubSpotConnector) == []
    assert HubSpotConnector.Config.secret_fields() == ["access_token"]


def test_search_request_shape(hubspot_backend: HubSpotBackend, hubspot_fake: FakeHubSpot) -> None:
    hubspot_backend.seed_standard_dataset()
    with hubspot_backend.make_connector() as connector:
        list(connector.access(STANDARD.target))
    searches = hubspot_fake.requests_to("POST", r"/crm/v3/objects/contacts/search$")
    assert searches
    body = searches[0].json()
    assert body["filterGroups"][0] == {
        "filters": [{"propertyName": "email", "operator": "EQ", "value": "jane.doe@example.com"}]
    }
    assert body["limit"] == 2
    assert "company" in body["properties"]  # properties=None requests every portal property
    assert searches[0].headers["authorization"] == f"Bearer {GOOD_TOKEN}"


def test_explicit_properties(hubspot_backend: HubSpotBackend, hubspot_fake: FakeHubSpot) -> None:
    hubspot_backend.seed_standard_dataset()
    config = hubspot_backend.config(properties=["firstname"])
    with HubSpotConnector(config, outbound_allow=LOCAL_FAKES) as connector:
        records = list(connector.access(STANDARD.target))
    assert records
    assert all("company" not in r.data["properties"] for r in records)
    assert not hubspot_fake.requests_to("GET", r"/crm/v3/properties/contacts")


def test_erase_deletes_by_object_id_never_by_email(
    hubspot_backend: HubSpotBackend, hubspot_fake: FakeHubSpot
) -> None:
    hubspot_backend.seed_standard_dataset()
    with hubspot_backend.make_connector() as connector:
        result = connector.erase(STANDARD.target)
        absent = connector.erase(STANDARD.absent)
    assert isinstance(result, ErasureResult)
    assert result.erased == 2
    assert isinstance(absent, ErasureResult)
    assert absent.found == 0
    deletes = hubspot_fake.requests_to("POST", r"/gdpr-delete$")
    assert len(deletes) == 2
    assert all(set(d.json()) == {"objectId"} and d.json()["objectId"].isdigit() for d in deletes)
    assert hubspot_fake.state.blocklist == set()  # no address was blocklisted as a side effect


def test_additional_emails_match_exactly(hubspot_backend: HubSpotBackend, hubspot_fake: FakeHubSpot) -> None:
    merged = hubspot_fake.add_contact(email="j.d@corp.example", hs_additional_emails="Jane.Doe@Example.com")
    hubspot_fake.add_contact(
        email="x@corp.example", hs_additional_emails="jane.doe+news@example.com;a@b.example"
    )
    with hubspot_backend.make_connector() as connector:
        records = list(connector.access(Subject.create(email="jane.doe@example.com")))
    assert [r.record_id for r in records] == [merged.id]
    with HubSpotConnector(
        hubspot_backend.config(match_additional_emails=False), outbound_allow=LOCAL_FAKES
    ) as connector:
        assert list(connector.access(Subject.create(email="jane.doe@example.com"))) == []


def test_search_lag_makes_second_erase_harmless() -> None:
    with serve(FakeHubSpot(GOOD_TOKEN, search_lag=5)) as fake:
        backend = HubSpotBackend(fake)
        backend.seed_standard_dataset()
        with backend.make_connector() as connector:
            first = connector.erase(STANDARD.target)
            second = connector.erase(STANDARD.target)  # search still shows the deleted contacts
        assert isinstance(first, ErasureResult)
        assert first.erased == 2
        assert isinstance(second, ErasureResult)
        assert second.erased == 0
        assert fake.contacts_with_email(STANDARD.target.email) == []


def test_read_only_token_cannot_erase(hubspot_backend: HubSpotBackend, hubspot_fake: FakeHubSpot) -> None:
    hubspot_backend.seed_standard_dataset()
    with HubSpotConnector(hubspot_backend.config(READ_ONLY_TOKEN), outbound_allow=LOCAL_FAKES) as connector:
        assert connector.check().ok
        assert len(list(connector.access(STANDARD.target))) == 2
        with pytest.raises(AuthError, match="scopes"):
            connector.erase(STANDARD.target)
    assert len(hubspot_fake.contacts_with_email(STANDARD.target.email)) == 2


def test_429_without_retry_after_uses_hubspot_headers(
    hubspot_backend: HubSpotBackend, hubspot_fake: FakeHubSpot
) -> None:
    hubspot_fake.inject(Fault.rate_limited(None, path="/crm/v3/objects/contacts$"))
    with hubspot_backend.make_connector() as connector:
        result = connector.check()
    assert not result.ok
    hubspot_fake.inject(
        Fault(
            name="rate_limited",
            status=429,
            headers={"X-HubSpot-RateLimit-Interval-Milliseconds": "10000"},
            message="You have reached your secondly limit.",
        )
    )
    set_default_limiter(MemoryRateLimiter())
    with hubspot_backend.make_connector() as connector, pytest.raises(RateLimited) as info:
        list(connector.access(STANDARD.target))
    assert info.value.retry_after == 10.0


@pytest.mark.parametrize(
    "base_url", ["http://api.hubapi.com", "https://user:pw@api.hubapi.com", "ftp://api.hubapi.com"]
)
def test_base_url_is_validated(base_url: str) -> None:
    with pytest.raises(ConfigError):
        HubSpotConnector({"access_token": "x", "base_url": base_url}, outbound_allow=LOCAL_FAKES)


def test_unknown_config_key_is_refused() -> None:
    with pytest.raises(ConfigError):
        HubSpotConnector({"access_token": "x", "acces_token": "typo"}, outbound_allow=LOCAL_FAKES)
