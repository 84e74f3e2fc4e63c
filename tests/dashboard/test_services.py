"""The dashboard's services: extension with its notice, assignment, notes, tasks, bulk actions,
identity reveal, system checks, the audit verification and the daily digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from dsr.audit.models import AuditEvent
from dsr.dashboard import services
from dsr.dashboard.models import Assignment, ManualTask, TaskStatus
from dsr.errors import RequestInputError
from dsr.workflow.identities import identity_reveal
from dsr.workflow.models import DataSubjectRequest, Status
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


def test_extending_a_gdpr_request_adds_two_months_from_the_original_due_date_and_notifies_the_person(
    mailoutbox, django_capture_on_commit_callbacks
):
    request = _gdpr_request(email="jane.doe@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        services.request_extend(
            request_id=request.pk,
            actor="staff:alice",
            reason="Your data is held in twelve systems.",
            now=RECEIVED + timedelta(days=10),
        )
    request.refresh_from_db()
    assert request.due_at == datetime(2027, 2, 2, 22, 59, 59, 999999, tzinfo=UTC)  # end of day in Berlin
    assert request.due_explanation.startswith("due 2027-02-02: GDPR Art. 12(3)")
    assert (request.extended_at, request.extension_reason) == (
        RECEIVED + timedelta(days=10),
        "Your data is held in twelve systems.",
    )
    event = AuditEvent.objects.get(action="request.extended")
    assert (event.actor, event.request_id) == ("staff:alice", request.pk)
    [mail] = mailoutbox
    assert mail.to == ["jane.doe@example.com"]
    assert mail.subject == f"We need more time for your request {request.reference}"
    assert "We will answer by 2 February 2027 at the latest." in mail.body
    assert "Your data is held in twelve systems." in mail.body
    assert "Your data is held in twelve systems." in mail.alternatives[0][0]


def test_a_ccpa_request_is_extended_by_45_days():
    request = RequestFactory(
        jurisdiction="US-CA",
        regime="CCPA",
        received_at=RECEIVED,
        due_at=RECEIVED + timedelta(days=45),
        status=Status.IN_PROGRESS,
    )
    services.request_extend(request_id=request.pk, actor="staff:a", reason="Complex.", now=RECEIVED)
    request.refresh_from_db()
    assert request.due_explanation.startswith("due 2027-01-31:")


def test_a_second_extension_is_refused_with_the_legal_reason_and_changes_nothing():
    request = _gdpr_request()
    services.request_extend(request_id=request.pk, actor="staff:a", reason="Complex.", now=RECEIVED)
    before = DataSubjectRequest.objects.filter(pk=request.pk).values().get()
    with pytest.raises(RequestInputError) as refused:
        services.request_extend(request_id=request.pk, actor="staff:a", reason="Again.", now=RECEIVED)
    assert refused.value.errors == {
        "request": "The response period may be extended only once (GDPR Art. 12(3)); this request was "
        "already extended."
    }
    assert DataSubjectRequest.objects.filter(pk=request.pk).values().get() == before


def test_an_extension_after_the_original_deadline_is_refused():
    request = _gdpr_request()
    with pytest.raises(RequestInputError) as refused:
        services.request_extend(
            request_id=request.pk, actor="staff:a", reason="Late.", now=RECEIVED + timedelta(days=40)
        )
    assert refused.value.errors["request"].startswith("The extension notice had to be given by the original")
    assert DataSubjectRequest.objects.get(pk=request.pk).extended_at is None


def test_an_extension_needs_a_reason_and_an_open_request():
    with pytest.raises(RequestInputError) as no_reason:
        services.request_extend(request_id=_gdpr_request().pk, actor="staff:a", reason="  ")
    assert list(no_reason.value.errors) == ["reason"]
    closed = RequestFactory(status=Status.COMPLETED, closed_at=timezone.now())
    with pytest.raises(RequestInputError) as refused:
        services.request_extend(request_id=closed.pk, actor="staff:a", reason="Why not.")
    assert refused.value.errors == {"request": "A closed request cannot be extended."}


def test_a_request_can_be_assigned_to_an_agent_but_not_to_a_viewer():
    request = RequestFactory()
    agent, viewer = make_staff("agent"), make_staff("viewer")
    services.request_assign(request_id=request.pk, assignee=agent, actor="staff:boss")
    assert Assignment.objects.get(request=request).assignee == agent
    with pytest.raises(RequestInputError):
        services.request_assign(request_id=request.pk, assignee=viewer, actor="staff:boss")
    services.request_assign(request_id=request.pk, assignee=None, actor="staff:boss")
    assert not Assignment.objects.exists()
    assert list(AuditEvent.objects.filter(action="request.assigned").values_list("data", flat=True)) == [
        {"from": None, "to": "agent-user"},
        {"from": "agent-user", "to": None},
    ]


def test_a_note_is_audited_without_its_text():
    request = RequestFactory()
    author = make_staff("agent")
    note = services.note_add(request_id=request.pk, author=author, body="The person called: jane@x.org")
    event = AuditEvent.objects.get(action="request.note_added")
    assert event.data == {"note": note.pk}


def test_a_manual_task_is_created_and_completed_once():
    request = RequestFactory()
    task = services.task_create(request_id=request.pk, title="Ask the vendor", actor="staff:a")
    services.task_complete(task_id=task.pk, actor="staff:b", outcome="Done by phone")
    task.refresh_from_db()
    assert (task.status, task.done_by, task.outcome) == (TaskStatus.DONE, "staff:b", "Done by phone")
    with pytest.raises(RequestInputError):
        services.task_complete(task_id=task.pk, actor="staff:b")
    assert ManualTask.objects.count() == 1


def test_bulk_approval_approves_what_it_can_and_reports_the_rest():
    waiting = RequestFactory(status=Status.AWAITING_APPROVAL)
    done = RequestFactory(status=Status.COMPLETED, closed_at=timezone.now())
    result = services.requests_bulk(
        action="approve", request_ids=[str(waiting.pk), str(done.pk)], actor="staff:a"
    )
    assert result.done == [waiting.reference]
    assert result.skipped == [(done.reference, "A request that is completed cannot become in progress.")]
    assert DataSubjectRequest.objects.get(pk=waiting.pk).status == Status.IN_PROGRESS


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
    assert overdue.reference in overdue_part and soon.reference not in overdue_part
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
