"""Fixtures for the Stripe connector tests: the fake server and the conformance backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.stripe.fake import FakeStripe
from connectors.stripe.tests.backend import StripeBackend
from connectors.testing.server import serve


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    server = FakeStripe()
    with serve(server):
        yield server


@pytest.fixture
def backend_(fake: FakeStripe) -> StripeBackend:
    return StripeBackend(fake)
