"""Test requests: staff check their systems in production. The real connectors run in dry-run
mode, nobody is e-mailed, the queue shows TEST and the §7102 metrics leave them out."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from django.utils import timezone

from connectors.sql.sample import TARGET_EMAIL, create_sample_schema, sample_config, seed_sample
from dsr.audit.models import AuditEvent
from dsr.dashboard import reports
from dsr.workflow.models import ConnectorJob, DataSubjectRequest, JobStatus, Status
from tests.factories import RequestFactory, SystemFactory
from tests.support.smtp import SmtpListener

pytestmark = pytest.mark.django_db


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                name: [tuple(row) for row in conn.execute(sa.text(f"SELECT * FROM {name} ORDER BY 1"))]
                for name in sa.inspect(engine).get_table_names()
            }
    finally:
        engine.dispose()


@pytest.fixture
def warehouse(tmp_path) -> str:
    """A SQLite warehouse seeded with the sample shop (the target and her decoys), as a system."""
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    engine = sa.create_engine(url)
    create_sample_schema(engine)
    seed_sample(engine)
    engine.dispose()
    SystemFactory(key="warehouse", name="Warehouse", config=sample_config(url))
    return url


def test_a_test_erasure_leaves_every_row_reports_what_it_would_erase_and_emails_nobody(
    staff_client, smtp: SmtpListener, warehouse: str, django_capture_on_commit_callbacks
) -> None:
    before = snapshot(warehouse)
    approver = staff_client("approver")
    with django_capture_on_commit_callbacks(execute=True):
        created = approver.post(
            "/api/v1/staff/test-requests",
            {"type": "erasure", "email": TARGET_EMAIL, "jurisdiction": "US-CA", "test": True},
            format="json",
        )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["test"]) == ("awaiting_approval", True)
    with django_capture_on_commit_callbacks(execute=True):
        approved = approver.post(f"/api/v1/staff/requests/{body['id']}/approve")
    assert approved.status_code == 200, approved.content

    request = DataSubjectRequest.objects.get(pk=body["id"])
    assert request.status == Status.COMPLETED
    job = ConnectorJob.objects.get(request=request)
    assert job.status == JobStatus.SUCCEEDED
    assert job.detail["dry_run"] is True
    assert job.records_found is not None
    assert job.records_found > 0
    assert job.records_erased == job.records_found - (job.records_retained or 0) > 0
    assert "dry run: nothing was changed" in job.detail["notes"]
    assert snapshot(warehouse) == before  # every row is still there, unmasked

    assert smtp.messages == []
    not_sent = AuditEvent.objects.filter(request_id=request.pk, action="email.not_sent")
    assert [(e.data["template"], e.data["reason"]) for e in not_sent] == [
        ("acknowledged", "test request"),
        ("completed", "test request"),
    ]
    assert AuditEvent.objects.filter(request_id=request.pk, action="request.test_accepted").exists()


def test_test_requests_are_left_out_of_the_ccpa_metrics_and_the_monthly_report() -> None:
    now = timezone.now()
    common = {"type": "erasure", "jurisdiction": "US-CA", "regime": "CCPA", "received_at": now}
    RequestFactory(**common, status=Status.COMPLETED, closed_at=now, due_at=now)
    RequestFactory(**common, status=Status.COMPLETED, closed_at=now, due_at=now, is_test=True)
    RequestFactory(**common, status=Status.IN_PROGRESS, due_at=now, is_test=True)

    erasure = next(
        r
        for r in reports.ccpa_metrics(year=now.astimezone(reports.CCPA_TIMEZONE).year)
        if r.type == "erasure"
    )
    assert (erasure.received, erasure.complied, erasure.pending) == (1, 1, 0)
    assert sum(m.by_type.get("erasure", 0) for m in reports.requests_per_month(now=now)) == 1
    assert (
        reports.close_stats(
            since=now - timezone.timedelta(days=1), until=now + timezone.timedelta(days=1)
        ).closed
        == 1
    )
    assert list(reports.overdue_requests(now=now + timezone.timedelta(days=1))) == []


@pytest.mark.parametrize(
    ("role", "allowed"), [("viewer", False), ("agent", False), ("approver", True), ("admin", True)]
)
def test_only_approvers_and_admins_may_start_a_test_request(staff_client, role: str, allowed: bool) -> None:
    response = staff_client(role).post(
        "/api/v1/staff/test-requests",
        {"type": "access", "email": "tester@example.com", "jurisdiction": "DE"},
        format="json",
    )
    assert response.status_code == (201 if allowed else 403)
    assert DataSubjectRequest.objects.filter(is_test=True).count() == (1 if allowed else 0)


def test_the_test_request_endpoint_refuses_test_false_and_a_correction_without_details(
    staff_client,
) -> None:
    approver = staff_client("approver")
    refused = approver.post(
        "/api/v1/staff/test-requests",
        {"type": "access", "email": "t@example.com", "jurisdiction": "DE", "test": False},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "test": ["This endpoint creates test requests only; send test: true."]
    }
    ungranted = approver.post(
        "/api/v1/staff/test-requests",
        {"type": "correction", "email": "t@example.com", "jurisdiction": "DE"},
        format="json",
    )
    assert ungranted.status_code == 400
    assert ungranted.json()["errors"] == {"details": ["Tell us what is wrong and how it should read."]}
    assert not DataSubjectRequest.objects.exists()


def test_a_test_request_opens_no_hand_off_task_and_contacts_nobody(
    staff_client, smtp: SmtpListener, django_capture_on_commit_callbacks
) -> None:
    from dsr.tasks.models import Task

    SystemFactory(
        key="archive", name="Archive", connector="manual", config={"instructions": "Search the archive"}
    )
    approver = staff_client("approver")
    with django_capture_on_commit_callbacks(execute=True):
        created = approver.post(
            "/api/v1/staff/test-requests",
            {"type": "erasure", "email": "tester@example.com", "jurisdiction": "DE"},
            format="json",
        )
    with django_capture_on_commit_callbacks(execute=True):
        approver.post(f"/api/v1/staff/requests/{created.json()['id']}/approve")
    job = ConnectorJob.objects.get()
    assert (job.status, job.records_found, job.records_erased) == (JobStatus.SUCCEEDED, 0, 0)
    assert job.detail["dry_run"] is True
    assert job.detail["notes"] == "dry run (Manual task): no task was opened and nobody was contacted"
    assert not Task.objects.exists()
    assert DataSubjectRequest.objects.get().status == Status.COMPLETED
    assert smtp.messages == []
