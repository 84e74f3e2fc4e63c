"""Running connector jobs: enqueue after commit, claim atomically, run, record, retry, reconcile.

The database is the source of truth; the broker only delivers job ids. A worker claims a job with
a conditional UPDATE and learns from the row count whether it won, so a duplicate message, a
redelivery after a crash, or the reconciler's re-enqueue can never run one job twice at once.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from connectors import Capability, Connector, ErasureMethod, ErasureResult, JobHandle, Subject
from connectors.errors import PermanentError, RateLimited, TransientError
from connectors.handoff import HandoffConnector, is_handoff
from dsr.audit.services import audit_record
from dsr.exports.parts import access_part_write
from dsr.systems.services import system_build_connector
from dsr.tasks.services import task_open, task_poll
from dsr.workflow.models import Action, ConnectorJob, DataSubjectRequest, JobStatus, Status

log = logging.getLogger(__name__)


def queue_for(connector_key: str) -> str:
    """The Celery queue of a connector kind (``DSR_JOB_QUEUES``), so a slow vendor cannot starve others."""
    return str(settings.DSR_JOB_QUEUES.get(connector_key, settings.CELERY_TASK_DEFAULT_QUEUE))


def job_enqueue(*, job: ConnectorJob, countdown: float = 0) -> None:
    """Mark the job as enqueued (for the reconciler) and send its id to the broker after commit."""
    due = timezone.now() + timedelta(seconds=countdown)
    ConnectorJob.objects.filter(pk=job.pk).update(enqueued_at=due)
    queue = queue_for(job.system.connector)
    job_id = job.pk

    def send() -> None:
        from dsr.workflow.tasks import run_job

        run_job.apply_async(args=[job_id], countdown=countdown or None, queue=queue)

    transaction.on_commit(send, robust=True)


def job_wake(*, job_id: int) -> bool:
    """Make a waiting job due now and enqueue it (the person its hand-off task waited for answered).

    Returns False when the job is not waiting (already woken, or being polled right now: that poll,
    or the next one after ``poll_after``, sees the completed task).
    """
    job = ConnectorJob.objects.select_related("system").get(pk=job_id)
    woken = ConnectorJob.objects.filter(pk=job_id, status=JobStatus.WAITING).update(
        next_attempt_at=timezone.now(), updated_at=timezone.now()
    )
    if woken:
        with transaction.atomic():
            job_enqueue(job=job)
    return bool(woken)


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with full jitter, bounded by ``DSR_JOB_BACKOFF_MAX``."""
    ceiling = min(settings.DSR_JOB_BACKOFF_MAX, settings.DSR_JOB_BACKOFF_BASE * (2 ** max(attempt - 1, 0)))
    return settings.DSR_JOB_BACKOFF_BASE / 2 + random.uniform(0, ceiling)  # noqa: S311 - jitter, not security  # nosec B311


def job_claim(*, job_id: int) -> ConnectorJob | None:
    """Take the job if it is runnable now, or if its previous worker's lease expired.

    Returns the claimed job, or None when another worker has it, it is not due yet, it is
    finished, or its request is no longer in progress.
    """
    now = timezone.now()
    runnable = Q(status__in=[JobStatus.PENDING, JobStatus.WAITING]) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    # A job whose workers keep dying (a crash, an out-of-memory kill) is taken over only while it
    # has attempts left; after that ``job_fail_abandoned`` fails it, so retries stay bounded.
    abandoned = Q(
        status=JobStatus.RUNNING, lease_expires_at__lt=now, attempts__lt=settings.DSR_JOB_MAX_ATTEMPTS
    )
    won = (
        ConnectorJob.objects.filter(pk=job_id, request__status=Status.IN_PROGRESS)
        .filter(runnable | abandoned)
        .update(
            status=JobStatus.RUNNING,
            attempts=F("attempts") + 1,
            lease_expires_at=now + settings.DSR_JOB_LEASE,
            started_at=now,
            updated_at=now,
        )
    )
    if not won:
        return None
    return ConnectorJob.objects.select_related("request", "system").get(pk=job_id)


def job_fail_abandoned(*, job_id: int) -> bool:
    """Fail a job whose lease expired after its last allowed attempt (each worker running it died).

    Returns True when this call failed it; the job's outcome and its audit event commit together.
    """
    now = timezone.now()
    with transaction.atomic():
        job = (
            ConnectorJob.objects.select_for_update()
            .select_related("system")
            .filter(
                pk=job_id,
                request__status=Status.IN_PROGRESS,
                status=JobStatus.RUNNING,
                lease_expires_at__lt=now,
                attempts__gte=settings.DSR_JOB_MAX_ATTEMPTS,
            )
            .first()
        )
        if job is None:
            return False
        message = f"gave up after {job.attempts} attempts: the worker running it stopped before it finished"
        job.status = JobStatus.FAILED
        job.error = message
        job.lease_expires_at = None
        job.finished_at = now
        job.save(update_fields=["status", "error", "lease_expires_at", "finished_at", "updated_at"])
        audit_record(
            actor="worker",
            action="job.failed",
            request_id=job.request_id,
            data={"job": job.pk, "system": job.system.key, "error": message},
        )
        failed_id = job.pk
        transaction.on_commit(lambda: _alert_safely(failed_id))
    return True


