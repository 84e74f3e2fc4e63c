"""Staff decisions on a request: approve, deny, cancel, and retrying a failed job."""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.utils import timezone

from dsr.errors import RequestInputError
from dsr.workflow.models import (
    ConnectorJob,
    DataSubjectRequest,
    DenyReason,
    JobStatus,
    Status,
)
from dsr.workflow.transitions import TransitionNotAllowed, request_transition

log = logging.getLogger(__name__)


def request_approve(*, request_id: uuid.UUID | str, actor: str) -> DataSubjectRequest:
    """Approve a verified request. Only ``awaiting_approval`` qualifies: the table also lets an
    unverified request go to work (auto-approve on verification) and a stuck one resume (retry),
    and an approval must do neither."""
    with transaction.atomic():
        locked = DataSubjectRequest.objects.select_for_update()
        current = locked.values_list("status", flat=True).get(pk=request_id)
        if current != Status.AWAITING_APPROVAL:
            raise TransitionNotAllowed(current, Status.IN_PROGRESS)
        return request_transition(
            request_id=request_id,
            to=Status.IN_PROGRESS,
            actor=actor,
            event="request.approved",
            fields={"approved_at": timezone.now()},
        )


def request_deny(*, request_id: uuid.UUID | str, actor: str, reason: str, message: str) -> DataSubjectRequest:
    if reason not in DenyReason.values:
        raise RequestInputError(
            {"reason": f"Unknown reason code; use one of {', '.join(DenyReason.values)}."}
        )
    if not message.strip():
        raise RequestInputError(
            {"message": "Explain the denial to the person; the law requires the reasons."}
        )
    return request_transition(
        request_id=request_id,
        to=Status.DENIED,
        actor=actor,
        event="request.denied",
        data={"reason": reason},
        fields={"deny_reason": reason, "deny_message": message.strip()},
    )


def request_cancel(*, request_id: uuid.UUID | str, actor: str, note: str = "") -> DataSubjectRequest:
    """Cancel the request. The note is kept on the request, encrypted (``cancel_note``); the audit
    event says only whether there is one."""
    note = note.strip()
    return request_transition(
        request_id=request_id,
        to=Status.CANCELLED,
        actor=actor,
        event="request.cancelled",
        data={"has_note": bool(note)},
        fields={"cancel_note": note},
    )


def job_retry(*, job_id: int, actor: str) -> ConnectorJob:
    """Put a failed job back in the queue; a request waiting on it goes back to work."""
    from dsr.audit.services import audit_record
    from dsr.workflow.jobs import job_enqueue

    with transaction.atomic():
        job = ConnectorJob.objects.select_for_update().select_related("request", "system").get(pk=job_id)
        if job.status != JobStatus.FAILED:
            raise RequestInputError({"job": "Only a failed job can be retried."})
        if job.request.status not in (Status.ACTION_REQUIRED, Status.IN_PROGRESS):
            raise RequestInputError({"job": "The request is closed; its jobs cannot be retried."})
        job.status = JobStatus.PENDING
        job.attempts = 0
        job.error = ""
        job.next_attempt_at = None
        job.finished_at = None
        job.save(
            update_fields=["status", "attempts", "error", "next_attempt_at", "finished_at", "updated_at"]
        )
        audit_record(
            actor=actor,
            action="job.retried",
            request_id=job.request_id,
            data={"job": job.pk, "system": job.system.key},
        )
        if job.request.status == Status.ACTION_REQUIRED:
            request_transition(
                request_id=job.request_id, to=Status.IN_PROGRESS, actor=actor, event="request.resumed"
            )
        else:
            job_enqueue(job=job)
    job.refresh_from_db()
    return job
