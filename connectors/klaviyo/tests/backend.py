"""The conformance backend of the Klaviyo connector: its fake vendor server as the kit sees it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors import Subject
from connectors.klaviyo.connector import KlaviyoConnector
from connectors.klaviyo.fake import FakeKlaviyo
from connectors.testing import LOCAL_FAKES, FakeServerBackend, PaginatedSeed, SeedRecord

BAD_KEY = "pk_WrongKlaviyoKeyForTests000000000000"


class KlaviyoBackend(FakeServerBackend[FakeKlaviyo]):
    """The conformance kit's view of the fake Klaviyo: config, seeding and raw records."""

    def config(self, **overrides: Any) -> dict[str, Any]:
        return {
            "api_key": self.server.key,
            "base_url": self.server.url,
            "timeout": 0.5,
            "page_size": 2,
            **overrides,
        }

    def make_connector(self, *, dry_run: bool = False) -> KlaviyoConnector:
        return KlaviyoConnector(self.config(), dry_run=dry_run, outbound_allow=LOCAL_FAKES)

    def make_connector_with_bad_credentials(self) -> KlaviyoConnector:
        return KlaviyoConnector(self.config(api_key=BAD_KEY), outbound_allow=LOCAL_FAKES)

    def seed(self, records: Sequence[SeedRecord]) -> None:
        for record in records:
            self.server.add_profile(
                record.email,
                first_name=record.first_name,
                last_name=record.last_name,
                phone_number=record.phone,
                properties={"kit_marker": record.marker},
            )

    def records_of(self, email: str) -> list[Mapping[str, Any]]:
        return [p for p in self.server.profiles.values() if str(p["email"] or "").lower() == email.lower()]

    def seed_paginated(self, pages: int) -> PaginatedSeed:
        markers = []
        for i in range(2 * pages):  # page_size 2
            marker = f"PAGED-MARK-{i}"
            self.server.add_profile("paged.person@example.com", properties={"kit_marker": marker})
            markers.append(marker)
        return PaginatedSeed(subject=Subject.create(email="paged.person@example.com"), markers=tuple(markers))

    def advance(self) -> None:
        self.server.advance()
