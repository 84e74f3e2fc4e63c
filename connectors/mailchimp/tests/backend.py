"""The conformance backend of the Mailchimp connector: its fake vendor server as the kit sees it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.base import Connector
from connectors.mailchimp import MailchimpConnector
from connectors.mailchimp.fake import FakeMailchimp
from connectors.testing import LOCAL_FAKES, FakeServerBackend, PaginatedSeed, SeedRecord
from connectors.types import Subject

GOOD_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0-us6"
BAD_KEY = "deadbeefdeadbeefdeadbeefdeadbeef-us6"


class MailchimpBackend(FakeServerBackend[FakeMailchimp]):
    """The conformance kit's view of the fake Mailchimp: config, seeding and raw records."""

    def __init__(self, fake: FakeMailchimp) -> None:
        super().__init__(fake)
        self.newsletter = fake.add_list("Newsletter")
        self.customers = fake.add_list("Customers")

    def config(self, key: str = GOOD_KEY, **overrides: Any) -> dict[str, Any]:
        return {
            "api_key": key,
            "base_url": f"{self.server.url}/3.0",
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
                    self.server.add_member(
                        mailing_list.id, r.email, FNAME=r.first_name, LNAME=r.last_name, COMPANY=r.marker
                    )
                    break
                except ValueError:
                    continue
            else:
                raise AssertionError(f"no audience left for {r.key}")

    def records_of(self, email: str) -> list[Mapping[str, Any]]:
        return [m.to_api() for m in self.server.members_with_email(email)]

    def seed_paginated(self, pages: int) -> PaginatedSeed:
        # page_size is 2 and two audiences exist: add enough audiences for `pages` pages of /lists,
        # with the subject on every new one.
        email = "paged.person@example.com"
        markers = []
        for i in range(pages * 2 - 1):
            mailing_list = self.server.add_list(f"Paged audience {i}")
            marker = f"KITMARK-PAGED-{i}"
            stored = email if i % 2 == 0 else email.upper()
            self.server.add_member(mailing_list.id, stored, FNAME="Paged", LNAME="Person", COMPANY=marker)
            markers.append(marker)
        return PaginatedSeed(subject=Subject.create(email=email), markers=tuple(markers))
