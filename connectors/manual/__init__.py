"""Manual task connector (``manual``) and the hand-off base shared with ``vendor_email``."""

from connectors.manual.connector import ManualConfig, ManualConnector
from connectors.manual.handoff import HANDOFF, HandoffConfig, HandoffConnector, handoff_kind, is_handoff

__all__ = [
    "HANDOFF",
    "HandoffConfig",
    "HandoffConnector",
    "ManualConfig",
    "ManualConnector",
    "handoff_kind",
    "is_handoff",
]
