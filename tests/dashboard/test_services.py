"""The dashboard's services: identity reveal, system checks, the audit verification and the daily
digest. Casework (extension, assignment, notes, bulk actions) is tested in tests/workflow/test_casework.py,
tasks in tests/tasks/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from dsr.audit.models import AuditEvent
from dsr.dashboard import services
from dsr.workflow.identities import identity_reveal
from dsr.workflow.models import Status
from tests.dashboard.conftest import make_staff
from tests.factories import RequestFactory, SystemFactory

pytestmark = pytest.mark.django_db

RECEIVED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _gdpr_request(**kwargs):  # type: ignore[no-untyped-def]
    return RequestFactory(
        jurisdiction="DE",
        regime="GDPR",
        received_at=RECEIVED,
        due_at=datetime(2026, 12, 2, 22, 59, 59, 999999, tzinfo=UTC),
        status=Status.IN_PROGRESS,
        **kwargs,
    )


def test_revealing_an_identity_returns_it_and_records_who_looked():
    request = RequestFactory(email="jane.doe@example.com", full_name="Jane Doe")
    identity = identity_reveal(request_id=request.pk, actor="staff:alice")
    assert (identity.email, identity.full_name, identity.phone) == ("jane.doe@example.com", "Jane Doe", "")
    event = AuditEvent.objects.get(action="request.identity_revealed")
    assert (event.actor, event.request_id, event.data) == ("staff:alice", request.pk, {})


def test_a_system_whose_connector_cannot_be_built_fails_its_check_with_the_reason():
    system = SystemFactory(key="broken", connector="sql", config={})
    check = services.system_check(system_id=system.pk, actor="staff:a")
    assert check.ok is False
    assert check.message.startswith("ConfigError: ")


def test_verifying_the_audit_chain_reports_an_edited_event():
    from dsr.audit.services import audit_record

    audit_record(actor="system", action="one")
    second = audit_record(actor="system", action="two")
    AuditEvent.objects.filter(pk=second.pk).update(actor="mallory")  # bypasses the append-only guard
    report = services.audit_verify(actor="staff:a")
    assert (report.ok, report.broken_at, report.reason) == (
        False,
        second.pk,
        "content does not match its hash (the event was edited)",
    )


def test_the_digest_lists_overdue_and_due_soon_requests_to_each_staff_member_with_an_address(mailoutbox):
    now = timezone.now()
    overdue = RequestFactory(status=Status.IN_PROGRESS, due_at=now - timedelta(days=2))
    soon = RequestFactory(status=Status.AWAITING_APPROVAL, due_at=now + timedelta(days=3))
    RequestFactory(status=Status.IN_PROGRESS, due_at=now + timedelta(days=20))  # not due soon
    RequestFactory(status=Status.COMPLETED, due_at=now - timedelta(days=5), closed_at=now)  # closed
    make_staff("viewer", email="v@example.com")
    make_staff("agent", email="a@example.com")
    make_staff("approver")  # no address: no e-mail
    assert services.digest_send(now=now) == 2
    assert [m.to for m in mailoutbox] == [["v@example.com"], ["a@example.com"]]
    mail = mailoutbox[0]
    assert mail.subject == "DSR Hub: 1 overdue, 1 due within 7 days"
    overdue_part, soon_part = mail.body.split("DUE WITHIN 7 DAYS (1)")
    assert overdue.reference in overdue_part
    assert soon.reference not in overdue_part
    assert soon.reference in soon_part
    assert "@example.com" not in mail.body.replace("v@example.com", "")  # no subject identities
    assert overdue.reference in mail.alternatives[0][0]


def test_no_digest_is_sent_when_nothing_is_due(mailoutbox):
    make_staff("agent", email="a@example.com")
    RequestFactory(status=Status.IN_PROGRESS, due_at=timezone.now() + timedelta(days=30))
    assert services.digest_send() == 0
    assert mailoutbox == []


def test_the_digest_task_is_scheduled_daily(settings):
    from celery.schedules import crontab

    entry = settings.CELERY_BEAT_SCHEDULE["staff-digest"]
    assert entry == {"task": "dsr.dashboard.tasks.send_digest", "schedule": crontab(hour=6, minute=0)}


def test_an_extension_notice_queued_under_the_dashboards_old_task_name_is_still_sent(mailoutbox):
    from dsr.dashboard.tasks import send_extension_notice
    from dsr.workflow.casework import request_extend

    request = _gdpr_request(email="jane.doe@example.com")
    request_extend(request_id=request.pk, actor="staff:a", reason="Complex.", now=RECEIVED)
    assert mailoutbox == []  # the commit is not captured: the notice was not sent
    assert send_extension_notice.name == "dsr.dashboard.tasks.send_extension_notice"
    send_extension_notice.delay(str(request.pk))  # a message queued by the previous release
    [mail] = mailoutbox
    assert mail.subject == f"We need more time for your request {request.reference}"
