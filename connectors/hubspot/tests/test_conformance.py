"""The HubSpot connector passes the SDK's conformance kit against the fake HubSpot."""

from __future__ import annotations

import pytest

from connectors.hubspot.tests.backend import HubSpotBackend
from connectors.testing import ConnectorConformance, FakeBackend


class TestHubSpotConformance(ConnectorConformance):
    http = True
    async_erase = False

    @pytest.fixture
    def backend(self, hubspot_backend: HubSpotBackend) -> FakeBackend:
        return hubspot_backend
