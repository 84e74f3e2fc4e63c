"""Property-based API testing from the OpenAPI schema (schemathesis): whatever the input, the API
answers without a server error and with responses that match the schema. The number of examples
is bounded so the suite stays fast in CI (DSR_SCHEMATHESIS_EXAMPLES raises it locally)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from dsr.staff.services import staff_create
from dsr.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
EXAMPLES = int(os.environ.get("DSR_SCHEMATHESIS_EXAMPLES", "15"))


@pytest.fixture(autouse=True)
def _keep_the_test_transaction_open() -> Iterator[None]:
    """Calling the WSGI application fires request_started/finished, whose close_old_connections
    would close the connection holding the test's transaction; Django's test client unhooks it
    the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(db: None) -> str:
    return staff_create(username="fuzz-admin", role="admin", token=True)[1]


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
@pytest.mark.django_db
def test_the_api_never_fails_with_a_server_error_and_matches_its_schema(case, admin_token, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DSR_RATE_LIMITS = {name: "10000/hour" for name in settings.DSR_RATE_LIMITS}
    headers = {"Authorization": f"Token {admin_token}"} if case.path.startswith("/api/v1/staff") else {}
    case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])
