"""The Salesforce connector passes the conformance kit against its fake server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.salesforce.fake import FakeSalesforce
from connectors.salesforce.tests.backend import SalesforceBackend
from connectors.testing.kit import ConnectorConformance


class TestSalesforceConformance(ConnectorConformance):
    http = True
    async_erase = False

    @pytest.fixture
    def backend(self, fake: FakeSalesforce) -> Iterator[SalesforceBackend]:
        backend = SalesforceBackend(fake)
        yield backend
        backend.close()
