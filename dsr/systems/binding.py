"""What a system's secrets are bound to (AES-GCM associated data): its identity and its config.

A row whose ``key``, ``connector`` or ``config`` was changed outside DSR Hub (a SQL ``UPDATE``
pointing ``config.base_url`` at another host) no longer opens its secrets, so no token is sent
anywhere: the worker fails the job with :data:`TAMPERED_MESSAGE`. Changing this function changes
every stored seal: it is used by a data migration too, so keep it stable (add a new version).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

TAMPERED_MESSAGE = (
    "system configuration was modified outside DSR Hub: its secrets no longer match it; "
    "apply the systems file again or re-enter the secrets in the admin"
)


def canonical_config(config: Mapping[str, Any]) -> bytes:
    """The config as canonical JSON (sorted keys, no spaces, UTF-8): equal configs, equal bytes."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def secrets_binding(*, key: str, connector: str, config: Mapping[str, Any]) -> bytes:
    """``dsr-system-v1 NUL key NUL connector NUL sha256(canonical config)``."""
    digest = hashlib.sha256(canonical_config(config)).hexdigest()
    return b"\x00".join([b"dsr-system-v1", key.encode(), connector.encode(), digest.encode()])
