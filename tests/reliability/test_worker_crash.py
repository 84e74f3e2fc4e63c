"""A worker killed with SIGKILL in the middle of a job: the job runs again once its lease expires,
the request completes, and the vendor sees each erasure once."""

from __future__ import annotations

import signal

import pytest

from connectors.hubspot.fake import FakeHubSpot
from connectors.testing.server import Fault
from dsr.audit.models import AuditEvent
from dsr.workflow.models import ConnectorJob, JobStatus, Status
from tests.reliability.conftest import erasure_in_progress, gdpr_deletes, wait_final
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def job_of(request_id) -> ConnectorJob:  # type: ignore[no-untyped-def]
    return ConnectorJob.objects.get(request_id=request_id)


def test_a_job_whose_worker_is_killed_while_it_searches_runs_again_and_deletes_the_contact_once(
    hubspot: FakeHubSpot, crm, make_worker
) -> None:
    contact = hubspot.add_contact(email="killed.mid.search@example.com")
    hubspot.inject(Fault.slow(30, path="/search$"))  # the first search hangs
    worker = make_worker(lease=4)
    request = erasure_in_progress("killed.mid.search@example.com")
    wait_until(lambda: hubspot.requests_to("POST", "/search$"), timeout=20, what="the first search")
    assert job_of(request.pk).status == JobStatus.RUNNING

    worker.kill(signal.SIGKILL)
    assert (job_of(request.pk).status, job_of(request.pk).attempts) == (JobStatus.RUNNING, 1)
    worker.start()

    assert wait_final([request.pk], timeout=40) == {str(request.pk): Status.COMPLETED}
    job = job_of(request.pk)
    assert (job.status, job.attempts, job.records_erased) == (JobStatus.SUCCEEDED, 2, 1)
    assert gdpr_deletes(hubspot) == [contact.id]
    assert hubspot.mutation_count == 1
    assert hubspot.contacts_with_email("killed.mid.search@example.com") == []
    events = list(AuditEvent.objects.filter(request_id=request.pk).values_list("action", flat=True))
    assert events.count("job.succeeded") == 1
    # The last step of the request itself (the outbox audits its e-mails after it: email.sent).
    assert [e for e in events if not e.startswith("email.")][-1] == "request.completed"


def test_a_job_whose_worker_is_killed_while_the_vendor_deletes_is_not_deleted_twice(
    hubspot: FakeHubSpot, crm, make_worker
) -> None:
    contact = hubspot.add_contact(email="killed.mid.delete@example.com")
    # The vendor takes a second to answer the delete; it completes it although the worker is gone.
    hubspot.inject(Fault.slow(1.0, path="/gdpr-delete$"))
    worker = make_worker(lease=4)
    request = erasure_in_progress("killed.mid.delete@example.com")
    wait_until(lambda: hubspot.requests_to("POST", "/gdpr-delete$"), timeout=20, what="the delete call")

    worker.kill(signal.SIGKILL)
    worker.start()

    assert wait_final([request.pk], timeout=40) == {str(request.pk): Status.COMPLETED}
    assert gdpr_deletes(hubspot) == [contact.id]
    assert hubspot.mutation_count == 1
    assert hubspot.contacts_with_email("killed.mid.delete@example.com") == []
    job = job_of(request.pk)
    # The second run found nothing left to erase; the first attempt's delete is what took effect.
    assert (job.status, job.attempts, job.records_found) == (JobStatus.SUCCEEDED, 2, 0)


def test_a_job_that_kills_every_worker_running_it_fails_after_its_attempts_with_a_reason(
    hubspot: FakeHubSpot, crm, make_worker
) -> None:
    hubspot.add_contact(email="poison@example.com")
    hubspot.inject(Fault.slow(30, path="/search$"), times=2)
    worker = make_worker(lease=3, max_attempts=2)
    request = erasure_in_progress("poison@example.com")
    for attempt in (1, 2):
        wait_until(
            lambda attempt=attempt: (
                job_of(request.pk).attempts == attempt
                and job_of(request.pk).status == JobStatus.RUNNING
                and len(hubspot.requests_to("POST", "/search$")) == attempt
            ),
            timeout=30,
            what=f"attempt {attempt} running",
        )
        worker.restart()

    assert wait_final([request.pk], timeout=40) == {str(request.pk): Status.ACTION_REQUIRED}
    job = job_of(request.pk)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 2)
    assert job.error == "gave up after 2 attempts: the worker running it stopped before it finished"
    request.refresh_from_db()
    assert request.status_reason == f"CRM: {job.error}"
    assert hubspot.mutation_count == 0


def test_a_run_that_outlives_its_lease_is_stopped_by_its_own_worker_before_another_may_take_it(
    hubspot: FakeHubSpot, crm, make_worker
) -> None:
    """The task's time limits come from the lease (settings.CELERY_TASK_ANNOTATIONS): a run hanging
    on a vendor is interrupted and retried, never run by two workers at once."""
    contact = hubspot.add_contact(email="hanging@example.com")
    hubspot.inject(Fault.slow(30, path="/search$"))
    make_worker(lease=4)
    request = erasure_in_progress("hanging@example.com")

    assert wait_final([request.pk], timeout=40) == {str(request.pk): Status.COMPLETED}
    job = job_of(request.pk)
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)
    assert len(hubspot.requests_to("POST", "/search$")) == 2
    assert gdpr_deletes(hubspot) == [contact.id]
