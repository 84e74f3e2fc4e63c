"""Services that write requests: intake, verification, staff decisions, fan-out and completion."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors import Capability, registry
from connectors.types import normalise_email, normalise_phone
from dsr.identity import crypto
from dsr.identity.models import Purpose
from dsr.identity.services import challenge_check, challenge_issue
from dsr.notifications.services import email_send_code
from dsr.systems.models import System
from dsr.workflow import deadlines
from dsr.workflow.models import (
    Action,
    Channel,
    ConnectorJob,
    DataSubjectRequest,
    DenyReason,
    JobStatus,
    RequestType,
    Status,
)
from dsr.workflow.transitions import request_transition

log = logging.getLogger(__name__)

ACTION_FOR_TYPE = {RequestType.ACCESS: Action.ACCESS, RequestType.ERASURE: Action.ERASE}
CAPABILITY_FOR_ACTION = {Action.ACCESS: Capability.ACCESS, Action.ERASE: Capability.ERASE}


class RequestInputError(Exception):
    """Input a person can fix; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def email_blind_index(email: str) -> str:
    return crypto.blind_index(normalise_email(email), purpose="email")


# --- intake and verification --------------------------------------------------------------------


def request_create(
    *,
    type: str,
    email: str,
    jurisdiction: str,
    full_name: str = "",
    phone: str = "",
    language: str = "en",
    channel: str = Channel.API,
) -> DataSubjectRequest:
    """Record a new request, start its legal clock and e-mail a verification code.

    The response must not reveal whether the e-mail is known anywhere (no enumeration), so
    nothing here looks the person up in any system.
    """
    jurisdiction = jurisdiction.strip().upper()
    try:
        regime = deadlines.regime_for(jurisdiction)
    except deadlines.UnknownJurisdiction:
        raise RequestInputError(
            {"jurisdiction": f"'{jurisdiction}' is not a supported jurisdiction code."}
        ) from None
    if type not in deadlines.rights_for(jurisdiction):
        raise RequestInputError(
            {"type": f"The law of {jurisdiction} does not grant a right of {type} requests."}
        )
    received_at = timezone.now()
    schedule = deadlines.schedule_for(jurisdiction=jurisdiction, request_type=type, received_at=received_at)
    with transaction.atomic():
        request = DataSubjectRequest.objects.create(
            type=type,
            jurisdiction=jurisdiction,
            regime=regime.code,
            channel=channel,
            language=language,
            email=normalise_email(email),
            email_index=email_blind_index(email),
            full_name=full_name.strip(),
            phone=normalise_phone(phone) if phone else "",
            received_at=received_at,
            ack_due_at=schedule.acknowledge.due_at if schedule.acknowledge else None,
            due_at=schedule.respond.due_at,
            due_explanation=schedule.respond.explanation,
        )
        from dsr.audit.services import audit_record

        audit_record(
            actor="subject",
            action="request.received",
            request_id=request.pk,
            data={"type": type, "jurisdiction": jurisdiction, "channel": channel, "due_at": request.due_at},
        )
        issued = challenge_issue(request_id=request.pk, purpose=Purpose.VERIFY)
        transaction.on_commit(lambda: email_send_code(request=request, code=issued.code), robust=True)
    return request


def request_resend_code(*, request_id: uuid.UUID | str) -> None:
    """Send a new code for the same request. Silently does nothing once the request is verified."""
    request = DataSubjectRequest.objects.filter(pk=request_id).first()
    if request is None or request.status != Status.PENDING_VERIFICATION:
        return
    issued = challenge_issue(request_id=request.pk, purpose=Purpose.VERIFY, resend=True)
    email_send_code(request=request, code=issued.code)


def request_verify(*, request_id: uuid.UUID | str, code: str) -> DataSubjectRequest:
    """Check the code; on success move the request on (to approval, or straight to work)."""
    challenge_check(request_id=request_id, code=code, purpose=Purpose.VERIFY)
    request = DataSubjectRequest.objects.get(pk=request_id)
    target = Status.IN_PROGRESS if request.type in settings.DSR_AUTO_APPROVE else Status.AWAITING_APPROVAL
    now = timezone.now()
    fields: dict[str, Any] = {"verified_at": now}
    if target == Status.IN_PROGRESS:
        fields["approved_at"] = now
    return request_transition(
        request_id=request_id, to=target, actor="subject", event="request.verified", fields=fields
    )


# --- staff decisions ----------------------------------------------------------------------------


