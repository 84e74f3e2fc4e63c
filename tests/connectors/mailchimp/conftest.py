"""Fixtures for the Mailchimp connector tests: the fake server and the conformance backend."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from connectors.base import Connector
from connectors.mailchimp import MailchimpConnector
from connectors.testing import LOCAL_FAKES, FakeBackend, Fault, PaginatedSeed, SeedRecord
from connectors.types import Subject
from tests.fakes.mailchimp import FakeMailchimp
from tests.fakes.server import serve

GOOD_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0-us6"
BAD_KEY = "deadbeefdeadbeefdeadbeefdeadbeef-us6"


class MailchimpBackend(FakeBackend):
    def __init__(self, fake: FakeMailchimp) -> None:
        self.fake = fake
        self.newsletter = fake.add_list("Newsletter")
        self.customers = fake.add_list("Customers")

    def config(self, key: str = GOOD_KEY, **overrides: Any) -> dict[str, Any]:
        return {
            "api_key": key,
            "base_url": f"{self.fake.url}/3.0",
            "timeout": 0.5,
            "page_size": 2,
            "requests_per_second": 10_000,
            **overrides,
        }

    def make_connector(self, *, dry_run: bool = False) -> Connector:
        return MailchimpConnector(self.config(), dry_run=dry_run, outbound_allow=LOCAL_FAKES)

    def make_connector_with_bad_credentials(self) -> Connector:
        return MailchimpConnector(self.config(BAD_KEY), outbound_allow=LOCAL_FAKES)

    def secrets(self) -> list[str]:
        return [GOOD_KEY, BAD_KEY]

    def seed(self, records: Sequence[SeedRecord]) -> None:
        # One member per address and audience: a second record of the same person (another case,
        # same subscriber hash) goes on the next audience that does not have it yet.
        for r in records:
            for mailing_list in (self.newsletter, self.customers):
                try:
                    self.fake.add_member(
                        mailing_list.id, r.email, FNAME=r.first_name, LNAME=r.last_name, COMPANY=r.marker
                    )
                    break
                except ValueError:
                    continue
            else:
                raise AssertionError(f"no audience left for {r.key}")

    def mutation_count(self) -> int:
        return self.fake.mutation_count

    def records_of(self, email: str) -> list[Mapping[str, Any]]:
        return [m.to_api() for m in self.fake.members_with_email(email)]

    def inject(self, fault: Fault) -> None:
        self.fake.inject_kit_fault(fault)

    def seed_paginated(self, pages: int) -> PaginatedSeed:
        # page_size is 2 and two audiences exist: add enough audiences for `pages` pages of /lists,
        # with the subject on every new one.
        email = "paged.person@example.com"
        markers = []
        for i in range(pages * 2 - 1):
            mailing_list = self.fake.add_list(f"Paged audience {i}")
            marker = f"KITMARK-PAGED-{i}"
            stored = email if i % 2 == 0 else email.upper()
            self.fake.add_member(mailing_list.id, stored, FNAME="Paged", LNAME="Person", COMPANY=marker)
            markers.append(marker)
        return PaginatedSeed(subject=Subject.create(email=email), markers=tuple(markers))

    def request_count(self) -> int:
        return len(self.fake.requests)


@pytest.fixture
def mailchimp_fake() -> Iterator[FakeMailchimp]:
    with serve(FakeMailchimp(GOOD_KEY)) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def mailchimp_backend(mailchimp_fake: FakeMailchimp) -> MailchimpBackend:
    return MailchimpBackend(mailchimp_fake)