def _finish(job: ConnectorJob, **values: Any) -> bool:
    """Store an outcome only if this worker still holds the job (its lease was not taken over)."""
    values.setdefault("updated_at", timezone.now())
    return bool(
        ConnectorJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts).update(
            **values
        )
    )


def _subject(request: DataSubjectRequest) -> Subject:
    return Subject.create(
        email=request.email,
        full_name=request.full_name or None,
        phone=request.phone or None,
        reference=request.reference,
    )


def job_run(*, job_id: int) -> None:
    """Claim and run one job, record its outcome, and check whether the request is finished."""
    from dsr.workflow.fanout import request_check_finished

    job = job_claim(job_id=job_id)
    if job is None:
        if job_fail_abandoned(job_id=job_id):
            request_check_finished(
                request_id=ConnectorJob.objects.values_list("request_id", flat=True).get(pk=job_id)
            )
        return
    system = job.system
    connector: Connector | None = None
    try:
        # A test request runs the real connector in dry-run mode: it reads, and reports what it
        # would erase or suppress, but writes nothing.
        connector = system_build_connector(system=system, dry_run=job.request.is_test)
        if job.external_handle:
            handle = JobHandle.from_dict(job.external_handle)
            # A hand-off handle waits for a person: the platform answers its poll (dsr/tasks).
            outcome: object = (
                task_poll(job=job, handle=handle) if is_handoff(handle) else connector.poll(handle)
            )
        elif isinstance(connector, HandoffConnector) and connector.dry_run:
            outcome = _handoff_dry_run(job, connector)
        elif isinstance(connector, HandoffConnector):
            handle = connector.handoff(_subject(job.request), Capability(job.action))
            outcome = task_open(job=job, handle=handle)
        elif job.action == Action.ACCESS:
            outcome = access_part_write(job=job, records=connector.access(_subject(job.request)))
        elif job.action == Action.ERASE:
            outcome = connector.erase(_subject(job.request))
        elif job.action == Action.OPT_OUT:
            outcome = connector.opt_out(_subject(job.request))
        else:
            # Corrections run only through hand-off connectors for now; never fall through to an
            # erasure (fanout.RUNNABLE_ACTIONS keeps such jobs from being created).
            raise PermanentError(f"{system.connector} cannot apply {job.action} requests automatically")
    except RateLimited as exc:
        delay = max(exc.retry_after or 0, backoff_seconds(job.attempts))
        _retry_or_fail(job, connector, exc, delay=delay)
    except TransientError as exc:
        _retry_or_fail(job, connector, exc, delay=backoff_seconds(job.attempts))
    except PermanentError as exc:
        _fail(job, _message(connector, exc))
    except Exception as exc:  # a bug in a connector: bounded retries, then a readable failure
        log.exception("job %s (%s) crashed", job.pk, system.key)
        _retry_or_fail(job, connector, exc, delay=backoff_seconds(job.attempts))
    else:
        _record(job, outcome)
    finally:
        if connector is not None:
            connector.close()
    request_check_finished(request_id=job.request_id)


def _handoff_dry_run(job: ConnectorJob, connector: HandoffConnector) -> object:
    """A test request opens no hand-off task and contacts nobody: an access part with no records,
    or the connector's own dry-run result (found 0, nothing erased)."""
    if job.action == Action.ACCESS:
        return access_part_write(job=job, records=iter(()))
    return ErasureResult(
        found=0,
        erased=0,
        method=ErasureMethod.NONE,
        dry_run=True,
        notes=f"dry run ({connector.label}): no task was opened and nobody was contacted",
    )


