"""Casework (``dsr.workflow.casework``): extension with its notice, assignment, notes and bulk
actions, the one way the dashboard and the staff API do them. An extension runs on the request's own
clock: the deadline engine maps a request type to its rule itself, so every caller (intake, the
portal, an extension) passes the request's own type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from dsr.audit.models import AuditEvent
from dsr.errors import RequestInputError
from dsr.workflow import casework
from dsr.workflow.models import Assignment, DataSubjectRequest, RequestType, Status
from tests.dashboard.conftest import make_staff
from tests.factories import RequestFactory

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


def test_a_gdpr_marketing_objection_is_extended_on_the_opt_out_clock(staff_client):
    received = datetime(2026, 11, 10, 9, 30, tzinfo=UTC)
    objection = RequestFactory(
        type=RequestType.MARKETING,
        jurisdiction="DE",
        status=Status.AWAITING_APPROVAL,
        received_at=received,
        due_at=datetime(2026, 12, 10, 22, 59, 59, 999999, tzinfo=UTC),
    )

    response = staff_client("approver").post(
        f"/api/v1/staff/requests/{objection.pk}/extend", {"reason": "Records sit in three archives."}
    )

    assert response.status_code == 200, response.json()
    objection = DataSubjectRequest.objects.get(pk=objection.pk)
    # GDPR Art. 12(3) with Regulation 1182/71 Art. 3(2)(c): two further months, three months from
    # receipt on 10 November (Berlin time).
    assert objection.due_at == datetime(2027, 2, 10, 22, 59, 59, 999999, tzinfo=UTC)
    assert objection.due_explanation == (
        "due 2027-02-10: GDPR Art. 12(3), extended by two months: three months from receipt on "
        "2026-11-10 (originally due 2026-12-10)"
    )
    event = AuditEvent.objects.get(request_id=objection.pk, action="request.extended")
    assert event.data["citation"] == "GDPR Art. 12(3)"


def test_extending_a_gdpr_request_adds_two_months_from_the_original_due_date_and_notifies_the_person(
    mailoutbox, django_capture_on_commit_callbacks
):
    request = _gdpr_request(email="jane.doe@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        casework.request_extend(
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
    casework.request_extend(request_id=request.pk, actor="staff:a", reason="Complex.", now=RECEIVED)
    request.refresh_from_db()
    assert request.due_explanation.startswith("due 2027-01-31:")


def test_a_second_extension_is_refused_with_the_legal_reason_and_changes_nothing():
    request = _gdpr_request()
    casework.request_extend(request_id=request.pk, actor="staff:a", reason="Complex.", now=RECEIVED)
    before = DataSubjectRequest.objects.filter(pk=request.pk).values().get()
    with pytest.raises(RequestInputError) as refused:
        casework.request_extend(request_id=request.pk, actor="staff:a", reason="Again.", now=RECEIVED)
    assert refused.value.errors == {
        "request": "The response period may be extended only once (GDPR Art. 12(3)); this request was "
        "already extended."
    }
    assert DataSubjectRequest.objects.filter(pk=request.pk).values().get() == before


def test_an_extension_after_the_original_deadline_is_refused():
    request = _gdpr_request()
    with pytest.raises(RequestInputError) as refused:
        casework.request_extend(
            request_id=request.pk, actor="staff:a", reason="Late.", now=RECEIVED + timedelta(days=40)
        )
    assert refused.value.errors["request"].startswith("The extension notice had to be given by the original")
    assert DataSubjectRequest.objects.get(pk=request.pk).extended_at is None


def test_an_extension_needs_a_reason_and_an_open_request():
    with pytest.raises(RequestInputError) as no_reason:
        casework.request_extend(request_id=_gdpr_request().pk, actor="staff:a", reason="  ")
    assert list(no_reason.value.errors) == ["reason"]
    closed = RequestFactory(status=Status.COMPLETED, closed_at=timezone.now())
    with pytest.raises(RequestInputError) as refused:
        casework.request_extend(request_id=closed.pk, actor="staff:a", reason="Why not.")
    assert refused.value.errors == {"request": "A closed request cannot be extended."}


def test_a_request_can_be_assigned_to_an_agent_but_not_to_a_viewer():
    request = RequestFactory()
    agent, viewer = make_staff("agent"), make_staff("viewer")
    casework.request_assign(request_id=request.pk, assignee=agent, actor="staff:boss")
    assert Assignment.objects.get(request=request).assignee == agent
    with pytest.raises(RequestInputError):
        casework.request_assign(request_id=request.pk, assignee=viewer, actor="staff:boss")
    casework.request_assign(request_id=request.pk, assignee=None, actor="staff:boss")
    assert not Assignment.objects.exists()
    assert list(AuditEvent.objects.filter(action="request.assigned").values_list("data", flat=True)) == [
        {"from": None, "to": "agent-user"},
        {"from": "agent-user", "to": None},
    ]


def test_a_note_is_audited_without_its_text():
    request = RequestFactory()
    author = make_staff("agent")
    note = casework.note_add(request_id=request.pk, author=author, body="The person called: jane@x.org")
    event = AuditEvent.objects.get(action="request.note_added")
    assert event.data == {"note": note.pk}


def test_bulk_approval_approves_what_it_can_and_reports_the_rest():
    waiting = RequestFactory(status=Status.AWAITING_APPROVAL)
    done = RequestFactory(status=Status.COMPLETED, closed_at=timezone.now())
    result = casework.requests_bulk(
        action="approve", request_ids=[str(waiting.pk), str(done.pk)], actor="staff:a"
    )
    assert result.done == [waiting.reference]
    assert result.skipped == [(done.reference, "A request that is completed cannot become in progress.")]
    assert DataSubjectRequest.objects.get(pk=waiting.pk).status == Status.IN_PROGRESS
