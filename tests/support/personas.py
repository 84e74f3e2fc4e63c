"""The role personas and the "nothing changed" snapshot shared by the role-matrix tests.

Every staff endpoint (dashboard page, staff API operation) is called by each persona; allowed calls
do their work, and a denied call must leave :func:`db_snapshot` exactly as it was.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django_otp.plugins.otp_static.models import StaticToken
from knox.models import AuthToken

from dsr.audit.models import AuditEvent
from dsr.dashboard.models import SystemCheck
from dsr.exports.models import AccessPackage
from dsr.staff.models import StaffProfile, StaffTOTPDevice
from dsr.systems.models import System
from dsr.tasks.models import Task
from dsr.workflow.models import Assignment, ConnectorJob, DataSubjectRequest, Note

__all__ = ["ADMIN", "DECIDERS", "EVERYONE", "PERSONAS", "WORKERS", "db_snapshot"]

#: Who calls each endpoint: the data subject's side (anonymous) and the four staff roles.
PERSONAS = ["anonymous", "viewer", "agent", "approver", "admin"]
#: The roles an endpoint allows, by what it does.
EVERYONE = frozenset({"viewer", "agent", "approver", "admin"})  # reading
WORKERS = frozenset({"agent", "approver", "admin"})  # working a case
DECIDERS = frozenset({"approver", "admin"})  # approving, denying, extending
ADMIN = frozenset({"admin"})  # staff and systems administration


def db_snapshot() -> tuple[Any, ...]:
    """Everything a staff call could change: cases, jobs, packages, the audit chain, casework, systems
    and their checks, staff accounts, second factors and API tokens."""
    return (
        list(DataSubjectRequest.objects.order_by("pk").values()),
        list(ConnectorJob.objects.order_by("pk").values()),
        list(AccessPackage.objects.order_by("pk").values()),
        list(AuditEvent.objects.order_by("pk").values_list("pk", "hash")),
        list(Assignment.objects.order_by("pk").values()),
        list(Note.objects.order_by("pk").values()),
        list(Task.objects.order_by("pk").values()),
        list(SystemCheck.objects.order_by("pk").values()),
        list(System.objects.order_by("pk").values("pk", "enabled", "updated_at")),
        list(StaffProfile.objects.order_by("pk").values()),
        list(get_user_model().objects.order_by("pk").values("pk", "username", "password", "is_active")),
        list(StaffTOTPDevice.objects.order_by("pk").values("pk", "confirmed", "last_t")),
        list(StaticToken.objects.order_by("pk").values("pk", "token")),
        list(AuthToken.objects.order_by("digest").values("digest", "expiry")),
    )
