"""The one function that changes a request's status.

It locks the row, checks the transition table, saves, schedules the follow-up work with
``transaction.on_commit`` and writes the audit event last (the lock order of
``dsr/audit/services.py``). Nothing else assigns ``status``.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from dsr.audit.services import audit_record
from dsr.workflow.models import TERMINAL_STATUSES, DataSubjectRequest, JobStatus, Status

# from-status -> the statuses it may move to (DESIGN.md "The request lifecycle").
ALLOWED: dict[str, frozenset[str]] = {
    Status.PENDING_VERIFICATION: frozenset(
        {Status.AWAITING_APPROVAL, Status.IN_PROGRESS, Status.EXPIRED, Status.CANCELLED}
    ),
    Status.AWAITING_APPROVAL: frozenset({Status.IN_PROGRESS, Status.DENIED, Status.CANCELLED}),
    Status.IN_PROGRESS: frozenset({Status.COMPLETED, Status.ACTION_REQUIRED, Status.CANCELLED}),
    Status.ACTION_REQUIRED: frozenset({Status.IN_PROGRESS, Status.CANCELLED}),
    Status.COMPLETED: frozenset(),
    Status.DENIED: frozenset(),
    Status.EXPIRED: frozenset(),
    Status.CANCELLED: frozenset(),
}


class TransitionNotAllowed(Exception):
    def __init__(self, current: str, target: str) -> None:
        self.current = current
        self.target = target
        super().__init__(
            f"A request that is {Status(current).label.lower()} cannot become {Status(target).label.lower()}."
        )


def request_transition(
    *,
    request_id: uuid.UUID | str,
    to: str,
    actor: str,
    event: str,
    data: dict[str, Any] | None = None,
    fields: dict[str, Any] | None = None,
) -> DataSubjectRequest:
    """Move the request to ``to``; raise ``TransitionNotAllowed`` if the table forbids it.

    ``fields`` are other columns set in the same save (a deny reason, an approval time); ``event``
    names the audit action (``request.approved``...). Follow-up work is scheduled after commit.
    """
    from dsr.workflow import fanout  # the follow-ups live with the services that own them

    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request_id)
        current = request.status
        if to not in ALLOWED[current]:
            raise TransitionNotAllowed(current, to)
        now = timezone.now()
        request.status = to
        changed = ["status", "updated_at"]
        for name, value in (fields or {}).items():
            setattr(request, name, value)
            changed.append(name)
        if to in TERMINAL_STATUSES:
            request.closed_at = now
            changed.append("closed_at")
        if to != Status.ACTION_REQUIRED and "status_reason" not in changed:
            request.status_reason = ""
            changed.append("status_reason")
        request.save(update_fields=changed)

        if to == Status.IN_PROGRESS:
            fanout.request_fan_out(request=request)
        if to in TERMINAL_STATUSES:
            request.jobs.exclude(
                status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED]
            ).update(status=JobStatus.CANCELLED, finished_at=now, lease_expires_at=None)
        fanout.request_schedule_notifications(request=request, previous=current)
        # Last: the audit head is the last lock a transaction takes (LOCK ORDER in
        # dsr/audit/services.py). Cancelling jobs above locks job rows a worker may hold while it
        # waits for the head; taking the head first would deadlock with it.
        audit_record(
            actor=actor,
            action=event,
            request_id=request.pk,
            data={"from": current, "to": to, **(data or {})},
        )
    return request
