"""One task model for ad-hoc and hand-off tasks: staff add ad-hoc tasks on a request page, and the
dashboard and the staff API list and complete every kind, with one ``task.completed`` event naming it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from connectors.manual.tests import MANUAL_CONFIG
from dsr.audit.models import AuditEvent
from dsr.errors import RequestInputError
from dsr.staff.services import staff_create
from dsr.tasks import services
from dsr.tasks.models import Task, TaskKind, TaskStatus
from dsr.workflow import jobs
from dsr.workflow.fanout import request_check_finished, request_finalize
from dsr.workflow.models import ConnectorJob, JobStatus, RequestType, Status
from tests.dashboard.conftest import make_staff, sign_in_verified
from tests.factories import RequestFactory
from tests.tasks.conftest import StartRequest, make_system

pytestmark = pytest.mark.django_db


@pytest.fixture
def archive() -> None:
    staff_create(username="dana", role="agent")
    make_system("archive", "manual", {**MANUAL_CONFIG, "assignee": "dana"})


def open_handoff(start_request: StartRequest, type: str = RequestType.ERASURE) -> Task:
    _, job = start_request("archive", type=type)
    jobs.job_run(job_id=job.pk)
    return Task.objects.get(job=job)


def dashboard(role: str = "agent") -> Client:
    return sign_in_verified(Client(), make_staff(role, username=f"{role}-web"))


def test_an_adhoc_task_is_created_and_completed_once() -> None:
    request = RequestFactory()
    task = services.task_create(request_id=request.pk, title="Ask the vendor", actor="staff:a")
    services.task_complete(task_id=task.pk, actor="staff:b", note="Done by phone")
    task.refresh_from_db()
    assert (task.kind, task.job_id, task.system_id, task.due_at) == (
        TaskKind.ADHOC,
        None,
        None,
        request.due_at,
    )
    assert (task.status, task.completed_by, task.note) == (TaskStatus.COMPLETED, "staff:b", "Done by phone")
    with pytest.raises(RequestInputError) as again:
        services.task_complete(task_id=task.pk, actor="staff:b")
    assert again.value.errors == {"task": "This task is already completed."}
    assert Task.objects.count() == 1
    assert [
        (e.action, e.data) for e in AuditEvent.objects.filter(action__startswith="task.").order_by("pk")
    ] == [
        ("task.created", {"task": task.pk, "kind": "adhoc"}),
        ("task.completed", {"task": task.pk, "kind": "adhoc", "has_note": True}),
    ]


def test_a_closed_request_takes_no_new_adhoc_task() -> None:
    request = RequestFactory(status=Status.COMPLETED)
    with pytest.raises(RequestInputError) as refused:
        services.task_create(request_id=request.pk, title="Too late", actor="staff:a")
    assert refused.value.errors == {"request": "A closed request takes no new tasks."}
    assert not Task.objects.exists()


def test_an_adhoc_task_is_listed_and_completed_through_the_staff_api(staff_client: Any) -> None:
    request = RequestFactory(status=Status.AWAITING_APPROVAL)
    task = services.task_create(request_id=request.pk, title="Notify the processor", actor="staff:a")
    agent = staff_client("agent")

    listed = agent.get("/api/v1/staff/tasks?status=open&kind=adhoc").json()["results"]
    assert [
        (t["id"], t["kind"], t["title"], t["created_by"], t["system"], t["job_status"]) for t in listed
    ] == [(task.pk, "adhoc", "Notify the processor", "staff:a", None, None)]
    response = agent.post(f"/api/v1/staff/tasks/{task.pk}/complete", {"note": "Sent by post"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["note"], body["completed_by"]) == (
        "completed",
        "Sent by post",
        "staff:agent-user",
    )
    assert agent.get("/api/v1/staff/tasks?status=open").json()["results"] == []
    event = AuditEvent.objects.get(action="task.completed")
    assert (event.actor, event.data) == (
        "staff:agent-user",
        {"task": task.pk, "kind": "adhoc", "has_note": True},
    )
    again = agent.post(f"/api/v1/staff/tasks/{task.pk}/complete", {"note": "twice"}, format="json")
    assert again.status_code == 400
    assert again.json()["errors"] == {"task": ["This task is already completed."]}


def test_the_request_page_lists_hand_off_tasks_beside_adhoc_ones(
    archive: None, start_request: StartRequest
) -> None:
    handoff = open_handoff(start_request)
    services.task_create(request_id=handoff.request_id, title="Check the paper archive", actor="staff:a")
    page = dashboard("viewer").get(f"/dashboard/requests/{handoff.request_id}/").content.decode()
    tasks = page.split('id="tasks"', 1)[1].split('id="notes"', 1)[0]
    assert "<strong>Staff task</strong>: erase the person's data in Archive" in tasks
    assert "Search the signed paper contracts in archive room 3" in tasks
    assert "Check the paper archive" in tasks
    assert 'name="records_found"' not in tasks  # a viewer cannot complete tasks


def test_a_hand_off_task_completed_on_the_dashboard_wakes_the_job_and_completes_the_request(
    archive: None, start_request: StartRequest, django_capture_on_commit_callbacks
) -> None:
    task = open_handoff(start_request)
    web = dashboard("agent")
    assert 'name="records_found"' in web.get(f"/dashboard/requests/{task.request_id}/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(
            f"/dashboard/requests/{task.request_id}/tasks/{task.pk}/done/",
            {"records_found": 3, "records_erased": 2, "method": "anonymised", "note": "1 contract kept"},
        )

    assert response.status_code == 302
    job = ConnectorJob.objects.get(pk=task.job_id)
    assert (job.status, job.records_found, job.records_erased, job.method) == (
        JobStatus.SUCCEEDED,
        3,
        2,
        "anonymised",
    )
    assert job.detail["notes"] == f"Reported by staff:agent-web (task {task.pk})"
    assert job.request.status == Status.COMPLETED
    completed = AuditEvent.objects.get(action="task.completed")
    assert (completed.actor, completed.data["kind"], completed.data["found"], completed.data["erased"]) == (
        "staff:agent-web",
        "manual",
        3,
        2,
    )
    assert Task.objects.get(pk=task.pk).note == "1 contract kept"


def test_an_access_hand_off_completed_on_the_dashboard_puts_the_upload_in_the_package(
    archive: None, start_request: StartRequest, django_capture_on_commit_callbacks
) -> None:
    task = open_handoff(start_request, RequestType.ACCESS)
    upload = SimpleUploadedFile("archive.json", json.dumps({"contracts": [{"number": "C-1"}]}).encode())
    with django_capture_on_commit_callbacks(execute=True):
        response = dashboard("approver").post(
            f"/dashboard/requests/{task.request_id}/tasks/{task.pk}/done/", {"file": upload}
        )
    assert response.status_code == 302
    job = ConnectorJob.objects.get(pk=task.job_id)
    assert (job.status, job.records_found, job.detail) == (
        JobStatus.SUCCEEDED,
        1,
        {"per_category": {"contracts": 1}},
    )
    request_check_finished(request_id=job.request_id)
    request_finalize(request_id=job.request_id)
    job.request.refresh_from_db()
    assert (job.request.status, job.request.package.records) == (Status.COMPLETED, 1)


def test_a_hand_off_without_its_counts_is_refused_on_the_dashboard_and_stays_open(
    archive: None, start_request: StartRequest
) -> None:
    task = open_handoff(start_request)
    web = dashboard("agent")
    response = web.post(
        f"/dashboard/requests/{task.request_id}/tasks/{task.pk}/done/", {"note": "done"}, follow=True
    )
    assert "This field is required." in response.content.decode()
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN
    assert ConnectorJob.objects.get(pk=task.job_id).status == JobStatus.WAITING
    assert not AuditEvent.objects.filter(action="task.completed").exists()


def test_a_task_of_another_request_is_not_found_on_the_dashboard(
    archive: None, start_request: StartRequest
) -> None:
    task = open_handoff(start_request)
    other = RequestFactory(status=Status.IN_PROGRESS)
    response = dashboard("agent").post(
        f"/dashboard/requests/{other.pk}/tasks/{task.pk}/done/", {"records_found": 0, "records_erased": 0}
    )
    assert response.status_code == 404
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN
