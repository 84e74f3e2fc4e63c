"""Errors a connector raises. The worker maps each class to a retry policy.

- ``TransientError``: try again later with backoff (5xx, timeouts, lost connections).
- ``RateLimited``: a transient error that carries the server's requested delay.
- ``PermanentError``: retrying cannot help (bad config, unsupported operation); the job fails now.
- ``AuthError``: a permanent error caused by credentials or permissions (401/403).
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base class of every error a connector raises on purpose."""


class TransientError(ConnectorError):
    """The operation may succeed if retried later."""


class RateLimited(TransientError):
    """The vendor asked us to slow down; ``retry_after`` is its delay in seconds, if it gave one."""

    def __init__(self, message: str = "rate limited", *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(ConnectorError):
    """The operation cannot succeed without a change of configuration or data."""


class AuthError(PermanentError):
    """Credentials were refused or lack a permission."""


class ConfigError(PermanentError):
    """The connector's configuration is invalid (missing table, unknown column, bad URL)."""
