"""The Mailchimp connector passes the SDK's conformance kit against the fake Mailchimp."""

from __future__ import annotations

import pytest

from connectors.mailchimp.tests.backend import MailchimpBackend
from connectors.testing import ConnectorConformance, FakeBackend


class TestMailchimpConformance(ConnectorConformance):
    http = True
    async_erase = False

    @pytest.fixture
    def backend(self, mailchimp_backend: MailchimpBackend) -> FakeBackend:
        return mailchimp_backend
