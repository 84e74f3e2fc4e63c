"""Reads for the portal: the request behind a status link, and its timeline in plain words."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import Http404
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dsr.notifications.services import status_signature_check
from dsr.workflow import deadlines
from dsr.workflow.models import Action, ConnectorJob, DataSubjectRequest, JobStatus, KeptRecords, Status


def request_get_for_status_link(*, reference: str, signature: str) -> DataSubjectRequest:
    """The request a status link points to. A wrong signature and an unknown reference give the
    same 404, so a reference alone reveals nothing (not even that it exists)."""
    reference = reference.strip().upper()
    if not status_signature_check(reference=reference, signature=signature):
        raise Http404
    request = DataSubjectRequest.objects.filter(reference=reference).first()
    if request is None:
        raise Http404
    return request


@dataclass(frozen=True)
class TimelineEntry:
    system: str
    state: str  # "done", "pending", "problem", "cancelled": drives the icon and colour
    text: str
    kept: tuple[KeptRecords, ...] = field(default=())  # what an erasure kept, why, for how long


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
            entries.append(TimelineEntry(job.system.name, "done", _done_text(job, request), kept))
        elif job.status == JobStatus.FAILED:
            entries.append(
                TimelineEntry(job.system.name, "problem", _("Delayed: our team is looking into it"))
            )
        elif job.status == JobStatus.CANCELLED:
            entries.append(TimelineEntry(job.system.name, "cancelled", _("Stopped")))
        elif job.status == JobStatus.BLOCKED:
            entries.append(
                TimelineEntry(job.system.name, "pending", _("Pending: waits for other systems first"))
            )
        elif job.status == JobStatus.WAITING:
            entries.append(
                TimelineEntry(job.system.name, "pending", _("In progress: waiting for the provider"))
            )
        elif job.status == JobStatus.RUNNING:
            entries.append(TimelineEntry(job.system.name, "pending", _("In progress")))
        else:
            entries.append(TimelineEntry(job.system.name, "pending", _("Pending")))
    return entries


def status_label(*, request: DataSubjectRequest) -> str:
    """The status as the person sees it: "action required" is the privacy team's job, not theirs."""
    if request.status == Status.ACTION_REQUIRED:
        return str(Status.IN_PROGRESS.label)
    return str(Status(request.status).label)


def status_explanation(*, request: DataSubjectRequest) -> str:
    """What the request's status means for the person, in one or two plain sentences."""
    texts = {
        Status.PENDING_VERIFICATION: _(
            "We are waiting for you to enter the code we e-mailed you. Without it we cannot start."
        ),
        Status.AWAITING_APPROVAL: _(
            "You confirmed your e-mail address. Our privacy team is checking the request before work starts."
        ),
        Status.IN_PROGRESS: _("We are working on your request in each system that holds your data."),
        Status.ACTION_REQUIRED: _(
            "Our privacy team is completing part of your request by hand. You do not need to do anything."
        ),
        Status.COMPLETED: _("Your request is complete."),
        Status.DENIED: _("We could not fulfil your request. We have e-mailed you the reasons."),
        Status.EXPIRED: _(
            "The request expired because the code was not entered in time. You can make a new request."
        ),
        Status.CANCELLED: _("The request was cancelled."),
    }
    return str(texts[Status(request.status)])


@dataclass(frozen=True)
class ProgressStep:
    label: str
    state: str  # "done", "current" or "todo"


def request_progress(*, request: DataSubjectRequest) -> list[ProgressStep]:
    """Received → confirmed → in progress → done, with the step the request is at marked current.

    A request that ended another way (denied, expired, cancelled) shows that outcome as its last
    step, so the indicator never claims "done" for work that was not done.
    """
    labels = [_("Received"), _("Confirmed"), _("In progress"), _("Done")]
    at = {
        Status.PENDING_VERIFICATION: 0,
        Status.AWAITING_APPROVAL: 1,
        Status.IN_PROGRESS: 2,
        Status.ACTION_REQUIRED: 2,
        Status.COMPLETED: 3,
    }
    status = Status(request.status)
    if status in at:
        current = at[status]
    else:  # denied, expired or cancelled: the outcome replaces "done"
        reached = 2 if request.approved_at else (1 if request.verified_at else 0)
        current = reached + 1
        labels = [*labels[:current], str(status.label)]
    steps = []
    for index, label in enumerate(labels):
        state = "done" if index < current else ("current" if index == current else "todo")
        steps.append(ProgressStep(str(label), state))
    return steps
