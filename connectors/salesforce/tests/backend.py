"""The conformance backend of the Salesforce connector: its fake vendor server as the kit sees it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors import Subject
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.fake import FakeSalesforce
from connectors.testing import LOCAL_FAKES, FakeServerBackend, PaginatedSeed, SeedRecord

BAD_TOKEN = "00Dfake!AQ0AQWrongTokenForTests"


class SalesforceBackend(FakeServerBackend[FakeSalesforce]):
    """The conformance kit's view of the fake Salesforce: config, seeding and raw records."""

    def config(self, **overrides: Any) -> dict[str, Any]:
        return {
            "instance_url": self.server.url,
            "access_token": self.server.token,
            "timeout": 0.5,
            **overrides,
        }

    def make_connector(self, *, dry_run: bool = False) -> SalesforceConnector:
        return SalesforceConnector(self.config(), dry_run=dry_run, outbound_allow=LOCAL_FAKES)

    def make_connector_with_bad_credentials(self) -> SalesforceConnector:
        return SalesforceConnector(self.config(access_token=BAD_TOKEN), outbound_allow=LOCAL_FAKES)

    def seed(self, records: Sequence[SeedRecord]) -> None:
        # Alternate Contact and Lead so that both objects are exercised by every kit test.
        for index, record in enumerate(records):
            sobject = "Contact" if index % 2 == 0 else "Lead"
            self.server.add(
                sobject,
                Email=record.email,
                FirstName=record.first_name,
                LastName=record.last_name,
                Title=record.marker,
                Phone=record.phone,
            )

    def records_of(self, email: str) -> list[Mapping[str, Any]]:
        return [
            r.fields for r in self.server.live() if str(r.fields.get("Email") or "").lower() == email.lower()
        ]

    def seed_paginated(self, pages: int) -> PaginatedSeed:
        subject = Subject.create(email="paged.person@example.com")
        markers = []
        for i in range(self.server.page_size * pages):
            marker = f"PAGED-MARK-{i}"
            self.server.add("Contact", Email="paged.person@example.com", LastName=f"P{i}", Title=marker)
            markers.append(marker)
        return PaginatedSeed(subject=subject, markers=tuple(markers))

    def request_count(self) -> int:
        return len(self.server.requests)
