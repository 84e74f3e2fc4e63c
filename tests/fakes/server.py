"""The fake vendor HTTP server the built-in connectors' fakes use.

It is the SDK's public testing server (``connectors/testing/server.py``), so that third-party
connector packages and this repository's fakes share one implementation.
"""

from connectors.testing.server import (
    MUTATING_METHODS,
    AuthCheck,
    FakeServer,
    Fault,
    Request,
    Response,
    basic_auth,
    bearer_auth,
    default_error_body,
    empty_response,
    header_auth,
    json_response,
    serve,
)

__all__ = [
    "MUTATING_METHODS",
    "AuthCheck",
    "FakeServer",
    "Fault",
    "Request",
    "Response",
    "basic_auth",
    "bearer_auth",
    "default_error_body",
    "empty_response",
    "header_auth",
    "json_response",
    "serve",
]
