"""Reads for the portal: the request behind a status link, its status and progress in plain words
(the per-system timeline is ``dsr.workflow.timeline``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404
from django.utils.translation import gettext as _

from dsr.notifications.services import status_signature_check
from dsr.workflow.models import DataSubjectRequest, Status


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
