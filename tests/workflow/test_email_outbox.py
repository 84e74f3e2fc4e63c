"""The code e-mail (and every e-mail to the person) is sent by the worker after commit through the
outbox, never inside the web request; a broker outage or an SMTP failure loses no e-mail, and a
failure is shown to staff, never silent (issue 10, low item; issue 19, item 6)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from dsr.audit.models import AuditEvent
from dsr.celery import app as celery_app
from dsr.notifications.models import EmailStatus, OutboundEmail
from dsr.notifications.tasks import reconcile_emails
from dsr.workflow.models import DataSubjectRequest, Status
from tests.dashboard.conftest import dashboard_client  # noqa: F401  (fixture)
from tests.support.smtp import SmtpListener, code_from
from tests.support.worker import RedisServer, use_broker

pytestmark = pytest.mark.django_db
EMAIL = "ana@example.com"


@pytest.fixture
def create(api: APIClient, django_capture_on_commit_callbacks: Any) -> Any:
    """POST a request as the person does; what runs after commit runs too (eagerly, as here)."""

    def post(email: str = EMAIL) -> tuple[Any, float]:
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(
                "/api/v1/requests", {"type": "erasure", "email": email, "jurisdiction": "DE"}, format="json"
            )
        return response, time.monotonic() - started

    return post


@pytest.fixture
def no_backoff(settings: Any) -> None:
    settings.DSR_EMAIL_BACKOFF_BASE = 0.0  # a failed e-mail is due again at once


def reconcile(django_capture_on_commit_callbacks: Any) -> dict[str, int]:
    """What Celery beat runs (``reconcile-emails``)."""
    with django_capture_on_commit_callbacks(execute=True):
        return reconcile_emails.apply().get()


def test_with_smtp_down_the_request_is_created_and_the_code_waits_then_arrives_exactly_once(
    create: Any, smtp: SmtpListener, no_backoff: None, api: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    smtp.stop()
    response, _ = create()
    assert response.status_code == 201

    [email] = OutboundEmail.objects.all()
    assert (email.kind, email.status, email.attempts) == ("verify_code", EmailStatus.PENDING, 1)
    assert email.last_error.startswith("ConnectionRefusedError")
    assert email.payload.startswith("v1:")
    assert EMAIL not in email.last_error

    smtp.start()
    assert reconcile(django_capture_on_commit_callbacks) == {"found": 1, "enqueued": 1}
    assert reconcile(django_capture_on_commit_callbacks) == {"found": 0, "enqueued": 0}

    email.refresh_from_db()
    assert (email.status, email.attempts, email.payload) == (EmailStatus.SENT, 2, "")
    [message] = smtp.messages
    assert message.to == [EMAIL]
    assert "verification code" in message.subject
    verified = api.post(f"/api/v1/requests/{response.json()['id']}/verify", {"code": code_from(message)})
    assert (verified.status_code, verified.json()["status"]) == (200, Status.AWAITING_APPROVAL)
    assert list(AuditEvent.objects.filter(action="email.sent").values_list("data__kind", flat=True)) == [
        "verify_code"
    ]


def test_with_the_broker_down_the_request_is_created_and_the_reconciler_sends_the_code_later(
    create: Any, smtp: SmtpListener, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    broker = RedisServer(log_path=tmp_path / "redis.log")
    broker.start()
    with use_broker(broker.url):
        broker.stop()  # a broker outage: nothing can be enqueued
        celery_app.conf.task_always_eager = False
        try:
            response, _ = create()
        finally:
            celery_app.conf.task_always_eager = True
    assert response.status_code == 201
    [email] = OutboundEmail.objects.all()
    assert (email.status, email.attempts, email.enqueued_at) == (EmailStatus.PENDING, 0, None)
    assert smtp.messages == []

    assert reconcile(django_capture_on_commit_callbacks) == {"found": 1, "enqueued": 1}
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT
    assert [m.to for m in smtp.messages] == [[EMAIL]]


def test_a_code_replaced_by_a_resend_while_smtp_was_down_is_not_sent_only_the_new_one_is(
    create: Any,
    smtp: SmtpListener,
    no_backoff: None,
    api: APIClient,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.DSR_CODE_RESEND_INTERVAL = settings.DSR_CODE_TTL * 0
    smtp.stop()
    response, _ = create()
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/v1/requests/{response.json()['id']}/resend-code").status_code == 202
    smtp.start()

    reconcile(django_capture_on_commit_callbacks)

    old, new = OutboundEmail.objects.order_by("id")
    assert (old.status, old.last_error) == (
        EmailStatus.CANCELLED,
        "a newer code replaced this one, or it was used",
    )
    assert new.status == EmailStatus.SENT
    [message] = smtp.messages
    verified = api.post(f"/api/v1/requests/{response.json()['id']}/verify", {"code": code_from(message)})
    assert verified.status_code == 200


def test_an_email_that_keeps_failing_is_given_up_audited_and_shown_on_the_requests_page(
    create: Any,
    smtp: SmtpListener,
    no_backoff: None,
    settings: Any,
    dashboard_client: Any,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.DSR_EMAIL_MAX_ATTEMPTS = 3
    smtp.stop()
    create()
    for _ in range(3):
        reconcile(django_capture_on_commit_callbacks)

    [email] = OutboundEmail.objects.all()
    assert (email.status, email.attempts, email.payload) == (EmailStatus.FAILED, 3, "")
    assert email.last_error.startswith("gave up after 3 attempts: ConnectionRefusedError")
    [event] = AuditEvent.objects.filter(action="email.failed")
    assert event.data["kind"] == "verify_code"

    request = DataSubjectRequest.objects.get()
    html = dashboard_client("viewer").get(f"/dashboard/requests/{request.pk}/").content.decode()
    row = html.split('data-email="verify_code" data-status="failed"', 1)[1].split("</tr>", 1)[0]
    assert "Verification code" in row
    assert "Failed" in row
    assert "gave up after 3 attempts: ConnectionRefusedError" in row
    assert reconcile(django_capture_on_commit_callbacks) == {"found": 0, "enqueued": 0}  # bounded


def test_status_emails_go_through_the_outbox_too(
    create: Any, smtp: SmtpListener, api: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    response, _ = create()
    code = code_from(smtp.wait_for(to=EMAIL, subject_contains="verification code"))
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"/api/v1/requests/{response.json()['id']}/verify", {"code": code})
    assert list(OutboundEmail.objects.order_by("id").values_list("kind", "status")) == [
        ("verify_code", "sent"),
        ("acknowledged", "sent"),
    ]
    smtp.wait_for(to=EMAIL, subject_contains="We received your request")


class _RefusingHandler:
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        return "550 5.1.1 No such mailbox"


def test_an_address_the_smtp_server_refuses_fails_at_once_and_is_audited(
    create: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from aiosmtpd.controller import Controller

    from tests.support.smtp import free_port

    port = free_port()
    refusing = Controller(_RefusingHandler(), hostname="127.0.0.1", port=port)
    refusing.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        response, _ = create("nobody@example.com")
    finally:
        refusing.stop()

    assert response.status_code == 201
    [email] = OutboundEmail.objects.all()
    assert (email.status, email.attempts) == (EmailStatus.FAILED, 1)
    assert email.last_error.startswith("SMTPRecipientsRefused")
    assert "nobody@example.com" not in email.last_error  # staff see the masked address elsewhere
    assert AuditEvent.objects.filter(action="email.failed", request_id=email.request_id).count() == 1
    assert reconcile(django_capture_on_commit_callbacks) == {"found": 0, "enqueued": 0}
