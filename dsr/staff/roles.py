"""Who may do what: the one place where staff roles are checked."""

from __future__ import annotations

from typing import Any

from dsr.staff.models import Role

_ALL = frozenset(Role.values)
_WORKERS = frozenset({Role.AGENT, Role.APPROVER, Role.ADMIN})
_DECIDERS = frozenset({Role.APPROVER, Role.ADMIN})

PERMISSIONS: dict[str, frozenset[str]] = {
    "request.view": _ALL,
    "request.view_identity": _WORKERS,  # viewers see masked identities
    "request.cancel": _WORKERS,
    "request.approve": _DECIDERS,
    "request.deny": _DECIDERS,
    "job.retry": _WORKERS,
    "package.download": _WORKERS,
    "audit.view": _ALL,
    "system.manage": frozenset({Role.ADMIN}),
}


def role_of(user: Any) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    profile = getattr(user, "staff", None)
    return profile.role if profile is not None else None


def has_permission(user: Any, permission: str) -> bool:
    """True when ``user`` is active staff whose role grants ``permission`` (unknown names: False)."""
    role = role_of(user)
    return role is not None and role in PERMISSIONS.get(permission, frozenset())


def mask_email(email: str) -> str:
    """``jane.doe@example.com`` -> ``j******@example.com`` for roles that may not see identities."""
    local, _, domain = email.partition("@")
    if not local:
        return ""
    return f"{local[0]}{'*' * max(len(local) - 1, 1)}@{domain}"
