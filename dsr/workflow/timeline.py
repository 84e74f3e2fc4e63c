"""A request's timeline as the data subject is told it: the steps of the request (received,
confirmed, extended, ...; shown on the dashboard beside the audit log) and each system's progress in
plain words (the portal's status page). One entry type for both."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from dsr.audit.models import AuditEvent
from dsr.workflow import deadlines
from dsr.workflow.models import Action, ConnectorJob, DataSubjectRequest, JobStatus, KeptRecords


@dataclass(frozen=True)
class TimelineEntry:
    text: str
    at: datetime | None = None  # when it happened (request steps)
    system: str = ""  # whose progress it is (system entries)
    state: str = ""  # "done", "pending", "problem", "cancelled": drives the icon and colour
    kept: tuple[KeptRecords, ...] = field(default=())  # what an erasure kept, why, for how long


def _system_entry(system: str, state: str, text: str, kept: tuple[KeptRecords, ...] = ()) -> TimelineEntry:
    return TimelineEntry(text=text, system=system, state=state, kept=kept)


SUBJECT_EVENTS = {
    "request.received": gettext_lazy("Request received"),
    "request.verified": gettext_lazy("E-mail address confirmed"),
    "request.approved": gettext_lazy("We started working on the request"),
    "request.extended": gettext_lazy("Deadline extended (notice sent with the reasons)"),
    "request.completed": gettext_lazy("Request completed"),
    "request.denied": gettext_lazy("Request denied (reasons sent)"),
    "request.cancelled": gettext_lazy("Request cancelled"),
    "request.expired": gettext_lazy("Request expired: the e-mail address was never confirmed"),
}


def subject_timeline(*, request: DataSubjectRequest) -> list[TimelineEntry]:
    """The steps the data subject is told about, without internal work (jobs, notes, retries)."""
    events = AuditEvent.objects.filter(request_id=request.pk, action__in=list(SUBJECT_EVENTS)).order_by("id")
    return [TimelineEntry(text=str(SUBJECT_EVENTS[e.action]), at=e.created_at) for e in events]


def _done_text(job: ConnectorJob, request: DataSubjectRequest) -> str:
    """ "Deleted on 2 December 2026; 2 records kept because the law requires it" ("Opted out on
    2 December 2026" for an opt-out: its records are suppressed, not deleted)."""
    found = job.records_found or 0
    when = ""
    if job.finished_at:
        try:
            day = deadlines.legal_date(jurisdiction=request.jurisdiction, at=job.finished_at)
        except deadlines.UnknownJurisdiction:
            day = job.finished_at.date()
        when = date_format(day, "DATE_FORMAT")
    if not found:
        return _("No data about you found (checked on %(date)s)") % {"date": when}
    if job.action == Action.ACCESS:
        return ngettext(
            "%(n)s record collected on %(date)s", "%(n)s records collected on %(date)s", found
        ) % {"n": found, "date": when}
    if job.action == Action.OPT_OUT:
        return _("Opted out on %(date)s") % {"date": when}
    text = _("Deleted on %(date)s") % {"date": when}
    if job.records_retained:
        kept = job.records_retained
        text += "; " + ngettext(
            "%(n)s record kept because the law requires it",
            "%(n)s records kept because the law requires it",
            kept,
        ) % {"n": kept}
    return text


def request_timeline(*, request: DataSubjectRequest) -> list[TimelineEntry]:
    """One entry per system, in plain words: "Warehouse: deleted on 2 Dec", "CRM: pending"."""
    entries = []
    for job in request.jobs.select_related("system").order_by("system__name"):
        if job.status == JobStatus.SUCCEEDED:
            kept = tuple(job.kept_records) if job.action == Action.ERASE else ()
            entries.append(_system_entry(job.system.name, "done", _done_text(job, request), kept))
        elif job.status == JobStatus.FAILED:
            entries.append(
                _system_entry(job.system.name, "problem", _("Delayed: our team is looking into it"))
            )
        elif job.status == JobStatus.CANCELLED:
            entries.append(_system_entry(job.system.name, "cancelled", _("Stopped")))
        elif job.status == JobStatus.BLOCKED:
            entries.append(
                _system_entry(job.system.name, "pending", _("Pending: waits for other systems first"))
            )
        elif job.status == JobStatus.WAITING:
            entries.append(
                _system_entry(job.system.name, "pending", _("In progress: waiting for the provider"))
            )
        elif job.status == JobStatus.RUNNING:
            entries.append(_system_entry(job.system.name, "pending", _("In progress")))
        else:
            entries.append(_system_entry(job.system.name, "pending", _("Pending")))
    return entries
