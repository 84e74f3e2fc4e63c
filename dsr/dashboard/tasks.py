"""Celery tasks of the dashboard: thin, ids only, bounded retries."""

from __future__ import annotations

from celery import shared_task

from dsr.dashboard import services


@shared_task(name="dsr.dashboard.tasks.send_extension_notice")
def send_extension_notice(request_id: str) -> None:
    """Notices queued by an older release under this name: hand them to the notifications task."""
    from dsr.notifications.tasks import send_extension_notice as send

    send.delay(request_id)


@shared_task(
    name="dsr.dashboard.tasks.send_digest",
    autoretry_for=(OSError,),
    retry_backoff=60,
    max_retries=5,
)
def send_digest() -> int:
    """The daily digest to staff (scheduled in settings.CELERY_BEAT_SCHEDULE)."""
    return services.digest_send()
