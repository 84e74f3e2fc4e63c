"""The conformance backend of the Stripe connector: its fake vendor server as the kit sees it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors import Subject
from connectors.stripe.connector import StripeConnector
from connectors.stripe.fake import FakeStripe
from connectors.testing import LOCAL_FAKES, FakeServerBackend, PaginatedSeed, SeedRecord

BAD_KEY = "sk_test_WrongKeyForTheFakeStripe000"


class StripeBackend(FakeServerBackend[FakeStripe]):
    """The conformance kit's view of the fake Stripe: config, seeding and raw records."""

    def config(self, **overrides: Any) -> dict[str, Any]:
        return {
            "api_key": self.server.key,
            "base_url": self.server.url,
            "timeout": 0.5,
            "page_size": 2,
            **overrides,
        }

    def make_connector(self, *, dry_run: bool = False) -> StripeConnector:
        return StripeConnector(self.config(), dry_run=dry_run, outbound_allow=LOCAL_FAKES)

    def make_connector_with_bad_credentials(self) -> StripeConnector:
        return StripeConnector(self.config(api_key=BAD_KEY), outbound_allow=LOCAL_FAKES)

    def seed(self, records: Sequence[SeedRecord]) -> None:
        for record in records:
            customer = self.server.add_customer(
                record.email, name=record.full_name, description=record.marker, phone=record.phone
            )
            self.server.add_charge(customer)

    def records_of(self, email: str) -> list[Mapping[str, Any]]:
        return [c for c in self.server.customers.values() if str(c["email"] or "").lower() == email.lower()]

    def seed_paginated(self, pages: int) -> PaginatedSeed:
        markers = []
        for i in range(2 * pages):  # page_size 2
            marker = f"PAGED-MARK-{i}"
            self.server.add_customer("paged.person@example.com", name=f"P {i}", description=marker)
            markers.append(marker)
        return PaginatedSeed(subject=Subject.create(email="paged.person@example.com"), markers=tuple(markers))

    def request_count(self) -> int:
        return len(self.server.requests)