def _message(connector: Connector | None, exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if not isinstance(exc, (TransientError, PermanentError)):
        text = f"internal error ({type(exc).__name__}): {text}"
    return connector.redact(text)[:2000] if connector else text[:2000]


def _retry_or_fail(
    job: ConnectorJob, connector: Connector | None, exc: BaseException, *, delay: float
) -> None:
    message = _message(connector, exc)
    if job.attempts >= settings.DSR_JOB_MAX_ATTEMPTS:
        _fail(job, f"gave up after {job.attempts} attempts: {message}")
        return
    next_at = timezone.now() + timedelta(seconds=delay)
    with transaction.atomic():
        if _finish(
            job, status=JobStatus.PENDING, next_attempt_at=next_at, lease_expires_at=None, error=message
        ):
            log.info("job %s: transient error, retry %s in %.1fs", job.pk, job.attempts + 1, delay)
            job_enqueue(job=job, countdown=delay)


# An outcome and its audit event are written in one transaction: a connection lost between the two
# (database restart, failover) must not leave a finished job without its audit event.


@transaction.atomic
def _fail(job: ConnectorJob, message: str) -> None:
    if _finish(
        job, status=JobStatus.FAILED, error=message, lease_expires_at=None, finished_at=timezone.now()
    ):
        audit_record(
            actor="worker",
            action="job.failed",
            request_id=job.request_id,
            data={"job": job.pk, "system": job.system.key, "error": message},
        )
        failed_id = job.pk
        transaction.on_commit(lambda: _alert_safely(failed_id))


def _alert_safely(job_id: int) -> None:
    # An alert that cannot be raised (mail server down) must not fail the worker's task.
    from dsr.notifications.alerts import alert_job_failed

    try:
        alert_job_failed(job_id=job_id)
    except Exception:
        log.exception("job %s: the failure alert could not be raised", job_id)


@transaction.atomic
def _record(job: ConnectorJob, outcome: object) -> None:
    now = timezone.now()
    if isinstance(outcome, JobHandle):
        # Stored before anything else happens, so a retried task polls instead of resubmitting.
        next_at = now + timedelta(seconds=outcome.poll_after)
        if _finish(
            job,
            status=JobStatus.WAITING,
            external_handle=outcome.to_dict(),
            next_attempt_at=next_at,
            lease_expires_at=None,
            attempts=0,
            error="",
        ):
            audit_record(
                actor="worker",
                action="job.queued_at_vendor",
                request_id=job.request_id,
                data={"job": job.pk, "system": job.system.key, "handle": outcome.id},
            )
            job_enqueue(job=job, countdown=outcome.poll_after)
        return
    values: dict[str, Any] = {
        "status": JobStatus.SUCCEEDED,
        "finished_at": now,
        "lease_expires_at": None,
        "error": "",
    }
    if isinstance(outcome, ErasureResult):
        values.update(
            records_found=outcome.found,
            records_erased=outcome.erased,
            records_retained=outcome.retained_count,
            method=str(outcome.method),
            detail={
                "per_category": dict(outcome.per_category),
                "retained": [
                    # The inventory's retention is copied so the answer stays what it was then.
                    {
                        "category": r.category,
                        "count": r.count,
                        "basis": r.basis,
                        "retention": job.system.retention,
                    }
                    for r in outcome.retained
                ],
                "notes": outcome.notes,
                "dry_run": outcome.dry_run,
            },
        )
    else:  # an access part: (path, per-category counts)
        path, counts = cast(tuple[str, dict[str, int]], outcome)
        values.update(records_found=sum(counts.values()), result_path=path, detail={"per_category": counts})
    if _finish(job, **values):
        audit_record(
            actor="worker",
            action="job.succeeded",
            request_id=job.request_id,
            data={
                "job": job.pk,
                "system": job.system.key,
                "action": job.action,
                "found": values.get("records_found"),
                "erased": values.get("records_erased"),
                "retained": values.get("records_retained"),
            },
        )


def jobs_reconcile(*, batch_size: int = 500) -> dict[str, int]:
    """Recover from lost messages and dead workers; safe to run at any time, on any machine.

    - running jobs whose lease expired are enqueued again (the claim takes them over);
    - pending or waiting jobs that were due long ago but never picked up are enqueued again;
    - requests in progress whose jobs are all finished are checked (the worker died after
      recording the last outcome).
    """
    from dsr.workflow.fanout import request_check_finished

    now = timezone.now()
    stale = now - settings.DSR_JOB_REQUEUE_AFTER
    lost = Q(status=JobStatus.RUNNING, lease_expires_at__lt=now) | (
        Q(status__in=[JobStatus.PENDING, JobStatus.WAITING])
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        & (Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale))
    )
    jobs = list(
        ConnectorJob.objects.filter(lost, request__status=Status.IN_PROGRESS).select_related("system")[
            :batch_size
        ]
    )
    for job in jobs:
        with transaction.atomic():
            job_enqueue(job=job)
    idle = (
        DataSubjectRequest.objects.filter(status=Status.IN_PROGRESS)
        .exclude(jobs__status__in=[JobStatus.PENDING, JobStatus.RUNNING, JobStatus.WAITING])
        .values_list("pk", flat=True)[:batch_size]
    )
    checked = 0
    for request_id in idle:
        request_check_finished(request_id=request_id)
        checked += 1
    return {"requeued": len(jobs), "checked": checked}
