"""Fixtures for the Salesforce connector tests: the fake server and the conformance backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.fake import FakeSalesforce
from connectors.salesforce.tests.backend import SalesforceBackend
from connectors.testing.server import serve


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    server = FakeSalesforce(page_size=2)
    with serve(server):
        yield server


@pytest.fixture
def sf(fake: FakeSalesforce) -> Iterator[SalesforceConnector]:
    with SalesforceBackend(fake).make_connector() as connector:
        yield connector
