"""Mailchimp-specific behaviour beyond the conformance kit."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest

from connectors import registry
from connectors.errors import ConfigError
from connectors.mailchimp import MailchimpConfig, MailchimpConnector, subscriber_hash
from connectors.mailchimp.fake import FakeMailchimp
from connectors.mailchimp.tests.backend import GOOD_KEY, MailchimpBackend
from connectors.ratelimit import MemoryRateLimiter, set_default_limiter
from connectors.testing import LOCAL_FAKES, STANDARD
from connectors.types import ErasureResult, Subject


@pytest.fixture(autouse=True)
def _fresh_limiter() -> Iterator[None]:
    previous = set_default_limiter(MemoryRateLimiter())
    yield
    set_default_limiter(previous)


def test_registered() -> None:
    assert registry.get("mailchimp") is MailchimpConnector
    assert registry.validate(MailchimpConnector) == []
    assert MailchimpConnector.Config.secret_fields() == ["api_key"]


def test_subscriber_hash_is_md5_of_lowercased_email() -> None:
    expected = hashlib.md5(b"jane.doe@example.com", usedforsecurity=False).hexdigest()
    assert subscriber_hash("Jane.Doe@Example.COM ") == expected


def test_api_root_from_key_prefix_or_base_url() -> None:
    assert MailchimpConfig(api_key="abc-us6").api_root() == "https://us6.api.mailchimp.com/3.0"  # type: ignore[arg-type]
    assert (
        MailchimpConfig(api_key="abc", server_prefix="eu1").api_root()  # type: ignore[arg-type]
        == "https://eu1.api.mailchimp.com/3.0"
    )


@pytest.mark.parametrize(
    "config",
    [
        {"api_key": "no-dc-suffix-here!"},
        {"api_key": "abc"},
        {"api_key": "abc-us6", "server_prefix": "us6.evil.example"},
        {"api_key": "abc-us6", "base_url": "http://us6.api.mailchimp.com/3.0"},
    ],
)
def test_bad_config_is_refused(config: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        MailchimpConnector(config, outbound_allow=LOCAL_FAKES)


def test_lookup_by_hash_on_every_list(
    mailchimp_backend: MailchimpBackend, mailchimp_fake: FakeMailchimp
) -> None:
    mailchimp_backend.seed_standard_dataset()
    with mailchimp_backend.make_connector() as connector:
        records = list(connector.access(STANDARD.target))
    assert {r.data["list_name"] for r in records} == {"Newsletter", "Customers"}
    wanted = subscriber_hash(STANDARD.target.email)
    member_gets = mailchimp_fake.requests_to("GET", r"/members/")
    assert {r.path.rsplit("/", 1)[1] for r in member_gets} == {wanted}
    assert all(r.headers["authorization"].startswith("Basic ") for r in mailchimp_fake.requests)
    assert all("_links" not in r.data for r in records)


def test_archived_member_is_found_and_permanently_deleted(
    mailchimp_backend: MailchimpBackend, mailchimp_fake: FakeMailchimp
) -> None:
    mailchimp_fake.add_member(
        mailchimp_backend.newsletter.id, "old@example.com", status="archived", FNAME="Old"
    )
    subject = Subject.create(email="old@example.com")
    with mailchimp_backend.make_connector() as connector:
        [record] = list(connector.access(subject))
        assert record.data["status"] == "archived"
        result = connector.erase(subject)
    assert isinstance(result, ErasureResult)
    assert result.erased == 1
    assert mailchimp_fake.members_with_email("old@example.com") == []
    assert not mailchimp_fake.requests_to("DELETE", r".")  # archive (DELETE) is never used
    assert len(mailchimp_fake.requests_to("POST", r"/actions/delete-permanent$")) == 1


def test_erased_address_cannot_be_reimported(
    mailchimp_backend: MailchimpBackend, mailchimp_fake: FakeMailchimp
) -> None:
    mailchimp_backend.seed_standard_dataset()
    with mailchimp_backend.make_connector() as connector:
        connector.erase(STANDARD.target)
    response = httpx.post(
        f"{mailchimp_fake.url}/3.0/lists/{mailchimp_backend.newsletter.id}/members",
        json={"email_address": "jane.doe@example.com", "status": "subscribed"},
        auth=("any", GOOD_KEY),
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "permanently deleted" in response.json()["detail"]


def test_key_for_another_data_center_fails_check(mailchimp_backend: MailchimpBackend) -> None:
    with MailchimpConnector(
        mailchimp_backend.config(GOOD_KEY.replace("-us6", "-us9")), outbound_allow=LOCAL_FAKES
    ) as connector:
        result = connector.check()
    assert not result.ok
    assert "401" in result.message


def test_subscriber_hash_stays_out_of_logs(
    mailchimp_backend: MailchimpBackend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    mailchimp_backend.seed_standard_dataset()
    with mailchimp_backend.make_connector() as connector:
        list(connector.access(STANDARD.target))
        connector.erase(STANDARD.target)
    assert "members/{subscriber_hash}" in caplog.text
    assert subscriber_hash(STANDARD.target.email) not in caplog.text
    assert STANDARD.target.email not in caplog.text
