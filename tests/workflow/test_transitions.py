"""The single transition function: every (from, to) pair of the status set."""

from __future__ import annotations

import itertools

import pytest

from dsr.audit.models import AuditEvent
from dsr.workflow.models import TERMINAL_STATUSES, ConnectorJob, DataSubjectRequest, JobStatus, Status
from dsr.workflow.transitions import ALLOWED, TransitionNotAllowed, request_transition
from tests.factories import RequestFactory, SystemFactory

pytestmark = pytest.mark.django_db

# Written out by hand from DESIGN.md "The request lifecycle", not copied from ALLOWED.
EXPECTED_ALLOWED = {
    (Status.PENDING_VERIFICATION, Status.AWAITING_APPROVAL),  # verified
    (Status.PENDING_VERIFICATION, Status.IN_PROGRESS),  # verified, auto-approved
    (Status.PENDING_VERIFICATION, Status.EXPIRED),
    (Status.PENDING_VERIFICATION, Status.CANCELLED),
    (Status.AWAITING_APPROVAL, Status.IN_PROGRESS),
    (Status.AWAITING_APPROVAL, Status.DENIED),
    (Status.AWAITING_APPROVAL, Status.CANCELLED),
    (Status.IN_PROGRESS, Status.COMPLETED),
    (Status.IN_PROGRESS, Status.ACTION_REQUIRED),
    (Status.IN_PROGRESS, Status.CANCELLED),
    (Status.ACTION_REQUIRED, Status.IN_PROGRESS),
    (Status.ACTION_REQUIRED, Status.CANCELLED),
}
ALL_PAIRS = list(itertools.product(Status.values, Status.values))
ALLOWED_PAIRS = [pair for pair in ALL_PAIRS if pair in EXPECTED_ALLOWED]
REFUSED_PAIRS = [pair for pair in ALL_PAIRS if pair not in EXPECTED_ALLOWED]


def _ids(pairs: list[tuple[str, str]]) -> list[str]:
    return [f"{a}->{b}" for a, b in pairs]


def test_the_table_matches_the_lifecycle_of_the_design():
    assert set(ALLOWED) == set(Status.values)
    assert {(a, b) for a, targets in ALLOWED.items() for b in targets} == EXPECTED_ALLOWED
    assert len(ALLOWED_PAIRS) + len(REFUSED_PAIRS) == 64


def test_terminal_statuses_lead_nowhere():
    assert {status for status in TERMINAL_STATUSES if ALLOWED[status]} == set()


@pytest.mark.parametrize(("current", "target"), ALLOWED_PAIRS, ids=_ids(ALLOWED_PAIRS))
def test_an_allowed_transition_saves_the_status_and_writes_one_audit_event(current, target):
    request = RequestFactory(status=current)
    result = request_transition(request_id=request.pk, to=target, actor="staff:alice", event="test.moved")
    stored = DataSubjectRequest.objects.get(pk=request.pk)
    assert (result.status, stored.status) == (target, target)
    event = AuditEvent.objects.get(request_id=request.pk)
    assert (event.actor, event.action, event.data) == (
        "staff:alice",
        "test.moved",
        {"from": current, "to": target},
    )
    assert (stored.closed_at is not None) == (target in TERMINAL_STATUSES)


@pytest.mark.parametrize(("current", "target"), REFUSED_PAIRS, ids=_ids(REFUSED_PAIRS))
def test_a_refused_transition_raises_and_changes_nothing(current, target):
    request = RequestFactory(status=current, status_reason="kept as it was")
    before = DataSubjectRequest.objects.filter(pk=request.pk).values().get()
    with pytest.raises(TransitionNotAllowed) as caught:
        request_transition(
            request_id=request.pk,
            to=target,
            actor="staff:alice",
            event="test.moved",
            fields={"deny_message": "x"},
        )
    assert (caught.value.current, caught.value.target) == (current, target)
    assert str(caught.value) == (
        f"A request that is {Status(current).label.lower()} cannot become {Status(target).label.lower()}."
    )
    assert DataSubjectRequest.objects.filter(pk=request.pk).values().get() == before
    assert AuditEvent.objects.filter(request_id=request.pk).count() == 0


def test_extra_fields_are_saved_with_the_status_and_extra_data_goes_into_the_event():
    request = RequestFactory(status=Status.AWAITING_APPROVAL)
    request_transition(
        request_id=request.pk,
        to=Status.DENIED,
        actor="staff:alice",
        event="request.denied",
        data={"reason": "fraud"},
        fields={"deny_reason": "fraud", "deny_message": "We could not confirm it was you."},
    )
    stored = DataSubjectRequest.objects.get(pk=request.pk)
    assert (stored.deny_reason, stored.deny_message) == ("fraud", "We could not confirm it was you.")
    assert AuditEvent.objects.get(request_id=request.pk).data == {
        "from": "awaiting_approval",
        "to": "denied",
        "reason": "fraud",
    }


def test_leaving_action_required_clears_the_reason_and_entering_it_keeps_the_given_one():
    request = RequestFactory(status=Status.IN_PROGRESS)
    request_transition(
        request_id=request.pk,
        to=Status.ACTION_REQUIRED,
        actor="worker",
        event="request.action_required",
        fields={"status_reason": "shop: timeout"},
    )
    assert DataSubjectRequest.objects.get(pk=request.pk).status_reason == "shop: timeout"
    request_transition(
        request_id=request.pk, to=Status.IN_PROGRESS, actor="staff:alice", event="request.resumed"
    )
    assert DataSubjectRequest.objects.get(pk=request.pk).status_reason == ""


@pytest.mark.parametrize("target", [Status.CANCELLED, Status.COMPLETED])
def test_closing_a_request_cancels_its_unfinished_jobs_and_keeps_finished_ones(target):
    request = RequestFactory(status=Status.IN_PROGRESS)
    jobs = {
        status: ConnectorJob.objects.create(
            request=request, system=SystemFactory(key=f"sys-{status}"), action="access", status=status
        )
        for status in [JobStatus.PENDING, JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.FAILED]
    }
    request_transition(request_id=request.pk, to=target, actor="staff:alice", event="test.closed")
    assert {status: ConnectorJob.objects.get(pk=job.pk).status for status, job in jobs.items()} == {
        JobStatus.PENDING: JobStatus.CANCELLED,
        JobStatus.RUNNING: JobStatus.CANCELLED,
        JobStatus.SUCCEEDED: JobStatus.SUCCEEDED,
        JobStatus.FAILED: JobStatus.FAILED,
    }


def test_entering_work_creates_one_job_per_enabled_system_and_resuming_creates_no_duplicates():
    SystemFactory(key="shop")
    SystemFactory(key="old-shop", enabled=False)
    request = RequestFactory(status=Status.AWAITING_APPROVAL)
    request_transition(
        request_id=request.pk, to=Status.IN_PROGRESS, actor="staff:alice", event="request.approved"
    )
    assert list(request.jobs.values_list("system__key", "action", "status")) == [
        ("shop", "access", "pending")
    ]
    request_transition(request_id=request.pk, to=Status.ACTION_REQUIRED, actor="worker", event="test.stuck")
    request_transition(
        request_id=request.pk, to=Status.IN_PROGRESS, actor="staff:alice", event="request.resumed"
    )
    assert request.jobs.count() == 1
