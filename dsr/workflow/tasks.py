"""Celery tasks: thin wrappers that take ids only and call a service."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import OperationalError

from dsr.workflow import fanout, intake, jobs, retention

# A check aborted by a lock conflict (PostgreSQL's deadlock detector or a serialization failure)
# changed nothing and is safe to run again; without a retry the request would stay in progress
# until the reconciler noticed.
LOCK_CONFLICT_RETRIES = 5


def _lock_conflict(exc: OperationalError) -> bool:
    """SQLSTATE class 40, transaction rollback: 40P01 deadlock detected, 40001 serialization failure."""
    return str(getattr(exc.__cause__, "sqlstate", "") or "").startswith("40")


@shared_task(name="dsr.workflow.tasks.run_job", acks_late=True)
def run_job(job_id: int) -> None:
    jobs.job_run(job_id=job_id)


@shared_task(name="dsr.workflow.tasks.check_request", bind=True, max_retries=LOCK_CONFLICT_RETRIES)
def check_request(self: Any, request_id: str) -> None:
    try:
        fanout.request_check_finished(request_id=request_id)
    except OperationalError as exc:
        if not _lock_conflict(exc):
            raise
        raise self.retry(exc=exc, countdown=0.2 * 2**self.request.retries) from None


@shared_task(name="dsr.workflow.tasks.finalize_request", acks_late=True)
def finalize_request(request_id: str) -> None:
    fanout.request_finalize(request_id=request_id)


@shared_task(name="dsr.workflow.tasks.reconcile")
def reconcile() -> dict[str, int]:
    return jobs.jobs_reconcile()


@shared_task(name="dsr.workflow.tasks.expire_unverified")
def expire_unverified() -> int:
    return intake.requests_expire_unverified()


# The name predates the move from dsr.identity: beat schedules and queued messages carry it.
@shared_task(name="dsr.identity.tasks.purge_personal_data")
def purge_personal_data() -> dict[str, int]:
    """Periodic data minimisation (``dsr/workflow/retention.py``; scheduled in settings)."""
    return retention.personal_data_purge()
