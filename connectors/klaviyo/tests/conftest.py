"""Fixtures for the Klaviyo connector tests: the fake server and the conformance backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.klaviyo.fake import FakeKlaviyo
from connectors.klaviyo.tests.backend import KlaviyoBackend
from connectors.testing.server import serve


@pytest.fixture
def fake() -> Iterator[FakeKlaviyo]:
    server = FakeKlaviyo(job_steps=2)
    with serve(server):
        yield server


@pytest.fixture
def backend_(fake: FakeKlaviyo) -> KlaviyoBackend:
    return KlaviyoBackend(fake)
