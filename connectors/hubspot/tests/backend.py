"""The conformance backend of the HubSpot connector: its fake vendor server as the kit sees it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.base import Connector
from connectors.hubspot import HubSpotConnector
from connectors.hubspot.fake import FakeHubSpot
from connectors.testing import LOCAL_FAKES, FakeServerBackend, PaginatedSeed, SeedRecord
from connectors.types import Subject

GOOD_TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
BAD_TOKEN = "pat-na1-99999999-bad0-bad0-bad0-999999999999"
READ_ONLY_TOKEN = "pat-na1-readonly-aaaa-bbbb-cccc-dddddddddddd"


class HubSpotBackend(FakeServerBackend[FakeHubSpot]):
    """The conformance kit's view of the fake HubSpot: config, seeding and raw records."""

    def config(self, token: str = GOOD_TOKEN, **overrides: Any) -> dict[str, Any]:
        return {
            "access_token": token,
            "base_url": self.server.url,
            "timeout": 0.5,
            "page_size": 2,
            "requests_per_10s": 100_000,
            "search_per_second": 10_000,
            **overrides,
        }

    def make_connector(self, *, dry_run: bool = False) -> Connector:
        return HubSpotConnector(self.config(), dry_run=dry_run, outbound_allow=LOCAL_FAKES)

    def make_connector_with_bad_credentials(self) -> Connector:
        return HubSpotConnector(self.config(BAD_TOKEN), outbound_allow=LOCAL_FAKES)

    def secrets(self) -> list[str]:
        return [GOOD_TOKEN, BAD_TOKEN]

    def seed(self, records: Sequence[SeedRecord]) -> None:
        for r in records:
            self.server.add_contact(
                email=r.email, firstname=r.first_name, lastname=r.last_name, company=r.marker
            )

    def records_of(self, email: str) -> list[Mapping[str, Any]]:
        return [dict(c.properties) for c in self.server.contacts_with_email(email)]

    def seed_paginated(self, pages: int) -> PaginatedSeed:
        # page_size is 2: one contact with the address as primary email and the others listing
        # it among their additional emails (a real HubSpot pattern after merges and imports).
        email = "paged.person@example.com"
        markers = []
        count = pages * 2 - 1
        for i in range(count):
            marker = f"KITMARK-PAGED-{i}"
            markers.append(marker)
            if i == 0:
                self.server.add_contact(email=email, firstname="Paged", lastname="Person", company=marker)
            else:
                self.server.add_contact(
                    email=f"paged.alias{i}@example.com",
                    hs_additional_emails=f"old{i}@example.com;Paged.Person@Example.com",
                    firstname="Paged",
                    lastname="Person",
                    company=marker,
                )
        return PaginatedSeed(subject=Subject.create(email=email), markers=tuple(markers))
