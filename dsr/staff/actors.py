"""How a staff member is named in the audit log and in every service's ``actor`` argument."""

from __future__ import annotations

from typing import Any


def staff_actor(user: Any) -> str:
    """The audit actor of a staff member: ``staff:<username>`` (the one place this is spelt)."""
    return f"staff:{user.get_username()}"
