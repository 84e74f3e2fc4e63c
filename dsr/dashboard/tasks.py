"""Celery tasks of the dashboard: thin, ids only, bounded retries."""

from __future__ import annotations

from celery import shared_task

from dsr.dashboard import services


@shared_task(
    name="dsr.dashboard.tasks.send_extension_notice",
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_jitter=True,
    max_retries=8,
)
def send_extension_notice(request_id: str) -> None:
    """The extension notice (GDPR Art. 12(3), 11 CCR §7021(b)); retried while SMTP is down."""
    from dsr.workflow.models import DataSubjectRequest

    request = DataSubjectRequest.objects.filter(pk=request_id).first()
    if request is None or not request.email or request.extended_at is None:
        return
    services.email_send_extension(request=request)


@shared_task(
    name="dsr.dashboard.tasks.send_digest",
    autoretry_for=(OSError,),
    retry_backoff=60,
    max_retries=5,
)
def send_digest() -> int:
    """The daily digest to staff (scheduled in settings.CELERY_BEAT_SCHEDULE)."""
    return services.digest_send()
