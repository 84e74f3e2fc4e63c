"""Staff free text (internal notes, denial messages, extension reasons, cancellation notes, task
titles, outcomes and completion notes) is encrypted at rest like identities, stays out of the audit
log, and is still shown to staff on the dashboard and through the API."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from dsr.audit.models import AuditEvent
from dsr.audit.services import audit_verify_chain
from dsr.identity import crypto
from dsr.tasks.models import Task, TaskKind
from dsr.workflow.models import ConnectorJob, DataSubjectRequest, JobStatus, Note, Status
from tests.dashboard.conftest import make_staff, sign_in_verified
from tests.factories import RequestFactory, SystemFactory

pytestmark = pytest.mark.django_db

TEXTS = {
    "note": "Jane called from +49 30 1234567 about her divorce",
    "deny": "Your account 4711 is under a fraud investigation",
    "extend": "The archive of the Hamburg branch is being searched",
    "cancel": "Duplicate of the request Jane sent by letter",
    "task_title": "Ask Dr. Weber's practice to delete the recordings",
    "task_outcome": "Recordings of 2024-03-02 deleted by Weber",
    "task_note": "Two paper files shredded in room 3",
}


def signed_in(role: str) -> Client:
    return sign_in_verified(Client(), make_staff(role, username=f"{role}-web"))


def raw_rows(table: str) -> str:
    """Every value of every row of ``table``, as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        return json.dumps(cursor.fetchall(), default=str)


@pytest.fixture
def written(staff_client: Any) -> dict[str, Any]:
    """Every kind of staff free text, written through the API and the dashboard."""
    approver, agent = staff_client("approver"), staff_client("agent")
    denied = RequestFactory(status=Status.AWAITING_APPROVAL)
    extended = RequestFactory(status=Status.IN_PROGRESS)
    cancelled = RequestFactory(status=Status.AWAITING_APPROVAL)
    base = "/api/v1/staff/requests"
    assert agent.post(f"{base}/{extended.pk}/notes", {"body": TEXTS["note"]}).status_code == 201
    assert (
        approver.post(f"{base}/{denied.pk}/deny", {"reason": "fraud", "message": TEXTS["deny"]}).status_code
        == 200
    )
    assert approver.post(f"{base}/{extended.pk}/extend", {"reason": TEXTS["extend"]}).status_code == 200
    assert agent.post(f"{base}/{cancelled.pk}/cancel", {"note": TEXTS["cancel"]}).status_code == 200

    web = signed_in("agent")
    web.post(f"/dashboard/requests/{extended.pk}/tasks/", {"title": TEXTS["task_title"]})
    manual = Task.objects.get(kind=TaskKind.ADHOC)
    web.post(f"/dashboard/requests/{extended.pk}/tasks/{manual.pk}/done/", {"outcome": TEXTS["task_outcome"]})

    system = SystemFactory(key="paper", connector="manual")
    job = ConnectorJob.objects.create(
        request=extended, system=system, action="erase", status=JobStatus.WAITING
    )
    task = Task.objects.create(
        job=job, request=extended, system=system, kind="manual", action="erase", due_at=extended.due_at
    )
    completed = agent.post(
        f"/api/v1/staff/tasks/{task.pk}/complete",
        {"records_found": 2, "records_erased": 2, "note": TEXTS["task_note"]},
        format="json",
    )
    assert completed.status_code == 200, completed.content
    return {"denied": denied, "extended": extended, "cancelled": cancelled, "task": task, "web": web}


def test_no_staff_text_is_in_the_database_in_clear(written):
    tables = ["workflow_datasubjectrequest", "dashboard_note", "tasks_task"]
    dump = "".join(raw_rows(table) for table in tables)
    for name, text in TEXTS.items():
        assert text not in dump, name
    assert "v1:" in raw_rows("dashboard_note")  # stored as ciphertext with its key id


def test_no_staff_text_is_copied_into_the_audit_log_or_the_jobs_outcome(written):
    dump = raw_rows("audit_auditevent") + raw_rows("workflow_connectorjob")
    for name, text in TEXTS.items():
        assert text not in dump, name
    note = Note.objects.get()
    assert AuditEvent.objects.get(action="request.note_added").data == {"note": note.pk}
    assert AuditEvent.objects.get(action="request.cancelled").data["has_note"] is True
    task_event = AuditEvent.objects.get(action="task.completed", data__job=written["task"].job_id)
    assert task_event.data["has_note"] is True
    assert audit_verify_chain().ok


