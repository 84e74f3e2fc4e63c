"""Job execution: atomic claims, retries with backoff, permanent failures, async vendor jobs,
declared erase ordering, staff retry and the reconciler."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors import ErasureMethod, ErasureResult, JobHandle, Record
from connectors.errors import AuthError, RateLimited, TransientError
from dsr.audit.models import AuditEvent
from dsr.workflow import jobs
from dsr.workflow.decisions import job_retry
from dsr.workflow.fanout import request_check_finished
from dsr.workflow.models import ConnectorJob, JobStatus, RequestType, Status
from dsr.workflow.transitions import request_transition
from tests.factories import RequestFactory, SystemFactory

pytestmark = pytest.mark.django_db

DONE = ErasureResult(found=2, erased=2, method=ErasureMethod.DELETED, per_category={"contacts": 2})


@pytest.fixture(autouse=True)
def _fast_backoff(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DSR_JOB_BACKOFF_BASE = 10.0
    settings.DSR_JOB_BACKOFF_MAX = 60.0
    settings.DSR_JOB_MAX_ATTEMPTS = 3


def start(scripts: dict[str, list[object]], scripted, *, type=RequestType.ERASURE, order=None):  # type: ignore[no-untyped-def]
    """Create systems running the given scripts and move a verified request into progress."""
    systems = {}
    for key, script in scripts.items():
        scripted.scripts[key] = script
        systems[key] = SystemFactory(key=key, connector="scripted", config={"script": key})
    for key, after in (order or {}).items():
        systems[key].erase_after.set([systems[a] for a in after])
    request = RequestFactory(type=type, status=Status.AWAITING_APPROVAL)
    request_transition(
        request_id=request.pk, to=Status.IN_PROGRESS, actor="staff:t", event="request.approved"
    )
    return request, {job.system.key: job for job in request.jobs.select_related("system")}


def make_due(job: ConnectorJob) -> None:
    ConnectorJob.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_entering_progress_creates_one_job_per_system_and_enqueues_each_after_commit(
    scripted_connector, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        _request, by_key = start({"crm": [DONE], "mail": [DONE]}, scripted_connector)
    assert sorted(by_key) == ["crm", "mail"]
    assert {job.status for job in by_key.values()} == {JobStatus.PENDING}
    assert {job.action for job in by_key.values()} == {"erase"}
    assert all(job.enqueued_at is not None for job in ConnectorJob.objects.all())
    assert len(callbacks) == 2  # one message per job; approval itself sends no e-mail


def test_a_job_is_claimed_by_exactly_one_worker(scripted_connector) -> None:
    _request, by_key = start({"crm": [DONE]}, scripted_connector)
    job = by_key["crm"]
    first = jobs.job_claim(job_id=job.pk)
    second = jobs.job_claim(job_id=job.pk)
    assert first is not None
    assert first.status == JobStatus.RUNNING
    assert first.attempts == 1
    assert second is None


def test_an_abandoned_job_is_taken_over_once_its_lease_expires(scripted_connector) -> None:
    request, by_key = start({"crm": [DONE]}, scripted_connector)
    job = by_key["crm"]
    assert jobs.job_claim(job_id=job.pk) is not None
    ConnectorJob.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    jobs.job_run(job_id=job.pk)
    job.refresh_from_db()
    request.refresh_from_db()
    assert (job.status, job.attempts, job.records_erased) == (JobStatus.SUCCEEDED, 2, 2)
    assert request.status == Status.COMPLETED


def test_a_successful_erasure_records_counts_and_completes_the_request(scripted_connector) -> None:
    request, by_key = start({"crm": [DONE]}, scripted_connector)
    jobs.job_run(job_id=by_key["crm"].pk)
    job = ConnectorJob.objects.get(pk=by_key["crm"].pk)
    request.refresh_from_db()
    assert (job.status, job.records_found, job.records_erased, job.records_retained) == (
        JobStatus.SUCCEEDED,
        2,
        2,
        0,
    )
    assert job.method == "deleted"
    assert job.detail["per_category"] == {"contacts": 2}
    assert request.status == Status.COMPLETED
    assert list(AuditEvent.objects.filter(request_id=request.pk).values_list("action", flat=True)) == [
        "request.approved",
        "job.succeeded",
        "request.completed",
    ]


def test_a_transient_error_is_retried_later_with_backoff_and_then_succeeds(scripted_connector) -> None:
    request, by_key = start({"crm": [TransientError("503 from vendor"), DONE]}, scripted_connector)
    job = by_key["crm"]
    before = timezone.now()
    jobs.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING
    assert job.error == "503 from vendor"
    delay = (job.next_attempt_at - before).total_seconds()
    assert 5.0 <= delay <= 10.0 + 5.0 + 1.0  # base/2 + jitter up to base*2**0

    jobs.job_run(job_id=job.pk)  # not due yet: nothing happens
    assert scripted_connector.calls == [("crm", "erase")]

    make_due(job)
    jobs.job_run(job_id=job.pk)
    job.refresh_from_db()
    request.refresh_from_db()
    assert (job.status, job.attempts, job.error) == (JobStatus.SUCCEEDED, 2, "")
    assert request.status == Status.COMPLETED


def test_a_rate_limit_waits_at_least_the_vendors_retry_after(scripted_connector) -> None:
    _request, by_key = start({"crm": [RateLimited("slow down", retry_after=120), DONE]}, scripted_connector)
    job = by_key["crm"]
    before = timezone.now()
    jobs.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING
    assert (job.next_attempt_at - before).total_seconds() >= 120


def test_retries_are_bounded_and_the_request_then_needs_action(scripted_connector) -> None:
    request, by_key = start({"crm": [TransientError("timeout")] * 3}, scripted_connector)
    job = by_key["crm"]
    for _ in range(3):
        make_due(job)
        jobs.job_run(job_id=job.pk)
    job.refresh_from_db()
    request.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "gave up after 3 attempts: timeout"
    assert request.status == Status.ACTION_REQUIRED
    assert request.status_reason == "System crm: gave up after 3 attempts: timeout"


def test_a_permanent_error_fails_the_job_at_once_with_a_readable_reason(scripted_connector) -> None:
    request, by_key = start({"crm": [AuthError("401 Unauthorized: token revoked")]}, scripted_connector)
    jobs.job_run(job_id=by_key["crm"].pk)
    job = ConnectorJob.objects.get(pk=by_key["crm"].pk)
    request.refresh_from_db()
    assert (job.status, job.attempts, job.error) == (JobStatus.FAILED, 1, "401 Unauthorized: token revoked")
    assert request.status == Status.ACTION_REQUIRED


def test_staff_retry_of_a_failed_job_resumes_the_request(scripted_connector) -> None:
    request, by_key = start({"crm": [AuthError("401"), DONE]}, scripted_connector)
    jobs.job_run(job_id=by_key["crm"].pk)
    job = job_retry(job_id=by_key["crm"].pk, actor="staff:agent")
    request.refresh_from_db()
    assert (job.status, job.attempts, job.error) == (JobStatus.PENDING, 0, "")
    assert request.status == Status.IN_PROGRESS
    jobs.job_run(job_id=job.pk)
    request.refresh_from_db()
    assert request.status == Status.COMPLETED


def test_an_async_vendor_job_stores_its_handle_and_is_polled_not_resubmitted(scripted_connector) -> None:
    handle = JobHandle(id="vendor-job-7", poll_after=30)
    request, by_key = start(
        {"mail": [handle, JobHandle(id="vendor-job-7", poll_after=60), DONE]}, scripted_connector
    )
    job = by_key["mail"]
    jobs.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.WAITING
    assert job.external_handle == {"id": "vendor-job-7", "poll_after": 30.0, "data": {}}
    make_due(job)
    jobs.job_run(job_id=job.pk)  # still running at the vendor
    job.refresh_from_db()
    assert job.status == JobStatus.WAITING
    make_due(job)
    jobs.job_run(job_id=job.pk)
    job.refresh_from_db()
    request.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert scripted_connector.calls == [
        ("mail", "erase"),
        ("mail", "poll:vendor-job-7"),
        ("mail", "poll:vendor-job-7"),
    ]
    assert request.status == Status.COMPLETED


def test_declared_erase_ordering_holds_a_system_until_its_predecessor_succeeded(scripted_connector) -> None:
    request, by_key = start(
        {"crm": [DONE], "warehouse": [DONE]}, scripted_connector, order={"warehouse": ["crm"]}
    )
    assert by_key["warehouse"].status == JobStatus.BLOCKED
    assert jobs.job_claim(job_id=by_key["warehouse"].pk) is None
    jobs.job_run(job_id=by_key["crm"].pk)
    assert ConnectorJob.objects.get(pk=by_key["warehouse"].pk).status == JobStatus.PENDING
    jobs.job_run(job_id=by_key["warehouse"].pk)
    request.refresh_from_db()
    assert request.status == Status.COMPLETED
    assert scripted_connector.calls == [("crm", "erase"), ("warehouse", "erase")]


def test_a_failed_predecessor_keeps_the_dependent_system_waiting_and_asks_for_action(
    scripted_connector,
) -> None:
    request, by_key = start(
        {"crm": [AuthError("401")], "warehouse": [DONE]}, scripted_connector, order={"warehouse": ["crm"]}
    )
    jobs.job_run(job_id=by_key["crm"].pk)
    request.refresh_from_db()
    assert ConnectorJob.objects.get(pk=by_key["warehouse"].pk).status == JobStatus.BLOCKED
    assert request.status == Status.ACTION_REQUIRED
    assert "System warehouse: waiting for a system that failed" in request.status_reason


def test_cancelling_a_request_cancels_its_open_jobs_and_a_late_outcome_is_discarded(
    scripted_connector,
) -> None:
    request, by_key = start({"crm": [DONE]}, scripted_connector)
    claimed = jobs.job_claim(job_id=by_key["crm"].pk)
    assert claimed is not None
    request_transition(request_id=request.pk, to=Status.CANCELLED, actor="staff:t", event="request.cancelled")
    jobs._record(claimed, DONE)
    job = ConnectorJob.objects.get(pk=claimed.pk)
    assert job.status == JobStatus.CANCELLED
    assert job.records_erased is None


def test_the_reconciler_requeues_lost_and_abandoned_jobs_only(
    scripted_connector, settings, django_capture_on_commit_callbacks
) -> None:
    _request, by_key = start({"a": [DONE], "b": [DONE], "c": [DONE]}, scripted_connector)
    long_ago = timezone.now() - settings.DSR_JOB_REQUEUE_AFTER - timedelta(seconds=5)
    ConnectorJob.objects.filter(pk=by_key["a"].pk).update(enqueued_at=long_ago)  # message lost
    ConnectorJob.objects.filter(pk=by_key["b"].pk).update(
        status=JobStatus.RUNNING, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )  # worker died
    # c was enqueued just now and is simply waiting for a worker.
    with django_capture_on_commit_callbacks() as callbacks:
        result = jobs.jobs_reconcile()
    assert result == {"requeued": 2, "checked": 0}
    assert len(callbacks) == 2


def test_the_reconciler_finishes_a_request_whose_last_job_ended_without_the_check(scripted_connector) -> None:
    request, by_key = start({"crm": [DONE]}, scripted_connector)
    ConnectorJob.objects.filter(pk=by_key["crm"].pk).update(status=JobStatus.SUCCEEDED, records_found=0)
    assert jobs.jobs_reconcile() == {"requeued": 0, "checked": 1}
    request.refresh_from_db()
    assert request.status == Status.COMPLETED


def test_an_access_job_stores_its_records_and_the_request_completes_with_a_package(
    scripted_connector,
) -> None:
    records = [Record(category="contacts", data={"email": "a@example.com"}, record_id="1")]
    request, by_key = start({"crm": [records]}, scripted_connector, type=RequestType.ACCESS)
    jobs.job_run(job_id=by_key["crm"].pk)
    job = ConnectorJob.objects.get(pk=by_key["crm"].pk)
    assert (job.status, job.records_found) == (JobStatus.SUCCEEDED, 1)
    request_check_finished(request_id=request.pk)  # the finalize task runs after commit
    from dsr.workflow.fanout import request_finalize

    request_finalize(request_id=request.pk)
    request.refresh_from_db()
    assert request.status == Status.COMPLETED
    assert request.package.records == 1


# --- opt-out (CCPA §7026 sale/sharing, GDPR Art. 21(3) direct marketing) --------------------------

SUPPRESSED = ErasureResult(
    found=2, erased=1, method=ErasureMethod.SUPPRESSED, per_category={"list_member": 1}
)


def start_opt_out(type: str, systems: dict[str, tuple[str, list[object]]], scripted):  # type: ignore[no-untyped-def]
    """Systems given as key -> (connector, script); a verified opt-out request moved into progress."""
    for key, (connector, script) in systems.items():
        scripted.scripts[key] = script
        SystemFactory(key=key, name=key.title(), connector=connector, config={"script": key})
    request = RequestFactory(type=type, status=Status.AWAITING_APPROVAL)
    request_transition(
        request_id=request.pk, to=Status.IN_PROGRESS, actor="staff:t", event="request.approved"
    )
    return request, {job.system.key: job for job in request.jobs.select_related("system")}


@pytest.mark.parametrize("type", [RequestType.OPT_OUT, RequestType.MARKETING])
def test_an_opt_out_job_calls_opt_out_not_erase_and_completes_the_request(scripted_connector, type) -> None:  # type: ignore[no-untyped-def]
    request, by_key = start_opt_out(
        type, {"mail": ("scripted_opt_out", [SUPPRESSED]), "crm": ("scripted", [])}, scripted_connector
    )
    assert {key: job.action for key, job in by_key.items()} == {"mail": "opt_out"}  # crm cannot
    jobs.job_run(job_id=by_key["mail"].pk)
    job = ConnectorJob.objects.get(pk=by_key["mail"].pk)
    request.refresh_from_db()
    assert scripted_connector.calls == [("mail", "opt_out")]
    assert (job.status, job.records_found, job.records_erased, job.method) == (
        JobStatus.SUCCEEDED,
        2,
        1,
        "suppressed",
    )
    assert request.status == Status.COMPLETED


def test_a_correction_job_on_an_opt_out_connector_fails_instead_of_erasing(scripted_connector) -> None:
    _request, by_key = start_opt_out("opt_out", {"mail": ("scripted_opt_out", [])}, scripted_connector)
    ConnectorJob.objects.filter(pk=by_key["mail"].pk).update(action="correct")
    jobs.job_run(job_id=by_key["mail"].pk)
    job = ConnectorJob.objects.get(pk=by_key["mail"].pk)
    assert job.status == JobStatus.FAILED
    assert "cannot apply correct" in job.error
    assert scripted_connector.calls == []


def test_a_system_without_opt_out_gets_no_job_and_the_request_goes_to_the_privacy_team(
    scripted_connector,
) -> None:
    request, by_key = start_opt_out("opt_out", {"crm": ("scripted", [])}, scripted_connector)
    assert by_key == {}
    assert not ConnectorJob.objects.filter(request=request).exists()
    request_check_finished(request_id=request.pk)
    request.refresh_from_db()
    assert scripted_connector.calls == []
    assert request.status == Status.ACTION_REQUIRED  # never completed with nothing done
    assert request.status_reason.startswith("No connected system applies this automatically")


def test_a_completed_opt_out_says_opted_out_not_erased(scripted_connector, mailoutbox) -> None:  # type: ignore[no-untyped-def]
    from dsr.notifications.services import email_send_status
    from dsr.workflow.timeline import request_timeline

    request, by_key = start_opt_out(
        "opt_out", {"mail": ("scripted_opt_out", [SUPPRESSED])}, scripted_connector
    )
    jobs.job_run(job_id=by_key["mail"].pk)
    request.refresh_from_db()
    assert request.status == Status.COMPLETED
    email_send_status(request=request, kind="completed")
    [mail] = mailoutbox
    assert "- Mail: 2 records opted out" in mail.body
    assert "erased" not in mail.body
    assert "erased" not in mail.alternatives[0][0]
    [entry] = request_timeline(request=request)
    assert entry.state == "done"
    assert entry.text.startswith("Opted out on ")
