"""Casework: what staff do to a request besides deciding it — extend its deadline, assign it,
write internal notes, and act on several requests at once.

The one way the dashboard and the staff API perform these changes. Each service is keyword-only,
typed and atomic, and takes the locks in the documented order (``dsr.audit.services``): the
request row first (``select_for_update``), then the rows it writes, and the audit chain last.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dsr.audit.services import audit_record
from dsr.errors import RequestInputError
from dsr.staff.actors import staff_actor
from dsr.staff.roles import has_permission
from dsr.workflow import deadlines
from dsr.workflow.decisions import request_approve, request_deny
from dsr.workflow.models import Assignment, DataSubjectRequest, Note
from dsr.workflow.transitions import TransitionNotAllowed

# --- deadlines ------------------------------------------------------------------------------------


def request_extend(
    *, request_id: uuid.UUID | str, actor: str, reason: str, now: datetime | None = None
) -> DataSubjectRequest:
    """Extend the response deadline once and tell the person why, as the law requires.

    GDPR Art. 12(3): by two further months, with the reasons, notified within the first month.
    11 CCR §7021(b) / Civ. Code §1798.130(a)(2): by 45 more days, once, with notice and the reason
    inside the first 45 days. The period, citation and "notice in time" check come from
    ``deadlines.extend``; refusals raise ``RequestInputError`` with the legal reason. The notice is
    sent after commit (``dsr.notifications.tasks.send_extension_notice``).
    """
    reason = reason.strip()
    if not reason:
        raise RequestInputError({"reason": _("Give the reason: the law requires it in the notice.")})
    now = now or timezone.now()
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request_id)
        if request.is_terminal:
            raise RequestInputError({"request": _("A closed request cannot be extended.")})
        try:
            schedule = deadlines.schedule_for(
                jurisdiction=request.jurisdiction, request_type=request.type, received_at=request.received_at
            )
            extended = deadlines.extend(
                schedule=schedule, extended_at=now, already_extended=request.extended_at is not None
            )
        except deadlines.DeadlineError as exc:  # no extension rule, too late, already extended
            raise RequestInputError({"request": str(exc)[:1].upper() + str(exc)[1:] + "."}) from None
        previous_due = request.due_at
        request.due_at = extended.due_at
        request.due_explanation = extended.explanation
        request.extended_at = now
        request.extension_reason = reason
        request.save(
            update_fields=["due_at", "due_explanation", "extended_at", "extension_reason", "updated_at"]
        )
        audit_record(
            actor=actor,
            action="request.extended",
            request_id=request.pk,
            data={"from_due_at": previous_due, "due_at": request.due_at, "citation": extended.citation},
        )
        request_id_text = str(request.pk)

        def notify() -> None:
            from dsr.notifications.tasks import send_extension_notice

            send_extension_notice.delay(request_id_text)

        transaction.on_commit(notify, robust=True)
    return request


# --- assignment and notes -------------------------------------------------------------------------


def request_assign(*, request_id: uuid.UUID | str, assignee: Any | None, actor: str) -> Assignment | None:
    """Give the request to ``assignee`` (a staff member who may work on requests) or unassign it.

    Returns the assignment, or None when the request is unassigned. Assigning to the current
    assignee changes nothing and records nothing.
    """
    if assignee is not None and not has_permission(assignee, "request.work"):
        raise RequestInputError(
            {"assignee": _("Requests can be assigned only to agents, approvers and admins.")}
        )
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request_id)
        current = Assignment.objects.filter(request=request).select_related("assignee").first()
        previous = current.assignee.get_username() if current else None
        new = assignee.get_username() if assignee is not None else None
        if previous == new:
            return current
        if assignee is None:
            Assignment.objects.filter(request=request).delete()
            result = None
        else:
            result, _created = Assignment.objects.update_or_create(
                request=request,
                defaults={"assignee": assignee, "assigned_at": timezone.now(), "assigned_by": actor},
            )
        audit_record(
            actor=actor, action="request.assigned", request_id=request.pk, data={"from": previous, "to": new}
        )
    return result


def note_add(*, request_id: uuid.UUID | str, author: Any, body: str) -> Note:
    """An internal note. The audit event records that a note was written, not its text."""
    body = body.strip()
    if not body:
        raise RequestInputError({"body": _("Write the note first.")})
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request_id)
        note = Note.objects.create(request=request, author=author, body=body)
        audit_record(
            actor=staff_actor(author),
            action="request.note_added",
            request_id=request.pk,
            data={"note": note.pk},
        )
    return note


# --- bulk actions on the queue --------------------------------------------------------------------


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)  # references
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (reference, why)


def requests_bulk(
    *,
    action: str,
    request_ids: list[str],
    actor: str,
    reason: str = "",
    message: str = "",
    assignee: Any | None = None,
) -> BulkResult:
    """Approve, deny or assign several requests; each one is its own transaction, so one request
    in the wrong state is reported and skipped without undoing the others."""
    result = BulkResult()
    requests = DataSubjectRequest.objects.filter(pk__in=request_ids).order_by("due_at")
    for request in requests:
        try:
            if action == "approve":
                request_approve(request_id=request.pk, actor=actor)
            elif action == "deny":
                request_deny(request_id=request.pk, actor=actor, reason=reason, message=message)
            elif action == "assign":
                request_assign(request_id=request.pk, assignee=assignee, actor=actor)
            else:
                raise ValueError(f"unknown bulk action {action!r}")
        except TransitionNotAllowed as exc:
            result.skipped.append((request.reference, str(exc)))
        except RequestInputError as exc:
            if action == "deny" and set(exc.errors) & {"reason", "message"}:
                raise  # the same for every request: the form is wrong, not the request
            result.skipped.append((request.reference, "; ".join(exc.errors.values())))
        else:
            result.done.append(request.reference)
    return result
