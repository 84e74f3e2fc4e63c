"""The database connection dropped in the middle of writing: whatever was being written in that
transaction is rolled back as a whole, so the request's status, its jobs and its audit events agree,
and the work is finished by the next attempt."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from django.db import OperationalError, connection

from connectors.hubspot.fake import FakeHubSpot
from connectors.testing.server import Fault
from dsr.audit.models import AuditEvent
from dsr.workflow import fanout, transitions
from dsr.workflow.intake import request_create
from dsr.workflow.models import ConnectorJob, DataSubjectRequest, JobStatus, Status
from tests.reliability.conftest import erasure_in_progress, gdpr_deletes, wait_final
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def side_connection() -> psycopg.Connection[Any]:
    db = connection.settings_dict
    return psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])


@contextmanager
def audit_chain_locked() -> Iterator[psycopg.Connection[Any]]:
    """Hold the audit chain's head row: any transaction appending an event waits inside itself."""
    with side_connection() as holder:
        holder.execute("SELECT last_hash FROM audit_audithead WHERE id = 1 FOR UPDATE")
        yield holder
        holder.rollback()


def terminate_backends_waiting_for_a_lock() -> int:
    with side_connection() as admin:
        admin.autocommit = True
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


def audit_actions(request_id: Any) -> list[str]:
    return list(AuditEvent.objects.filter(request_id=request_id).values_list("action", flat=True))


def test_a_connection_dropped_while_the_worker_records_an_outcome_leaves_job_and_audit_in_agreement(
    hubspot: FakeHubSpot, crm, make_worker
) -> None:
    contact = hubspot.add_contact(email="db.drop@example.com")
    hubspot.inject(Fault.slow(0.8, path="/search$"))  # time to take the lock (client timeout: 1 s)
    make_worker(lease=8)  # time limits (from the lease) far from the second the run takes
    request = erasure_in_progress("db.drop@example.com")
    with audit_chain_locked():
        wait_until(lambda: gdpr_deletes(hubspot), timeout=20, what="the vendor delete")
        wait_until(terminate_backends_waiting_for_a_lock, timeout=20, what="the worker waiting to record")
        job = ConnectorJob.objects.get(request=request)
        assert (job.status, job.records_erased) == (JobStatus.RUNNING, None)
        assert "job.succeeded" not in audit_actions(request.pk)

    assert wait_final([request.pk], timeout=40) == {str(request.pk): Status.COMPLETED}
    job = ConnectorJob.objects.get(request=request)
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)
    assert audit_actions(request.pk).count("job.succeeded") == 1
    # The last step of the request itself (the outbox audits its e-mails after it: email.sent).
    assert [a for a in audit_actions(request.pk) if not a.startswith("email.")][-1] == "request.completed"
    assert gdpr_deletes(hubspot) == [contact.id]
    assert hubspot.mutation_count == 1


def test_a_connection_dropped_inside_a_transition_rolls_back_status_audit_event_and_jobs_together(
    crm, broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = request_create(type="erasure", email="transition.drop@example.com", jurisdiction="DE")
    fan_out = fanout.request_fan_out

    def drop_then_fan_out(**kwargs: Any) -> Any:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            [pid] = cursor.fetchone()
        with side_connection() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        return fan_out(**kwargs)

    monkeypatch.setattr(fanout, "request_fan_out", drop_then_fan_out)
    with pytest.raises(OperationalError):
        transitions.request_transition(
            request_id=request.pk, to=Status.IN_PROGRESS, actor="staff:approver", event="request.approved"
        )
    connection.close()  # what Django does at the end of every request and task

    stored = DataSubjectRequest.objects.get(pk=request.pk)
    assert (stored.status, stored.closed_at) == (Status.PENDING_VERIFICATION, None)
    assert ConnectorJob.objects.filter(request=request).count() == 0
    assert audit_actions(request.pk) == ["request.received"]

    monkeypatch.setattr(fanout, "request_fan_out", fan_out)
    transitions.request_transition(
        request_id=request.pk, to=Status.IN_PROGRESS, actor="staff:approver", event="request.approved"
    )
    assert DataSubjectRequest.objects.get(pk=request.pk).status == Status.IN_PROGRESS
    assert list(ConnectorJob.objects.filter(request=request).values_list("status", flat=True)) == [
        JobStatus.PENDING
    ]
    assert audit_actions(request.pk) == ["request.received", "request.approved"]
