"""Manual task connector (``manual``); the hand-off base it shares with ``vendor_email`` is the SDK's
``connectors.handoff`` (re-exported here for compatibility)."""

from connectors.handoff import HANDOFF, HandoffConfig, HandoffConnector, handoff_kind, is_handoff
from connectors.manual.connector import ManualConfig, ManualConnector

__all__ = [
    "HANDOFF",
    "HandoffConfig",
    "HandoffConnector",
    "ManualConfig",
    "ManualConnector",
    "handoff_kind",
    "is_handoff",
]
