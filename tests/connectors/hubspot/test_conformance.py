"""The HubSpot connector passes the SDK's conformance kit against the fake HubSpot."""

from __future__ import annotations

import pytest

from connectors.testing import ConnectorConformance, FakeBackend
from tests.connectors.hubspot.conftest import HubSpotBackend


class TestHubSpotConformance(ConnectorConformance):
    http = True
    async_erase = False

    @pytest.fixture
    def backend(self, hubspot_backend: HubSpotBackend) -> FakeBackend:
        return hubspot_backend
