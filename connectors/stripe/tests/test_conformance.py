"""The Stripe connector passes the conformance kit against its fake server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.stripe.fake import FakeStripe
from connectors.stripe.tests.backend import StripeBackend
from connectors.testing.kit import ConnectorConformance


class TestStripeConformance(ConnectorConformance):
    http = True
    async_erase = False

    @pytest.fixture
    def backend(self, fake: FakeStripe) -> Iterator[StripeBackend]:
        backend = StripeBackend(fake)
        yield backend
        backend.close()
