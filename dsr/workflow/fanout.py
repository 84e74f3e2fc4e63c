"""Fan-out and completion: one job per (request, system, action) on entering ``in_progress``, then
"is the request finished?" after each job, and the completion (package, e-mail)."""

from __future__ import annotations

import logging
import uuid

from django.db import IntegrityError, transaction

from connectors import Capability, registry
from connectors.handoff import HandoffConnector
from dsr.notifications.outbox import email_queue
from dsr.systems.models import System
from dsr.workflow.models import (
    Action,
    ConnectorJob,
    DataSubjectRequest,
    JobStatus,
    RequestType,
    Status,
)
from dsr.workflow.transitions import request_transition

log = logging.getLogger(__name__)


ACTION_FOR_TYPE = {
    RequestType.ACCESS: Action.ACCESS,
    RequestType.ERASURE: Action.ERASE,
    RequestType.CORRECTION: Action.CORRECT,
    RequestType.OPT_OUT: Action.OPT_OUT,
    RequestType.MARKETING: Action.OPT_OUT,  # an e-mail platform's unsubscribe / suppression
}
CAPABILITY_FOR_ACTION = {
    Action.ACCESS: Capability.ACCESS,
    Action.ERASE: Capability.ERASE,
    Action.CORRECT: Capability.CORRECT,
    Action.OPT_OUT: Capability.OPT_OUT,
}
# Actions the job runner (``jobs.job_run``) executes on any connector that declares the matching
# capability: ``access``, ``erase`` or ``opt_out``. A correction job is created only for hand-off
# connectors (a person does the work, whatever the action); otherwise the privacy team applies
# corrections by hand (see request_check_finished).
RUNNABLE_ACTIONS = frozenset({Action.ACCESS, Action.ERASE, Action.OPT_OUT})
# Actions whose request is done when no system holds the subject's data. An opt-out must still be
# honoured (a sale/sharing or marketing preference outlives the records), so an opt-out that no
# connected system applies goes to the privacy team instead of completing with nothing done.
COMPLETE_WITHOUT_JOBS = frozenset({Action.ACCESS, Action.ERASE})


def _runs(action: str, connector_key: str) -> bool:
    """True when a job for ``action`` would do exactly that action on this connector kind."""
    kind = registry.get(connector_key)
    return action in RUNNABLE_ACTIONS or issubclass(kind, HandoffConnector)


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
        if capability in registry.get(s.connector).capabilities and _runs(action, s.connector)
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
        if not jobs and ACTION_FOR_TYPE[RequestType(request.type)] not in COMPLETE_WITHOUT_JOBS:
            # No system applies this correction or opt-out automatically: completing here would
            # claim work nobody did, so the privacy team is asked to apply it by hand.
            request_transition(
                request_id=request.pk,
                to=Status.ACTION_REQUIRED,
                actor="worker",
                event="request.action_required",
                data={"manual": True},
                fields={
                    "status_reason": "No connected system applies this automatically: "
                    "apply it by hand in each system, then close the request."
                },
            )
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
    from dsr.exports.package import package_build

    request = DataSubjectRequest.objects.get(pk=request_id)
    if request.status != Status.IN_PROGRESS:
        return
    package_build(request=request)
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request_id)
        if request.status == Status.IN_PROGRESS:
            request_complete(request=request)


def request_schedule_notifications(*, request: DataSubjectRequest, previous: str) -> None:
    """E-mails the person receives on a status change (queued in the outbox with the change; the
    worker sends them after commit)."""
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
        email_queue(request=request, kind=kind)
