"""Fixtures for the HubSpot connector tests: the fake server and the conformance backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.hubspot.fake import FakeHubSpot
from connectors.hubspot.tests.backend import GOOD_TOKEN, READ_ONLY_TOKEN, HubSpotBackend
from connectors.testing.server import serve


@pytest.fixture
def hubspot_fake() -> Iterator[FakeHubSpot]:
    with serve(FakeHubSpot(GOOD_TOKEN, read_only_token=READ_ONLY_TOKEN)) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def hubspot_backend(hubspot_fake: FakeHubSpot) -> HubSpotBackend:
    return HubSpotBackend(hubspot_fake)
