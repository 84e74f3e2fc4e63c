"""Celery tasks of the exports app: thin wrappers that call a service."""

from __future__ import annotations

from celery import shared_task

from dsr.exports.purge import packages_purge_expired


@shared_task(name="dsr.exports.tasks.purge_expired_packages")
def purge_expired_packages() -> int:
    """Delete a bounded batch of expired packages (scheduled in ``CELERY_BEAT_SCHEDULE``)."""
    return packages_purge_expired()
