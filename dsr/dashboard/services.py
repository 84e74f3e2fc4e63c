"""Services behind the privacy-team dashboard and the staff API operations it adds.

Each function is keyword-only, typed and atomic, writes one audit event per change, and is the one
way the dashboard, the staff API and the Celery tasks perform that change.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dsr.audit.services import ChainReport, audit_record, audit_verify_chain
from dsr.dashboard.models import Assignment, ManualTask, Note, SystemCheck, TaskStatus
from dsr.errors import RequestInputError
from dsr.notifications.services import email_render, email_send
from dsr.staff.actors import staff_actor
from dsr.staff.roles import has_permission
from dsr.systems.models import System
from dsr.systems.services import system_build_connector
from dsr.workflow import deadlines
from dsr.workflow.decisions import request_approve, request_deny
from dsr.workflow.models import DataSubjectRequest
from dsr.workflow.transitions import TransitionNotAllowed

log = logging.getLogger(__name__)


# --- deadlines ----------------------------------------------------------------------------------


def request_extend(
    *, request_id: uuid.UUID | str, actor: str, reason: str, now: datetime | None = None
) -> DataSubjectRequest:
    """Extend the response deadline once and tell the person why, as the law requires.

    GDPR Art. 12(3): by two further months, with the reasons, notified within the first month.
    11 CCR §7021(b) / Civ. Code §1798.130(a)(2): by 45 more days, once, with notice and the reason
    inside the first 45 days. The period, citation and "notice in time" check come from
    ``deadlines.extend``; refusals raise ``RequestInputError`` with the legal reason.
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


# --- assignment, notes, manual tasks ------------------------------------------------------------


def request_assign(*, request_id: uuid.UUID | str, assignee: Any | None, actor: str) -> Assignment | None:
    """Give the request to ``assignee`` (a staff member who may work on requests) or unassign it."""
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
        # The request row before the audit head (LOCK ORDER, dsr/audit/services.py), like every
        # other write on a request: taken implicitly by the note's foreign key it could wait for a
        # transition that holds the row and waits for the head.
        request = DataSubjectRequest.objects.select_for_update().get(pk=request_id)
        note = Note.objects.create(request=request, author=author, body=body)
        audit_record(
            actor=staff_actor(author),
            action="request.note_added",
            request_id=request.pk,
            data={"note": note.pk},
        )
    return note


def task_create(*, request_id: uuid.UUID | str, title: str, actor: str) -> ManualTask:
    title = title.strip()
    if not title:
        raise RequestInputError({"title": _("Say what has to be done.")})
    with transaction.atomic():
        request = DataSubjectRequest.objects.get(pk=request_id)
        if request.is_terminal:
            raise RequestInputError({"request": _("A closed request takes no new tasks.")})
        task = ManualTask.objects.create(request=request, title=title[:200], created_by=actor)
        audit_record(
            actor=actor,
            action="task.created",
            request_id=request.pk,
            data={"task": task.pk},  # the title stays on the task, encrypted
        )
    return task


def task_complete(*, task_id: int, actor: str, outcome: str = "") -> ManualTask:
    with transaction.atomic():
        task = ManualTask.objects.select_for_update().get(pk=task_id)
        if task.status == TaskStatus.DONE:
            raise RequestInputError({"task": _("This task is already done.")})
        task.status = TaskStatus.DONE
        task.done_by = actor
        task.done_at = timezone.now()
        task.outcome = outcome.strip()
        task.save(update_fields=["status", "done_by", "done_at", "outcome"])
        audit_record(actor=actor, action="task.completed", request_id=task.request_id, data={"task": task.pk})
    return task


# --- identities and packages --------------------------------------------------------------------


# The identity reveal (``identity_reveal``) lives in the core, ``dsr.workflow.identities``: the
# dashboard and the staff API show identities masked and reveal them through the same audited call.


# --- bulk actions on the queue ------------------------------------------------------------------


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


# --- systems ------------------------------------------------------------------------------------


