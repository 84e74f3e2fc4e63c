"""Notification tasks: thin, ids only (the outbox row id), the work in ``dsr.notifications.outbox``."""

from __future__ import annotations

from celery import shared_task

from dsr.notifications import outbox


@shared_task(name="dsr.notifications.tasks.send_email", acks_late=True)
def send_email(email_id: int) -> str:
    # No Celery retry: a failed attempt is recorded on the row and the reconciler sends it again
    # once due, so retries survive a lost message and stay bounded by DSR_EMAIL_MAX_ATTEMPTS.
    return outbox.email_deliver(email_id=email_id)


@shared_task(name="dsr.notifications.tasks.reconcile_emails")
def reconcile_emails() -> dict[str, int]:
    return outbox.emails_reconcile()


@shared_task(name="dsr.notifications.tasks.send_request_email")
def send_request_email(request_id: str, kind: str) -> None:
    """Messages queued by an older release (before the outbox): put them in the outbox."""
    from django.db import transaction

    from dsr.workflow.models import DataSubjectRequest

    request = DataSubjectRequest.objects.filter(pk=request_id).first()
    if request is not None and request.email:
        with transaction.atomic():
            outbox.email_queue(request=request, kind=kind)


@shared_task(
    name="dsr.notifications.tasks.send_extension_notice",
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_jitter=True,
    max_retries=8,
)
def send_extension_notice(request_id: str) -> None:
    """The extension notice (GDPR Art. 12(3), 11 CCR §7021(b)); retried while SMTP is down."""
    from dsr.notifications.services import email_send_extension
    from dsr.workflow.models import DataSubjectRequest

    request = DataSubjectRequest.objects.filter(pk=request_id).first()
    if request is None or not request.email or request.extended_at is None:
        return
    email_send_extension(request=request)


@shared_task(name="dsr.notifications.tasks.alert_deadline_risk", time_limit=300)
def alert_deadline_risk() -> int:
    """Alert the requests that will miss their deadline (scheduled in settings.CELERY_BEAT_SCHEDULE)."""
    from dsr.notifications.alerts import alert_deadline_risk as raise_alerts

    return raise_alerts()
