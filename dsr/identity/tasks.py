"""Periodic data minimisation (scheduled in ``settings.CELERY_BEAT_SCHEDULE``)."""

from __future__ import annotations

from celery import shared_task

from dsr.workflow.retention import personal_data_purge


@shared_task(name="dsr.identity.tasks.purge_personal_data")
def purge_personal_data() -> dict[str, int]:
    return personal_data_purge()
