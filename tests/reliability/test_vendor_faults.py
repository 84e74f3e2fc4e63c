"""Vendor faults from the fakes — 5xx, bursts of 429 with Retry-After, timeouts, malformed JSON, slow
answers — on a real worker: every request ends completed, or action_required with its reason, and
retries are bounded."""

from __future__ import annotations

import pytest

from connectors.hubspot.fake import FakeHubSpot
from connectors.testing.server import Fault
from dsr.workflow.models import ConnectorJob, JobStatus, Status
from tests.reliability.conftest import erasure_in_progress, gdpr_deletes, wait_final

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_requests_meeting_every_kind_of_transient_vendor_fault_complete_and_each_contact_is_deleted_once(
    hubspot: FakeHubSpot, crm, make_worker
) -> None:
    contacts = [hubspot.add_contact(email=f"faulty{i}@example.com") for i in range(6)]
    hubspot.inject(Fault.server_error(503, path="/search$"), times=2)
    hubspot.inject(Fault.status_code(500, path="/gdpr-delete$"))
    hubspot.inject(Fault.rate_limited(1), times=4)  # a burst, Retry-After: 1
    hubspot.inject(Fault.slow(2.0, path="/search$"), times=2)  # past the 1 s client timeout
    hubspot.inject(Fault.malformed_json(path="/search$"), times=2)
    hubspot.inject(Fault.slow(0.3), times=3)  # slow but in time
    make_worker(lease=6, max_attempts=10)

    requests = [erasure_in_progress(f"faulty{i}@example.com") for i in range(6)]

    final = wait_final([r.pk for r in requests], timeout=90)
    assert set(final.values()) == {Status.COMPLETED}
    assert hubspot.pending_faults == 0
    assert sorted(gdpr_deletes(hubspot)) == sorted(c.id for c in contacts)
    assert hubspot.mutation_count == 6
    attempts = list(ConnectorJob.objects.values_list("attempts", flat=True))
    assert sum(attempts) > len(requests)  # the faults were met and retried...
    assert max(attempts) <= 10  # ...within the bound


def test_a_vendor_that_keeps_failing_leaves_the_request_needing_action_with_its_reason_after_bounded_retries(
    hubspot: FakeHubSpot, crm, make_worker
) -> None:
    hubspot.add_contact(email="down@example.com")
    hubspot.inject(Fault.server_error(503), times=50)
    make_worker(max_attempts=3)

    request = erasure_in_progress("down@example.com")

    assert wait_final([request.pk], timeout=60) == {str(request.pk): Status.ACTION_REQUIRED}
    job = ConnectorJob.objects.get(request=request)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 3)
    assert len(hubspot.requests_to("POST", "/search$")) == 3
    assert job.error.startswith("gave up after 3 attempts: ")
    request.refresh_from_db()
    assert request.status_reason == f"CRM: {job.error}"
    assert hubspot.mutation_count == 0


def test_a_revoked_token_fails_the_job_at_once_with_a_readable_reason_and_no_retry(
    hubspot: FakeHubSpot, crm, make_worker
) -> None:
    hubspot.add_contact(email="revoked@example.com")
    hubspot.inject(Fault.unauthorized(401))
    make_worker()

    request = erasure_in_progress("revoked@example.com")

    assert wait_final([request.pk], timeout=60) == {str(request.pk): Status.ACTION_REQUIRED}
    job = ConnectorJob.objects.get(request=request)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    assert len(hubspot.requests) == 1
    request.refresh_from_db()
    assert request.status_reason == f"CRM: {job.error}"
    assert "pat-na1" not in job.error
