"""Redis restarted (its queued messages gone) or down while requests are approved: nothing is lost,
because the database is the source of truth and the reconciler enqueues the jobs again."""

from __future__ import annotations

import pytest

from connectors.hubspot.fake import FakeHubSpot
from dsr.workflow.models import ConnectorJob, JobStatus, Status
from tests.reliability.conftest import erasure_in_progress, gdpr_deletes, wait_final
from tests.support.worker import RedisServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_jobs_queued_in_a_redis_that_restarts_empty_are_enqueued_again_and_each_erasure_happens_once(
    hubspot: FakeHubSpot, broker: RedisServer, crm, make_worker
) -> None:
    contacts = [hubspot.add_contact(email=f"queued{i}@example.com") for i in range(5)]
    requests = [erasure_in_progress(f"queued{i}@example.com") for i in range(5)]
    assert broker.queued_tasks().count("dsr.workflow.tasks.run_job") == 5

    broker.restart()
    assert broker.queued_tasks() == []
    make_worker()

    final = wait_final([r.pk for r in requests], timeout=60)
    assert set(final.values()) == {Status.COMPLETED}
    assert sorted(gdpr_deletes(hubspot)) == sorted(c.id for c in contacts)
    assert hubspot.mutation_count == 5
    assert set(ConnectorJob.objects.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}


def test_requests_approved_while_redis_is_down_are_accepted_and_completed_once_it_is_back(
    hubspot: FakeHubSpot, broker: RedisServer, crm, make_worker
) -> None:
    contacts = [hubspot.add_contact(email=f"outage{i}@example.com") for i in range(3)]
    broker.stop()
    requests = [erasure_in_progress(f"outage{i}@example.com") for i in range(3)]
    assert set(ConnectorJob.objects.values_list("status", flat=True)) == {JobStatus.PENDING}

    broker.start()
    assert broker.queued_tasks() == []
    make_worker()

    final = wait_final([r.pk for r in requests], timeout=60)
    assert set(final.values()) == {Status.COMPLETED}
    assert sorted(gdpr_deletes(hubspot)) == sorted(c.id for c in contacts)
    assert hubspot.mutation_count == 3
