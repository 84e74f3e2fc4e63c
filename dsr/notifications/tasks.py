from __future__ import annotations

from celery import shared_task

from dsr.notifications.services import email_send_status


@shared_task(
    name="dsr.notifications.tasks.send_request_email",
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_jitter=True,
    max_retries=8,
)
def send_request_email(request_id: str, kind: str) -> None:
    from dsr.workflow.models import DataSubjectRequest

    request = DataSubjectRequest.objects.filter(pk=request_id).first()
    if request is None or not request.email:
        return
    email_send_status(request=request, kind=kind)


@shared_task(name="dsr.notifications.tasks.alert_deadline_risk", time_limit=300)
def alert_deadline_risk() -> int:
    """Alert the requests that will miss their deadline (scheduled in settings.CELERY_BEAT_SCHEDULE)."""
    from dsr.notifications.alerts import alert_deadline_risk as raise_alerts

    return raise_alerts()
