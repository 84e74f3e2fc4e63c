"""The migrations of the casework move and the one task model apply to a database that holds the old
tables with rows: assignments and notes stay in place, manual tasks become ad-hoc tasks, encrypted."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from dsr.audit.models import AuditEvent
from dsr.audit.services import audit_verify_chain
from dsr.tasks.models import Task, TaskKind, TaskStatus
from dsr.workflow.models import Assignment, Note
from tests.factories import RequestFactory

BEFORE = [
    ("workflow", "0004_merge_import_and_staff_text"),
    ("dashboard", "0002_h4_encrypt_staff_text"),
    ("tasks", "0002_h4_encrypt_staff_text"),
]


def _raw(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        return json.dumps(cursor.fetchall(), default=str)


@pytest.mark.django_db(transaction=True)
def test_the_old_rows_survive_the_move_and_manual_tasks_become_adhoc_tasks() -> None:
    request = RequestFactory()
    user = get_user_model().objects.create_user(username="dana")
    created = timezone.now() - timezone.timedelta(days=3)
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        old.get_model("dashboard", "Assignment").objects.create(
            request_id=request.pk, assignee_id=user.pk, assigned_at=created, assigned_by="staff:boss"
        )
        old.get_model("dashboard", "Note").objects.create(
            request_id=request.pk, author_id=user.pk, body="The person called back"
        )
        ManualTask = old.get_model("dashboard", "ManualTask")
        open_task = ManualTask.objects.create(
            request_id=request.pk, title="Ask the call centre", created_by="staff:a"
        )
        done_task = ManualTask.objects.create(
            request_id=request.pk,
            title="Check the paper archive",
            created_by="staff:a",
            status="done",
            done_by="staff:b",
            done_at=created,
            outcome="Nothing found in room 3",
        )
        ManualTask.objects.filter(pk__in=[open_task.pk, done_task.pk]).update(created_at=created)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)

    assignment = Assignment.objects.get()
    assert (assignment.request_id, assignment.assignee, assignment.assigned_by) == (
        request.pk,
        user,
        "staff:boss",
    )
    assert [(n.body, n.author) for n in Note.objects.all()] == [("The person called back", user)]
    tasks = list(Task.objects.order_by("pk"))
    assert [
        (t.kind, t.title, t.status, t.created_by, t.completed_by, t.note, t.job_id, t.due_at) for t in tasks
    ] == [
        (TaskKind.ADHOC, "Ask the call centre", TaskStatus.OPEN, "staff:a", "", "", None, request.due_at),
        (
            TaskKind.ADHOC,
            "Check the paper archive",
            TaskStatus.COMPLETED,
            "staff:a",
            "staff:b",
            "Nothing found in room 3",
            None,
            request.due_at,
        ),
    ]
    assert [t.created_at for t in tasks] == [created, created]
    assert tasks[1].completed_at == created
    raw = _raw("tasks_task")
    for text in ("Ask the call centre", "Check the paper archive", "Nothing found in room 3"):
        assert text not in raw  # still encrypted at rest
    assert "dashboard_manualtask" not in connection.introspection.table_names()
    # The audit events written before name the old ids: the chain links each to its new task.
    moved = AuditEvent.objects.filter(action="task.moved").order_by("pk")
    assert [(e.actor, e.request_id, e.data) for e in moved] == [
        (
            "system",
            request.pk,
            {"task": task.pk, "kind": "adhoc", "from": "dashboard.manualtask", "manualtask": old_id},
        )
        for task, old_id in zip(tasks, [open_task.pk, done_task.pk], strict=True)
    ]
    assert audit_verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_the_task_migration_reverses_into_manual_tasks() -> None:
    request = RequestFactory()
    Task.objects.create(
        request=request,
        kind=TaskKind.ADHOC,
        title="Ask the call centre",
        created_by="staff:a",
        due_at=request.due_at,
        status=TaskStatus.COMPLETED,
        completed_by="staff:b",
        completed_at=timezone.now(),
        note="Done by phone",
    )
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        ManualTask = executor.loader.project_state(BEFORE).apps.get_model("dashboard", "ManualTask")
        assert list(ManualTask.objects.values_list("title", "status", "done_by", "outcome")) == [
            ("Ask the call centre", "done", "staff:b", "Done by phone")
        ]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)
    assert list(Task.objects.values_list("title", "status", "note")) == [
        ("Ask the call centre", TaskStatus.COMPLETED, "Done by phone")
    ]