def test_the_api_still_shows_the_text_to_staff(written, staff_client):
    viewer = staff_client("viewer")
    base = "/api/v1/staff/requests"
    assert viewer.get(f"{base}/{written['denied'].pk}").json()["deny_message"] == TEXTS["deny"]
    assert viewer.get(f"{base}/{written['cancelled'].pk}").json()["cancel_note"] == TEXTS["cancel"]
    extended = viewer.get(f"{base}/{written['extended'].pk}").json()
    assert extended["extension_reason"] == TEXTS["extend"]
    assert [n["body"] for n in viewer.get(f"{base}/{written['extended'].pk}/notes").json()] == [TEXTS["note"]]
    assert viewer.get(f"/api/v1/staff/tasks/{written['task'].pk}").json()["note"] == TEXTS["task_note"]


def test_the_dashboard_still_shows_the_text_to_staff(written):
    viewer = signed_in("viewer")
    page = viewer.get(f"/dashboard/requests/{written['extended'].pk}/").content.decode()
    for name in ("note", "extend", "task_title", "task_outcome"):
        assert TEXTS[name].replace("'", "&#x27;") in page, name
    assert TEXTS["deny"] in viewer.get(f"/dashboard/requests/{written['denied'].pk}/").content.decode()
    cancelled = viewer.get(f"/dashboard/requests/{written['cancelled'].pk}/").content.decode()
    assert f'<dd id="cancel-note">{TEXTS["cancel"]}</dd>' in cancelled


def test_rotate_keys_re_encrypts_the_staff_text_under_the_new_key(written, settings):
    settings.DSR_ENCRYPTION_KEYS = (
        f"next:{base64.b64encode(b'n' * 32).decode()},{settings.DSR_ENCRYPTION_KEYS}"
    )
    out = io.StringIO()
    call_command("rotate_keys", stdout=out)
    for field in (
        "workflow.Note.body",
        "tasks.Task.title",
        "tasks.Task.note",
        "workflow.DataSubjectRequest.deny_message",
        "workflow.DataSubjectRequest.extension_reason",
        "workflow.DataSubjectRequest.cancel_note",
    ):
        assert f"{field}: " in out.getvalue(), field
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM dashboard_note")
        (stored,) = cursor.fetchone()
    assert crypto.key_id_of(stored) == "next"
    assert Note.objects.get().body == TEXTS["note"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_text_stored_in_clear_and_moves_cancel_notes_off_the_audit_log():
    before = [
        ("workflow", "0002_portal_types_agent"),
        ("dashboard", "0001_initial"),
        ("tasks", "0001_initial"),
    ]
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    try:
        old_apps = executor.loader.project_state(before).apps
        OldRequest = old_apps.get_model("workflow", "DataSubjectRequest")
        request_id = RequestFactory.build().pk
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO workflow_datasubjectrequest (id, reference, type, jurisdiction, regime, status,"
                " channel, language, email, email_index, full_name, phone, received_at, due_at,"
                " due_explanation, extension_reason, deny_reason, deny_message, status_reason, details,"
                " gpc_signalled, created_at, updated_at) VALUES (%s, 'DSR-OLD1-TEXT', 'access', 'DE', 'GDPR',"
                " 'cancelled', 'api', 'en', %s, 'x', '', '', now(), now(), '', %s, 'other', %s, '', '',"
                " false, now(), now())",
                [request_id, crypto.encrypt("old@example.com"), TEXTS["extend"], TEXTS["deny"]],
            )
        assert OldRequest.objects.count() == 1
        from dsr.audit.services import audit_record

        audit_record(
            actor="staff:x", action="request.cancelled", request_id=request_id, data={"note": "by phone"}
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)
    raw = raw_rows("workflow_datasubjectrequest")
    assert TEXTS["extend"] not in raw
    assert TEXTS["deny"] not in raw
    migrated = DataSubjectRequest.objects.get(pk=request_id)
    assert (migrated.extension_reason, migrated.deny_message, migrated.cancel_note) == (
        TEXTS["extend"],
        TEXTS["deny"],
        "by phone",
    )
