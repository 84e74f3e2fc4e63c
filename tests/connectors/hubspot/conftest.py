"""Fixtures for the HubSpot connector tests: the fake server and the conformance backend."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from connectors.base import Connector
from connectors.hubspot import HubSpotConnector
from connectors.testing import LOCAL_FAKES, FakeBackend, Fault, PaginatedSeed, SeedRecord
from connectors.types import Subject
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.server import serve

GOOD_TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
BAD_TOKEN = "pat-na1-99999999-bad0-bad0-bad0-999999999999"
READ_ONLY_TOKEN = "pat-na1-readonly-aaaa-bbbb-cccc-dddddddddddd"


class HubSpotBackend(FakeBackend):
    def __init__(self, fake: FakeHubSpot) -> None:
        self.fake = fake

    def config(self, token: str = GOOD_TOKEN, **overrides: Any) -> dict[str, Any]:
        return {
            "access_token": token,
            "base_url": self.fake.url,
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
            self.fake.add_contact(
                email=r.email, firstname=r.first_name, lastname=r.last_name, company=r.marker
            )

    def mutation_count(self) -> int:
        return self.fake.mutation_count

    def records_of(self, email: str) -> list[Mapping[str, Any]]:
        return [dict(c.properties) for c in self.fake.contacts_with_email(email)]

    def inject(self, fault: Fault) -> None:
        self.fake.inject_kit_fault(fault)

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
                self.fake.add_contact(email=email, firstname="Paged", lastname="Person", company=marker)
            else:
                self.fake.add_contact(
                    email=f"paged.alias{i}@example.com",
                    hs_additional_emails=f"old{i}@example.com;Paged.Person@Example.com",
                    firstname="Paged",
                    lastname="Person",
                    company=marker,
                )
        return PaginatedSeed(subject=Subject.create(email=email), markers=tuple(markers))

    def request_count(self) -> int:
        return len(self.fake.requests)


@pytest.fixture
def hubspot_fake() -> Iterator[FakeHubSpot]:
    with serve(FakeHubSpot(GOOD_TOKEN, read_only_token=READ_ONLY_TOKEN)) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def hubspot_backend(hubspot_fake: FakeHubSpot) -> HubSpotBackend:
    return HubSpotBackend(hubspot_fake)
