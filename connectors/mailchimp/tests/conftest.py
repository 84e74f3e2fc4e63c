"""Fixtures for the Mailchimp connector tests: the fake server and the conformance backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.mailchimp.fake import FakeMailchimp
from connectors.mailchimp.tests.backend import GOOD_KEY, MailchimpBackend
from connectors.testing.server import serve


@pytest.fixture
def mailchimp_fake() -> Iterator[FakeMailchimp]:
    with serve(FakeMailchimp(GOOD_KEY)) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def mailchimp_backend(mailchimp_fake: FakeMailchimp) -> MailchimpBackend:
    return MailchimpBackend(mailchimp_fake)
