"""Mailchimp opt-out: every membership of the subject is set to ``unsubscribed`` (and kept)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from connectors import Capability, registry
from connectors.base import Connector
from connectors.mailchimp import MailchimpConnector, subscriber_hash
from connectors.mailchimp.fake import FakeMailchimp
from connectors.mailchimp.tests.backend import GOOD_KEY, MailchimpBackend
from connectors.ratelimit import MemoryRateLimiter, set_default_limiter
from connectors.testing import STANDARD
from connectors.types import ErasureMethod, Subject

PATCHES = r"^/3\.0/lists/[^/]+/members/[0-9a-f]{32}$"


@pytest.fixture(autouse=True)
def _fresh_limiter() -> Iterator[None]:
    previous = set_default_limiter(MemoryRateLimiter())
    yield
    set_default_limiter(previous)


def statuses(fake: FakeMailchimp, email: str) -> dict[str, str]:
    return {m.list_id: m.status for m in fake.members_with_email(email)}


def test_mailchimp_declares_and_implements_opt_out() -> None:
    assert Capability.OPT_OUT in MailchimpConnector.capabilities
    assert registry.validate(MailchimpConnector) == []


def test_a_class_declaring_opt_out_must_implement_it() -> None:
    class NoOptOut(MailchimpConnector):
        capabilities = frozenset({Capability.OPT_OUT})
        opt_out = Connector.opt_out  # type: ignore[assignment]

    assert registry.validate(NoOptOut) == ["NoOptOut declares opt_out but does not implement opt_out()"]


def test_opt_out_unsubscribes_every_membership_including_the_other_case_and_never_a_decoy(
    mailchimp_backend: MailchimpBackend, mailchimp_fake: FakeMailchimp
) -> None:
    mailchimp_backend.seed_standard_dataset()
    with mailchimp_backend.make_connector() as connector:
        result = connector.opt_out(STANDARD.target)
    assert (result.found, result.erased, result.method, result.dry_run) == (
        2,
        2,
        ErasureMethod.SUPPRESSED,
        False,
    )
    assert result.per_category == {"list_member": 2}
    # Both memberships (lower-case on Newsletter, other case on Customers) stay, unsubscribed.
    assert statuses(mailchimp_fake, STANDARD.target.email) == {
        mailchimp_backend.newsletter.id: "unsubscribed",
        mailchimp_backend.customers.id: "unsubscribed",
    }
    for decoy in STANDARD.decoys:
        assert set(statuses(mailchimp_fake, decoy.email).values()) == {"subscribed"}
    patches = mailchimp_fake.requests_to("PATCH", PATCHES)
    assert len(patches) == 2
    assert {r.path.rsplit("/", 1)[1] for r in patches} == {subscriber_hash(STANDARD.target.email)}
    assert all(r.json() == {"status": "unsubscribed"} for r in patches)
    assert not mailchimp_fake.requests_to("POST", r".")
    assert not mailchimp_fake.requests_to("DELETE", r".")


def test_access_after_opt_out_shows_the_member_as_unsubscribed(
    mailchimp_backend: MailchimpBackend,
) -> None:
    mailchimp_backend.seed_standard_dataset()
    with mailchimp_backend.make_connector() as connector:
        connector.opt_out(STANDARD.target)
        records = list(connector.access(STANDARD.target))
    assert [r.data["status"] for r in records] == ["unsubscribed", "unsubscribed"]


def test_dry_run_opt_out_writes_nothing(
    mailchimp_backend: MailchimpBackend, mailchimp_fake: FakeMailchimp
) -> None:
    mailchimp_backend.seed_standard_dataset()
    before = mailchimp_backend.mutation_count()
    with mailchimp_backend.make_connector(dry_run=True) as connector:
        result = connector.opt_out(STANDARD.target)
    assert (result.found, result.erased, result.dry_run) == (2, 0, True)
    assert result.per_category == {"list_member": 2}
    assert mailchimp_backend.mutation_count() == before
    assert not mailchimp_fake.requests_to("PATCH", r".")
    assert set(statuses(mailchimp_fake, STANDARD.target.email).values()) == {"subscribed"}


def test_a_second_opt_out_finds_the_members_and_makes_no_patch(
    mailchimp_backend: MailchimpBackend, mailchimp_fake: FakeMailchimp
) -> None:
    mailchimp_backend.seed_standard_dataset()
    with mailchimp_backend.make_connector() as connector:
        connector.opt_out(STANDARD.target)
    before = mailchimp_backend.mutation_count()
    mailchimp_fake.reset_log()
    with mailchimp_backend.make_connector() as connector:
        again = connector.opt_out(STANDARD.target)
    assert (again.found, again.erased, again.method) == (2, 0, ErasureMethod.SUPPRESSED)
    assert mailchimp_backend.mutation_count() == before
    assert not mailchimp_fake.requests_to("PATCH", r".")
    assert len(mailchimp_fake.requests_to("GET", r"/members/")) == 2  # it looked, and left them


def test_unsubscribed_and_cleaned_members_are_found_but_not_patched(
    mailchimp_backend: MailchimpBackend, mailchimp_fake: FakeMailchimp
) -> None:
    email = "quiet@example.com"
    extra = mailchimp_fake.add_list("Events")
    mailchimp_fake.add_member(mailchimp_backend.newsletter.id, email, status="unsubscribed")
    mailchimp_fake.add_member(mailchimp_backend.customers.id, email, status="cleaned")
    mailchimp_fake.add_member(extra.id, email, status="pending")
    with mailchimp_backend.make_connector() as connector:
        result = connector.opt_out(Subject.create(email=email))
    assert (result.found, result.erased) == (3, 1)
    [patch] = mailchimp_fake.requests_to("PATCH", r".")
    assert patch.path.startswith(f"/3.0/lists/{extra.id}/")
    assert statuses(mailchimp_fake, email) == {
        mailchimp_backend.newsletter.id: "unsubscribed",
        mailchimp_backend.customers.id: "cleaned",
        extra.id: "unsubscribed",
    }


def test_an_absent_subject_is_fine_and_nothing_is_written(
    mailchimp_backend: MailchimpBackend, mailchimp_fake: FakeMailchimp
) -> None:
    mailchimp_backend.seed_standard_dataset()
    with mailchimp_backend.make_connector() as connector:
        result = connector.opt_out(STANDARD.absent)
    assert (result.found, result.erased, result.method) == (0, 0, ErasureMethod.NONE)
    assert not mailchimp_fake.requests_to("PATCH", r".")


def test_opt_out_keeps_the_subscriber_hash_and_address_out_of_logs(
    mailchimp_backend: MailchimpBackend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    mailchimp_backend.seed_standard_dataset()
    with mailchimp_backend.make_connector() as connector:
        connector.opt_out(STANDARD.target)
    assert "PATCH /lists/{list_id}/members/{subscriber_hash}" in caplog.text
    assert subscriber_hash(STANDARD.target.email) not in caplog.text
    assert STANDARD.target.email not in caplog.text


@pytest.mark.parametrize("status", ["subscribed", "unsubscribed", "cleaned", "pending", "transactional"])
def test_the_fake_accepts_mailchimps_member_statuses(
    mailchimp_backend: MailchimpBackend, mailchimp_fake: FakeMailchimp, status: str
) -> None:
    member = mailchimp_fake.add_member(mailchimp_backend.newsletter.id, "s@example.com")
    response = httpx.patch(
        f"{mailchimp_fake.url}/3.0/lists/{member.list_id}/members/{member.hash}",
        json={"status": status},
        auth=("any", GOOD_KEY),
    )
    assert response.status_code == 200
    assert response.json()["status"] == status


def test_the_fake_refuses_an_unknown_status_like_mailchimp(
    mailchimp_backend: MailchimpBackend, mailchimp_fake: FakeMailchimp
) -> None:
    member = mailchimp_fake.add_member(mailchimp_backend.newsletter.id, "s@example.com")
    base = f"{mailchimp_fake.url}/3.0/lists/{member.list_id}/members"
    response = httpx.patch(f"{base}/{member.hash}", json={"status": "gone"}, auth=("any", GOOD_KEY))
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["title"], body["status"]) == ("Invalid Resource", 400)
    assert body["errors"][0]["field"] == "status"
    assert member.status == "subscribed"
    missing = httpx.patch(f"{base}/{'0' * 32}", json={"status": "unsubscribed"}, auth=("any", GOOD_KEY))
    assert missing.status_code == 404
