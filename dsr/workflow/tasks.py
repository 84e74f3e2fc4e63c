"""Celery tasks: thin wrappers that take ids only and call a service."""

from __future__ import annotations

from celery import shared_task

from dsr.workflow import fanout, intake, jobs


@shared_task(name="dsr.workflow.tasks.run_job", acks_late=True)
def run_job(job_id: int) -> None:
    jobs.job_run(job_id=job_id)


@shared_task(name="dsr.workflow.tasks.check_request")
def check_request(request_id: str) -> None:
    fanout.request_check_finished(request_id=request_id)


@shared_task(name="dsr.workflow.tasks.finalize_request", acks_late=True)
def finalize_request(request_id: str) -> None:
    fanout.request_finalize(request_id=request_id)


@shared_task(name="dsr.workflow.tasks.reconcile")
def reconcile() -> dict[str, int]:
    return jobs.jobs_reconcile()


@shared_task(name="dsr.workflow.tasks.expire_unverified")
def expire_unverified() -> int:
    return intake.requests_expire_unverified()
