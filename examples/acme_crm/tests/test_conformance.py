"""The Acme CRM connector passes DSR Hub's conformance kit against the fake API."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from dsr_acme_crm import AcmeCrmConnector
from dsr_acme_crm.fake import GOOD_KEY, FakeAcmeCrm

from connectors import Subject, registry
from connectors.testing import (
    LOCAL_FAKES,
    STANDARD,
    ConnectorConformance,
    FakeServerBackend,
    PaginatedSeed,
    SeedRecord,
)

BAD_KEY = "acme_crm-revoked-key-fedcba9876543210"


class AcmeCrmBackend(FakeServerBackend[FakeAcmeCrm]):
    """The kit's view of the fake: the base reads writes, requests and faults from the server."""

    def config(self, api_key: str = GOOD_KEY) -> dict[str, Any]:
        # Short timeouts make the kit's timeout fault quick; a small page size makes it page.
        return {
            "api_key": api_key,
            "base_url": self.server.url,
            "timeout": 0.5,
            "page_size": 2,
            "requests_per_second": 10_000,
        }

    def make_connector(self, *, dry_run: bool = False) -> AcmeCrmConnector:
        return AcmeCrmConnector(self.config(), dry_run=dry_run, outbound_allow=LOCAL_FAKES)

    def make_connector_with_bad_credentials(self) -> AcmeCrmConnector:
        return AcmeCrmConnector(self.config(BAD_KEY), outbound_allow=LOCAL_FAKES)

    def secrets(self) -> list[str]:
        return [GOOD_KEY, BAD_KEY]

    def seed(self, records: Sequence[SeedRecord]) -> None:
        for r in records:
            self.server.add_contact(
                email=r.email, first_name=r.first_name, last_name=r.last_name, note=r.marker
            )

    def records_of(self, email: str) -> list[Mapping[str, Any]]:
        return self.server.with_email(email)

    def seed_paginated(self, pages: int) -> PaginatedSeed:
        markers = tuple(f"KITMARK-PAGED-{i}" for i in range(pages * 2 - 1))  # page_size is 2
        for marker in markers:
            self.server.add_contact(email="paged.person@example.com", first_name="Paged", note=marker)
        return PaginatedSeed(subject=Subject.create(email="paged.person@example.com"), markers=markers)


@pytest.fixture
def fake() -> Iterator[FakeAcmeCrm]:
    with FakeAcmeCrm() as server:
        yield server


class TestAcmeCrmConformance(ConnectorConformance):
    http = True
    async_erase = False

    @pytest.fixture
    def backend(self, fake: FakeAcmeCrm) -> AcmeCrmBackend:
        return AcmeCrmBackend(fake)


# -- connector-specific tests: add yours below -------------------------------------------------


def test_the_connector_class_passes_the_registry_validation() -> None:
    assert registry.validate(AcmeCrmConnector) == []
    assert AcmeCrmConnector.Config.secret_fields() == ["api_key"]


def test_the_search_sends_the_normalised_address_and_the_bearer_key(fake: FakeAcmeCrm) -> None:
    backend = AcmeCrmBackend(fake)
    backend.seed_standard_dataset()
    with backend.make_connector() as connector:
        list(connector.access(Subject.create(email="  Jane.Doe@EXAMPLE.com ")))
    [search] = fake.requests_to("GET", r"^/v1/contacts$")
    assert search.arg("email") == STANDARD.target.email
    assert search.header("authorization") == f"Bearer {GOOD_KEY}"