def system_check(*, system_id: int, actor: str) -> SystemCheck:
    """Run the connector's ``check()`` (connectivity and credentials) and keep the result.

    A connector that cannot even be built (bad configuration, missing secret) is a failed check
    with its message, not an error page.
    """
    system = System.objects.get(pk=system_id)
    try:
        outcome = system_build_connector(system=system).check()
        ok, message = outcome.ok, outcome.message
    except Exception as exc:  # any failure is the check's answer, shown to the team
        log.info("check of system %s failed: %s", system.key, exc)
        ok, message = False, f"{type(exc).__name__}: {exc}"
    with transaction.atomic():
        check, _created = SystemCheck.objects.update_or_create(
            system=system,
            defaults={"ok": ok, "message": message[:2000], "checked_at": timezone.now(), "checked_by": actor},
        )
        audit_record(actor=actor, action="system.checked", data={"system": system.key, "ok": ok})
    if not ok:
        from dsr.notifications.alerts import alert_system_check_failed

        alert_system_check_failed(system_key=system.key, message=message)
    return check


# --- audit --------------------------------------------------------------------------------------


def audit_verify(*, actor: str) -> ChainReport:
    """Verify the hash chain, then record that it was verified and what was found."""
    report = audit_verify_chain()
    audit_record(
        actor=actor,
        action="audit.verified",
        data={"ok": report.ok, "checked": report.checked, "broken_at": report.broken_at},
    )
    return report


# --- staff --------------------------------------------------------------------------------------


def staff_add(*, username: str, email: str, role: str, password: str, actor: str) -> Any:
    """A new staff member with a dashboard password; two-factor enrolment happens at first sign-in."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from dsr.staff.services import staff_create

    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise RequestInputError({"username": _("That username is taken.")})
    try:
        validate_password(password, user=user_model(username=username, email=email))
    except ValidationError as exc:
        raise RequestInputError({"password": " ".join(exc.messages)}) from None
    with transaction.atomic():
        profile, _token = staff_create(username=username, role=role, email=email, actor=actor)
        profile.user.set_password(password)
        profile.user.save(update_fields=["password"])
    return profile.user


def staff_set_password(*, user: Any, password: str, actor: str) -> None:
    """Set a staff member's dashboard password (validated by AUTH_PASSWORD_VALIDATORS)."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise RequestInputError({"password": " ".join(exc.messages)}) from None
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(actor=actor, action="staff.password_set", data={"username": user.get_username()})


def staff_set_active(*, user: Any, active: bool, actor: str) -> None:
    with transaction.atomic():
        if user.is_active != active:
            user.is_active = active
            user.save(update_fields=["is_active"])
            audit_record(
                actor=actor,
                action="staff.activated" if active else "staff.deactivated",
                data={"username": user.get_username()},
            )


# --- the daily digest ---------------------------------------------------------------------------

DIGEST_LIMIT = 200  # requests listed per section; the e-mail says how many more there are


def digest_send(*, now: datetime | None = None) -> int:
    """E-mail every active staff member with an address the open requests that are overdue or due
    within ``DSR_DUE_SOON``. References only, no identities. Nothing due: nothing sent.

    Returns the number of e-mails sent.
    """
    from dsr.dashboard.selectors import open_requests

    now = now or timezone.now()
    overdue_qs = open_requests().filter(due_at__lt=now)
    soon_qs = open_requests().filter(due_at__gte=now, due_at__lte=now + settings.DSR_DUE_SOON)
    overdue_total, soon_total = overdue_qs.count(), soon_qs.count()
    from dsr.notifications.alerts import alerts_since

    alerts = alerts_since(since=timedelta(days=1))  # the digest is daily
    if not overdue_total and not soon_total and not alerts:
        return 0
    context = {
        "now": now,
        "overdue": list(overdue_qs.select_related("assignment__assignee")[:DIGEST_LIMIT]),
        "overdue_total": overdue_total,
        "soon": list(soon_qs.select_related("assignment__assignee")[:DIGEST_LIMIT]),
        "soon_total": soon_total,
        "soon_days": settings.DSR_DUE_SOON.days,
        "site_url": settings.SITE_URL,
        "limit": DIGEST_LIMIT,
        "alerts": alerts,
    }
    text, html = email_render(template="digest", context=context)
    subject = _("DSR Hub: %(overdue)d overdue, %(soon)d due within %(days)d days") % {
        "overdue": overdue_total,
        "soon": soon_total,
        "days": settings.DSR_DUE_SOON.days,
    }
    recipients = (
        get_user_model()
        .objects.filter(is_active=True, staff__isnull=False)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )
    sent = 0
    for address in recipients:  # one message each: staff do not see each other's addresses
        email_send(subject=subject, to=address, text=text, html=html)
        sent += 1
    return sent
