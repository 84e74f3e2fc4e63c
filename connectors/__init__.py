"""DSR Hub connector SDK: pure Python, no Django.

Everything a connector author needs is importable from here.
"""

from connectors.base import Capability, Connector, ConnectorConfig
from connectors.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    PermanentError,
    RateLimited,
    TransientError,
)
from connectors.types import (
    CheckResult,
    ErasureMethod,
    ErasureResult,
    JobHandle,
    Record,
    Retained,
    Subject,
    normalise_email,
)

__all__ = [
    "AuthError",
    "Capability",
    "CheckResult",
    "ConfigError",
    "Connector",
    "ConnectorConfig",
    "ConnectorError",
    "ErasureMethod",
    "ErasureResult",
    "JobHandle",
    "PermanentError",
    "RateLimited",
    "Record",
    "Retained",
    "Subject",
    "TransientError",
    "normalise_email",
]
