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
    # The privacy-team dashboard (issue 6).
    "dashboard.view": _ALL,
    "request.export": _ALL,  # CSV of the queue; identities masked unless request.view_identity
    "request.assign": _WORKERS,
    "request.work": _WORKERS,  # may be the assignee of a request
    "request.note": _WORKERS,  # internal notes: read by all, written by workers
    "request.task": _WORKERS,  # manual tasks: create and complete
    "request.extend": _DECIDERS,  # GDPR Art. 12(3), 11 CCR §7021(b): a decision, with a reason
    "request.reveal_identity": _WORKERS,  # shown masked first; each reveal is audited
    "system.view": _ALL,
    "system.check": _WORKERS,  # runs the connector's check(); changes nothing in the system
    "report.view": _ALL,
    "audit.verify": _DECIDERS,
    "staff.manage": frozenset({Role.ADMIN}),  # users, roles, two-factor resets
    "settings.view": frozenset({Role.ADMIN}),
    # Tasks of hand-off connectors (manual, vendor_email): a person reports what they did.
    "task.view": _ALL,
    "task.complete": _WORKERS,
    # Backlog import and test requests (issue 17): a decision about what enters the queue.
    "request.import": _DECIDERS,
    # Importing rows as already verified elsewhere (CCPA still requires verification, 11 CCR §7060):
    # an administrator answers for it, and each attestation is audited.
    "request.import_verified": frozenset({Role.ADMIN}),
    "request.test": _DECIDERS,  # start a test request (dry-run connectors, no e-mail)
    "request.diagnostics": _ALL,  # the troubleshooting bundle holds no identity and no secret
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
