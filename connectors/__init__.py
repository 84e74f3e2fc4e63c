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
from connectors.handoff import HANDOFF, HandoffConfig, HandoffConnector, handoff_kind, is_handoff
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
    "HANDOFF",
    "AuthError",
    "Capability",
    "CheckResult",
    "ConfigError",
    "Connector",
    "ConnectorConfig",
    "ConnectorError",
    "ErasureMethod",
    "ErasureResult",
    "HandoffConfig",
    "HandoffConnector",
    "JobHandle",
    "PermanentError",
    "RateLimited",
    "Record",
    "Retained",
    "Subject",
    "TransientError",
    "handoff_kind",
    "is_handoff",
    "normalise_email",
]
