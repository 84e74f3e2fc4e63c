"""Alerts: an e-mail to ``DSR_ALERT_EMAILS`` (and a section of the staff digest) when a job fails for
good, a system's health check fails, or an open request will miss its deadline.

Each event is raised once (``Alert`` is unique on kind and key); messages carry request references
and system keys only, never a person's identity.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from dsr.notifications.models import Alert, AlertKind

log = logging.getLogger(__name__)
DEADLINE_BATCH = 200


def alert_raise(*, kind: str, key: str, subject: str, message: str) -> bool:
    """Record the alert and e-mail it to ``DSR_ALERT_EMAILS``; False when it was raised before."""
    try:
        with transaction.atomic():
            alert = Alert.objects.create(kind=kind, key=key[:200], subject=subject[:300], message=message)
    except IntegrityError:
        return False
    from dsr.notifications.services import email_send

    text = f"{alert.message}\n\n{settings.SITE_URL}{reverse('dashboard:queue')}\n"
    for address in settings.DSR_ALERT_EMAILS:
        try:
            email_send(subject=f"[DSR Hub alert] {alert.subject}", to=address, text=text, html="")
        except Exception:  # the alert stays recorded and appears in the digest
            log.exception("alert %s: the e-mail to %s failed", alert.pk, address)
    return True


def _request_url(request_id: Any) -> str:
    return settings.SITE_URL + reverse("dashboard:request", kwargs={"request_id": request_id})


def alert_job_failed(*, job_id: int) -> bool:
    from dsr.workflow.models import ConnectorJob

    job = ConnectorJob.objects.select_related("request", "system").get(pk=job_id)
    return alert_raise(
        kind=AlertKind.JOB_FAILED,
        key=f"job:{job.pk}:{job.attempts}",
        subject=f"{job.system.key}: {job.action} job of {job.request.reference} failed",
        message=(
            f"The {job.action} job of request {job.request.reference} on system {job.system.key} failed "
            f"after {job.attempts} attempt(s): {job.error[:500]}\n"
            f"Fix the cause, then retry the job on the request's page: "
            f"{_request_url(job.request.pk)}"
        ),
    )


def alert_system_check_failed(*, system_key: str, message: str) -> bool:
    """At most one alert per system and day."""
    today = timezone.now().date().isoformat()
    return alert_raise(
        kind=AlertKind.SYSTEM_CHECK_FAILED,
        key=f"system:{system_key}:{today}",
        subject=f"{system_key}: health check failed",
        message=f"The health check of system {system_key} failed: {message[:500]}",
    )


def alert_deadline_risk() -> int:
    """Alert each open request due within ``DSR_DEADLINE_ALERT_HOURS`` (or overdue), once. Bounded."""
    from dsr.workflow.models import TERMINAL_STATUSES, DataSubjectRequest

    moment = timezone.now()
    horizon = moment + settings.DSR_DEADLINE_ALERT_WINDOW
    raised = 0
    at_risk = (
        DataSubjectRequest.objects.exclude(status__in=TERMINAL_STATUSES)
        .filter(due_at__lt=horizon)
        .exclude(pk__in=_alerted_request_ids())
        .order_by("due_at")[:DEADLINE_BATCH]
    )
    for request in at_risk:
        state = "is overdue" if request.due_at < moment else "will miss its deadline"
        raised += alert_raise(
            kind=AlertKind.DEADLINE_RISK,
            key=f"request:{request.pk}",
            subject=f"{request.reference} {state} ({request.due_at:%Y-%m-%d %H:%M} UTC)",
            message=(
                f"Request {request.reference} ({request.type}, {request.jurisdiction}) {state}: due "
                f"{request.due_at:%Y-%m-%d %H:%M} UTC, status {request.status}.\n"
                f"{request.due_explanation}\n{_request_url(request.pk)}"
            ),
        )
    return raised


def _alerted_request_ids() -> list[str]:
    keys = Alert.objects.filter(kind=AlertKind.DEADLINE_RISK).values_list("key", flat=True)
    return [k.removeprefix("request:") for k in keys]


def alerts_since(*, since: timedelta) -> list[Alert]:
    """The alerts of the last ``since`` (newest first), for the staff digest."""
    return list(Alert.objects.filter(created_at__gte=timezone.now() - since)[:50])