def request_approve(*, request_id: uuid.UUID | str, actor: str) -> DataSubjectRequest:
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
    return request_transition(
        request_id=request_id,
        to=Status.CANCELLED,
        actor=actor,
        event="request.cancelled",
        data={"note": note},
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


# --- fan-out and completion ---------------------------------------------------------------------


def request_fan_out(*, request: DataSubjectRequest) -> list[ConnectorJob]:
    """Create one job per enabled system that supports the request's action, inside the caller's
    transaction, and enqueue the runnable ones after commit. Existing jobs are kept (a resumed
    request does not create duplicates: the (request, system, action) constraint forbids it)."""
    from dsr.workflow.jobs import job_enqueue

    action = ACTION_FOR_TYPE[RequestType(request.type)]
    capability = CAPABILITY_FOR_ACTION[action]
    systems = [
        s
        for s in System.objects.filter(enabled=True).prefetch_related("erase_after")
        if capability in registry.get(s.connector).capabilities
    ]
    in_request = {s.pk for s in systems}
    existing = {job.system_id: job for job in request.jobs.all()}
    created = []
    for system in systems:
        if system.pk in existing:
            continue
        blocked = action == Action.ERASE and any(dep.pk in in_request for dep in system.erase_after.all())
        try:
            with transaction.atomic():
                job = ConnectorJob.objects.create(
                    request=request,
                    system=system,
                    action=action,
                    status=JobStatus.BLOCKED if blocked else JobStatus.PENDING,
                )
        except IntegrityError:  # created concurrently; the constraint keeps one
            continue
        created.append(job)
    for job in request.jobs.filter(status=JobStatus.PENDING):
        job_enqueue(job=job)
    if not systems and not existing:
        transaction.on_commit(lambda: _enqueue_check(request.pk), robust=True)
    return created


def _enqueue_check(request_id: uuid.UUID) -> None:
    from dsr.workflow.tasks import check_request

    check_request.delay(str(request_id))


def request_check_finished(*, request_id: uuid.UUID | str) -> None:
    """Under the request's lock: release blocked jobs whose predecessors succeeded, and close the
    request when every job is terminal (completed, or action required when any failed)."""
    from dsr.workflow.jobs import job_enqueue

    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request_id)
        if request.status != Status.IN_PROGRESS:
            return
        jobs = list(request.jobs.select_related("system").prefetch_related("system__erase_after"))
        by_system = {job.system_id: job for job in jobs}
        for job in jobs:
            if job.status != JobStatus.BLOCKED:
                continue
            deps = [by_system[d.pk] for d in job.system.erase_after.all() if d.pk in by_system]
            if all(dep.status == JobStatus.SUCCEEDED for dep in deps):
                job.status = JobStatus.PENDING
                job.save(update_fields=["status", "updated_at"])
                job_enqueue(job=job)
        if any(job.status in (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.WAITING) for job in jobs):
            return
        failed = [job for job in jobs if job.status == JobStatus.FAILED]
        blocked = [job for job in jobs if job.status == JobStatus.BLOCKED]
        if failed or blocked:
            reason = "; ".join(
                [f"{job.system.name}: {job.error or 'failed'}" for job in failed]
                + [f"{job.system.name}: waiting for a system that failed" for job in blocked]
            )
            request_transition(
                request_id=request.pk,
                to=Status.ACTION_REQUIRED,
                actor="worker",
                event="request.action_required",
                data={"failed_jobs": [job.pk for job in failed]},
                fields={"status_reason": reason[:2000]},
            )
            return
        if request.type == RequestType.ACCESS:
            transaction.on_commit(lambda: _enqueue_finalize(request.pk), robust=True)
        else:
            request_complete(request=request)


def _enqueue_finalize(request_id: uuid.UUID) -> None:
    from dsr.workflow.tasks import finalize_request

    finalize_request.delay(str(request_id))


def request_complete(*, request: DataSubjectRequest) -> DataSubjectRequest:
    jobs = list(request.jobs.select_related("system"))
    summary = {
        job.system.key: {
            "action": job.action,
            "found": job.records_found,
            "erased": job.records_erased,
            "retained": job.records_retained,
        }
        for job in jobs
    }
    return request_transition(
        request_id=request.pk,
        to=Status.COMPLETED,
        actor="worker",
        event="request.completed",
        data={"jobs": summary},
    )


def request_finalize(*, request_id: uuid.UUID | str) -> None:
    """Build the access package (idempotent) and complete the request."""
    from dsr.exports.services import package_build

    request = DataSubjectRequest.objects.get(pk=request_id)
    if request.status != Status.IN_PROGRESS:
        return
    package_build(request=request)
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request_id)
        if request.status == Status.IN_PROGRESS:
            request_complete(request=request)


def request_schedule_notifications(*, request: DataSubjectRequest, previous: str) -> None:
    """E-mails the person receives on a status change (sent by a task, after commit)."""
    from dsr.notifications.tasks import send_request_email

    kind = None
    if previous == Status.PENDING_VERIFICATION and request.status in (
        Status.AWAITING_APPROVAL,
        Status.IN_PROGRESS,
    ):
        kind = "acknowledged"
    elif request.status == Status.COMPLETED:
        kind = "completed"
    elif request.status == Status.DENIED:
        kind = "denied"
    if kind is not None:
        request_id, chosen = str(request.pk), kind
        transaction.on_commit(lambda: send_request_email.delay(request_id, chosen), robust=True)


# --- housekeeping -------------------------------------------------------------------------------


def requests_expire_unverified(*, batch_size: int = 500) -> int:
    """Expire requests never verified in time and purge their identity data (minimisation)."""
    cutoff = timezone.now() - settings.DSR_UNVERIFIED_EXPIRY
    ids = list(
        DataSubjectRequest.objects.filter(
            status=Status.PENDING_VERIFICATION, received_at__lt=cutoff
        ).values_list("pk", flat=True)[:batch_size]
    )
    for request_id in ids:
        request_transition(
            request_id=request_id,
            to=Status.EXPIRED,
            actor="system",
            event="request.expired",
            fields={"email": "", "full_name": "", "phone": "", "identity_purged_at": timezone.now()},
        )
        from dsr.identity.models import VerificationChallenge

        VerificationChallenge.objects.filter(request_id=request_id).delete()
    return len(ids)
