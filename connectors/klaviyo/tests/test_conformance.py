"""The Klaviyo connector passes the conformance kit against its fake server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.klaviyo.fake import FakeKlaviyo
from connectors.klaviyo.tests.backend import KlaviyoBackend
from connectors.testing.kit import ConnectorConformance


class TestKlaviyoConformance(ConnectorConformance):
    http = True
    async_erase = True

    @pytest.fixture
    def backend(self, fake: FakeKlaviyo) -> Iterator[KlaviyoBackend]:
        backend = KlaviyoBackend(fake)
        yield backend
        backend.close()
