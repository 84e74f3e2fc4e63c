"""Read-only queries behind the dashboard: the queue, a request's timeline, systems, the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dsr.audit.models import AuditEvent
from dsr.systems.models import System
from dsr.workflow.models import (
    JOB_TERMINAL,
    TERMINAL_STATUSES,
    ConnectorJob,
    DataSubjectRequest,
    JobStatus,
    Status,
)


def open_requests() -> QuerySet[DataSubjectRequest]:
    """Requests whose legal clock is still running (not completed, denied, expired or cancelled)."""
    return DataSubjectRequest.objects.exclude(status__in=TERMINAL_STATUSES).order_by("due_at", "received_at")


@dataclass(frozen=True)
class Badge:
    css: str  # overdue, soon, ok, closed, late
    label: str


def deadline_badge(request: DataSubjectRequest, *, now: datetime | None = None) -> Badge:
    """How urgent a request is, for a badge next to its due date."""
    now = now or timezone.now()
    if request.is_terminal:
        if request.closed_at and request.closed_at > request.due_at:
            return Badge("late", str(_("closed late")))
        return Badge("closed", str(_("closed")))
    if request.due_at < now:
        days = (now - request.due_at).days
        return Badge("overdue", str(_("overdue %(n)d d")) % {"n": days} if days else str(_("overdue")))
    left = request.due_at - now
    if left <= settings.DSR_DUE_SOON:
        return Badge("soon", str(_("%(n)d d left")) % {"n": left.days})
    return Badge("ok", str(_("%(n)d d left")) % {"n": left.days})


# --- audit ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""  # prefix: "request." or "request.approved"
    actor: str = ""
    reference: str = ""
    since: date | None = None
    until: date | None = None


def audit_events(*, filters: AuditFilters) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.all()
    if filters.action:
        qs = qs.filter(action__startswith=filters.action.strip())
    if filters.actor:
        qs = qs.filter(actor=filters.actor.strip())
    if filters.reference:
        request = DataSubjectRequest.objects.filter(reference=filters.reference.strip().upper()).first()
        qs = qs.filter(request_id=request.pk) if request else qs.none()
    zone = timezone.get_current_timezone()
    if filters.since:
        qs = qs.filter(created_at__gte=datetime.combine(filters.since, time.min, tzinfo=zone))
    if filters.until:
        qs = qs.filter(
            created_at__lt=datetime.combine(filters.until + timedelta(days=1), time.min, tzinfo=zone)
        )
    return qs.order_by("-id")


# --- systems --------------------------------------------------------------------------------------

# Inventory facts shown when the System model has them (added by the access-package work).
VENDOR_FACTS = [
    ("vendor", _("Vendor")),
    ("dpa_status", _("DPA")),
    ("region", _("Region")),
    ("retention", _("Retention")),
    ("recipients", _("Recipients")),
    ("purposes", _("Purposes")),
]
RECENT_ERRORS = 5


@dataclass
class SystemRow:
    system: System
    facts: list[tuple[str, str]]
    last_check: Any | None
    failed_30d: int
    recent_errors: list[ConnectorJob]


def _fact_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_fact_text(v) for v in value if v not in (None, ""))
    if isinstance(value, dict):
        if "name" in value:  # a recipient: {"name": "Parcel Co", "country": "US", "safeguard": "SCC"}
            details = ", ".join(_fact_text(v) for k, v in value.items() if k != "name" and v)
            return f"{value['name']} ({details})" if details else str(value["name"])
        return ", ".join(f"{k}: {_fact_text(v)}" for k, v in value.items())
    display = getattr(value, "label", None)
    return str(display if display is not None else value)


def system_facts(system: System) -> list[tuple[str, str]]:
    facts = []
    for name, label in VENDOR_FACTS:
        getter = getattr(system, f"get_{name}_display", None)
        value = getter() if callable(getter) else getattr(system, name, None)
        text = _fact_text(value)
        if hasattr(system, name):
            facts.append((str(label), text or "—"))
    return facts


def systems_overview(*, now: datetime | None = None) -> list[SystemRow]:
    now = now or timezone.now()
    since = now - timedelta(days=30)
    systems = (
        System.objects.annotate(
            failed_30d=Count("jobs", filter=Q(jobs__status=JobStatus.FAILED, jobs__updated_at__gte=since))
        )
        .select_related("last_check")
        .order_by("name")
    )
    rows = []
    for system in systems:
        errors = list(
            ConnectorJob.objects.filter(system=system, status=JobStatus.FAILED)
            .exclude(error="")
            .select_related("request")
            .order_by("-updated_at")[:RECENT_ERRORS]
        )
        rows.append(
            SystemRow(
                system=system,
                facts=system_facts(system),
                last_check=getattr(system, "last_check", None),  # reverse one-to-one: None if never
                failed_30d=system.failed_30d,
                recent_errors=errors,
            )
        )
    return rows


def assignable_staff() -> list[Any]:
    """Active staff whose role may be assigned requests (agents, approvers, admins)."""
    from dsr.staff.roles import has_permission

    users = get_user_model().objects.filter(is_active=True, staff__isnull=False).select_related("staff")
    return [u for u in users.order_by("username") if has_permission(u, "request.work")]


def request_is_live(*, request: DataSubjectRequest) -> bool:
    """True while work may still change what the detail page shows: the request is in progress
    (or waits for staff) and a job has not finished. The page polls only then."""
    if request.status not in (Status.IN_PROGRESS, Status.ACTION_REQUIRED):
        return False
    return request.jobs.exclude(status__in=JOB_TERMINAL).exists()


def request_job_status(*, request: DataSubjectRequest) -> dict[str, Any]:
    """The request's status and each job's state and counts, as the detail page shows them."""
    jobs = request.jobs.select_related("system").order_by("system__name")
    return {
        "status": request.status,
        "status_display": str(request.get_status_display()),
        "live": request_is_live(request=request),
        "jobs": [
            {
                "id": job.pk,
                "system": job.system.name,
                "status": job.status,
                "status_display": str(job.get_status_display()),
                "records_found": job.records_found,
                "records_erased": job.records_erased,
                "records_retained": job.records_retained,
                "attempts": job.attempts,
                "error": job.error,
            }
            for job in jobs
        ],
    }
