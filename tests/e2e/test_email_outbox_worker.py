"""The code e-mail through the outbox with a real worker on Redis: the web request never talks
to SMTP; an SMTP outage leaves the e-mail pending, and once SMTP is back the reconciler (run
through the broker, as beat does) has it delivered exactly once."""

from __future__ import annotations

import time

import pytest
from rest_framework.test import APIClient

from dsr.notifications.models import EmailStatus, OutboundEmail
from dsr.notifications.tasks import reconcile_emails
from tests.support.smtp import SmtpListener, code_from
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
EMAIL = "outbox@example.com"


def wait_for_email(predicate, timeout: float = 30.0) -> OutboundEmail:  # type: ignore[no-untyped-def]
    def matching() -> OutboundEmail | None:
        email = OutboundEmail.objects.order_by("id").last()
        return email if email is not None and predicate(email) else None

    return wait_until(
        matching,
        timeout=timeout,
        what=lambda: f"outbox: {list(OutboundEmail.objects.values('kind', 'status', 'attempts'))}",
    )


def test_with_smtp_down_the_worker_keeps_the_code_pending_and_delivers_it_once_smtp_is_back(
    api: APIClient, smtp: SmtpListener, worker
) -> None:
    smtp.stop()
    created = api.post(
        "/api/v1/requests", {"type": "erasure", "email": EMAIL, "jurisdiction": "DE"}, format="json"
    )
    assert created.status_code == 201

    pending = wait_for_email(lambda e: e.status == EmailStatus.PENDING and e.attempts >= 1)
    assert pending.last_error.startswith("ConnectionRefusedError")

    smtp.start()
    time.sleep(1.0)  # past the backoff (0.5 s base for the test worker)
    reconcile_emails.delay()
    message = smtp.wait_for(to=EMAIL, subject_contains="verification code")
    sent = wait_for_email(lambda e: e.status == EmailStatus.SENT)
    assert (sent.pk, sent.payload) == (pending.pk, "")

    reconcile_emails.delay()  # nothing left: the code is not sent twice
    time.sleep(2.0)
    assert [m for m in smtp.messages if EMAIL in m.to] == []
    verified = api.post(f"/api/v1/requests/{created.json()['id']}/verify", {"code": code_from(message)})
    assert verified.status_code == 200
