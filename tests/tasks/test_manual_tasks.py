"""Manual tasks: the job opens a task for a person, waits, and succeeds with what the person reports."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from connectors.manual.tests import MANUAL_CONFIG
from dsr.audit.models import AuditEvent
from dsr.exports.download import package_read
from dsr.staff.services import staff_create
from dsr.tasks.models import Task, TaskStatus
from dsr.workflow import jobs
from dsr.workflow.fanout import request_check_finished, request_finalize
from dsr.workflow.models import ConnectorJob, JobStatus, RequestType, Status
from tests.support.personas import PERSONAS
from tests.tasks.conftest import StartRequest, make_system

pytestmark = pytest.mark.django_db


@pytest.fixture
def archive() -> None:
    staff_create(username="dana", role="agent")
    make_system("archive", "manual", {**MANUAL_CONFIG, "assignee": "dana"})


@pytest.fixture
def client_for(api, staff_client):  # type: ignore[no-untyped-def]
    return lambda persona: api if persona == "anonymous" else staff_client(persona)


def open_task(start_request: StartRequest, type: str = RequestType.ERASURE) -> Task:
    _, job = start_request("archive", type=type)
    jobs.job_run(job_id=job.pk)
    return Task.objects.get(job=job)


def test_the_job_opens_one_task_for_the_configured_assignee_and_waits(
    archive: None, start_request: StartRequest
) -> None:
    request, job = start_request("archive")
    before = timezone.now()
    jobs.job_run(job_id=job.pk)
    jobs.job_run(job_id=job.pk)  # a duplicate message: not due, nothing happens

    job.refresh_from_db()
    task = Task.objects.get()
    assert job.status == JobStatus.WAITING
    assert job.external_handle["data"]["handoff"] == "manual"
    assert (task.job_id, task.kind, task.action, task.status) == (job.pk, "manual", "erase", TaskStatus.OPEN)
    assert task.assignee.username == "dana"
    assert task.instructions == "Search the signed paper contracts in archive room 3"
    assert before + timedelta(days=7) <= task.due_at <= timezone.now() + timedelta(days=7)
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    opened = AuditEvent.objects.get(action="task.opened")
    assert opened.data["assignee"] == "dana"


def test_the_task_is_due_at_the_requests_due_date_when_that_comes_first(
    archive: None, start_request: StartRequest
) -> None:
    soon = timezone.now() + timedelta(days=2)
    _, job = start_request("archive", due_at=soon)
    jobs.job_run(job_id=job.pk)
    assert Task.objects.get().due_at == soon


def test_an_unknown_or_non_staff_assignee_leaves_the_task_unassigned_and_says_so(
    start_request: StartRequest,
) -> None:
    make_system("archive", "manual", {**MANUAL_CONFIG, "assignee": "nobody"})
    task = open_task(start_request)
    assert task.assignee is None
    assert AuditEvent.objects.get(action="task.opened").data["assignee_not_found"] == "nobody"


def test_completing_an_erasure_task_succeeds_the_job_with_the_reported_counts_and_completes_the_request(
    archive: None, start_request: StartRequest, client_for, django_capture_on_commit_callbacks
) -> None:
    task = open_task(start_request)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("agent").post(
            f"/api/v1/staff/tasks/{task.pk}/complete",
            {
                "records_found": 3,
                "records_erased": 2,
                "method": "deleted",
                "note": "1 contract kept (tax law)",
            },
            format="json",
        )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "completed"  # the job is woken after commit, then succeeds
    job = ConnectorJob.objects.get(pk=task.job_id)
    assert (job.status, job.records_found, job.records_erased, job.method) == (
        JobStatus.SUCCEEDED,
        3,
        2,
        "deleted",
    )
    assert job.detail["notes"] == f"Reported by staff:agent-user (task {task.pk})"
    assert Task.objects.get(pk=task.pk).note == "1 contract kept (tax law)"
    assert job.request.status == Status.COMPLETED
    completed = AuditEvent.objects.get(action="task.completed")
    assert (completed.actor, completed.data["found"], completed.data["erased"]) == ("staff:agent-user", 3, 2)
    assert (completed.data["task"], completed.data["has_note"]) == (task.pk, True)
    assert "tax law" not in str(completed.data)


def test_completing_an_access_task_with_a_json_file_puts_the_records_in_the_package(
    archive: None, start_request: StartRequest, client_for, django_capture_on_commit_callbacks
) -> None:
    task = open_task(start_request, RequestType.ACCESS)
    document = {"contracts": [{"number": "C-1", "signed": "2021-04-01"}, {"number": "C-2", "signed": None}]}
    upload = SimpleUploadedFile(
        "archive.json", json.dumps(document).encode(), content_type="application/json"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("approver").post(
            f"/api/v1/staff/tasks/{task.pk}/complete",
            {"file": upload, "note": "two contracts"},
            format="multipart",
        )

    assert response.status_code == 200, response.content
    assert response.json()["result_counts"] == {"contracts": 2}
    job = ConnectorJob.objects.get(pk=task.job_id)
    assert (job.status, job.records_found, job.detail) == (
        JobStatus.SUCCEEDED,
        2,
        {"per_category": {"contracts": 2}},
    )
    request_check_finished(request_id=job.request_id)
    request_finalize(request_id=job.request_id)
    job.request.refresh_from_db()
    assert job.request.status == Status.COMPLETED
    assert job.request.package.records == 2
    assert package_read(request=job.request)  # the package builds from the uploaded part


def test_completing_an_access_task_with_a_csv_file_makes_one_record_per_row(
    archive: None, start_request: StartRequest, client_for, django_capture_on_commit_callbacks
) -> None:
    task = open_task(start_request, RequestType.ACCESS)
    upload = SimpleUploadedFile("rows.csv", "\ufeffnumber,signed\nC-1,2021-04-01\nC-2,\n\n".encode())
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("agent").post(
            f"/api/v1/staff/tasks/{task.pk}/complete",
            {"file": upload, "category": "contracts"},
            format="multipart",
        )
    assert response.status_code == 200, response.content
    assert ConnectorJob.objects.get(pk=task.job_id).detail == {"per_category": {"contracts": 2}}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("data.txt", b"number\nC-1\n", "Upload a .json or a .csv file."),
        (
            "data.json",
            b"{not json",
            "Not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        ("data.json", b'[{"a": 1}, "text"]', "records[1]: expected a non-empty object"),
        # Not JSON (RFC 8259 §6): stored as-is they made the package's data.json invalid.
        ("data.json", b'[{"score": NaN}]', "NaN is not a JSON number; write the value as a string or null."),
        (
            "data.json",
            b'[{"score": -Infinity}]',
            "-Infinity is not a JSON number; write the value as a string or null.",
        ),
        ("data.json", b'[{"score": 1e999}]', "A number is too large to store; write it as a string."),
        # Nested 1,000 levels deep: a RecursionError (500) before.
        (
            "data.json",
            b'[{"a": ' + b"[" * 1000 + b"]" * 1000 + b"}]",
            "The JSON is nested more than 64 levels deep.",
        ),
        ("data.json", b"[]", "The file holds no records; report an empty result instead."),
        ("data.csv", b"a,a\n1,2\n", "The CSV header names a column twice."),
        ("data.csv", b"a,b\n1,2,3\n", "Line 2: 3 values for 2 columns."),
        ("data.csv", b"\xff\xfe", "The file is not UTF-8 text."),
    ],
)
def test_an_invalid_access_file_is_refused_and_the_task_stays_open(
    archive: None, start_request: StartRequest, client_for, name: str, content: bytes, message: str
) -> None:
    task = open_task(start_request, RequestType.ACCESS)
    response = client_for("agent").post(
        f"/api/v1/staff/tasks/{task.pk}/complete",
        {"file": SimpleUploadedFile(name, content)},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"file": [message]}
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    assert ConnectorJob.objects.get(pk=task.job_id).status == JobStatus.WAITING


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"note": "done"}, {"records_found": ["Give the records found and erased."]}),
        (
            {"records_found": 1, "records_erased": 2},
            {"records_erased": ["Erased must be between 0 and the records found."]},
        ),
        (
            {"records_found": -1, "records_erased": 0},
            {"records_found": ["Ensure this value is greater than or equal to 0."]},
        ),
    ],
)
def test_an_erasure_report_must_hold_consistent_counts(
    archive: None,
    start_request: StartRequest,
    client_for,
    payload: dict[str, object],
    errors: dict[str, list[str]],
) -> None:
    task = open_task(start_request)
    response = client_for("agent").post(f"/api/v1/staff/tasks/{task.pk}/complete", payload, format="json")
    assert (response.status_code, response.json()["errors"]) == (400, errors)
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_a_task_cannot_be_completed_twice(archive: None, start_request: StartRequest, client_for) -> None:
    task = open_task(start_request)
    agent = client_for("agent")
    url = f"/api/v1/staff/tasks/{task.pk}/complete"
    assert agent.post(url, {"records_found": 0, "records_erased": 0}, format="json").status_code == 200
    again = agent.post(url, {"records_found": 5, "records_erased": 5}, format="json")
    assert (again.status_code, again.json()["errors"]) == (400, {"task": ["This task is already completed."]})
    assert Task.objects.get().records_found == 0


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_role_matrix_of_completing_a_task(
    archive: None, start_request: StartRequest, client_for, persona: str
) -> None:
    task = open_task(start_request)
    response = client_for(persona).post(
        f"/api/v1/staff/tasks/{task.pk}/complete", {"records_found": 1, "records_erased": 1}, format="json"
    )
    expected = {"anonymous": 401, "viewer": 403, "agent": 200, "approver": 200, "admin": 200}[persona]
    assert response.status_code == expected
    task.refresh_from_db()
    if expected != 200:
        assert (task.status, task.records_found) == (TaskStatus.OPEN, None)
        assert not AuditEvent.objects.filter(action="task.completed").exists()


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_role_matrix_of_listing_and_reading_tasks(
    archive: None, start_request: StartRequest, client_for, persona: str
) -> None:
    task = open_task(start_request)
    client = client_for(persona)
    listed = client.get("/api/v1/staff/tasks")
    detail = client.get(f"/api/v1/staff/tasks/{task.pk}")
    expected = 401 if persona == "anonymous" else 200
    assert (listed.status_code, detail.status_code) == (expected, expected)
    if expected == 200:
        assert [t["id"] for t in listed.json()["results"]] == [task.pk]
        assert detail.json()["reference"] == task.request.reference
        assert detail.json()["assignee"] == "dana"
        assert "jane" not in json.dumps(detail.json()).lower()


def test_the_task_list_filters_by_status_and_assignee(
    archive: None, start_request: StartRequest, client_for
) -> None:
    task = open_task(start_request)
    agent = client_for("agent")
    ids = lambda query: [t["id"] for t in agent.get(f"/api/v1/staff/tasks?{query}").json()["results"]]  # noqa: E731
    assert ids("status=open") == [task.pk]
    assert ids("status=completed") == []
    assert ids("assignee=dana") == [task.pk]
    assert ids("assignee=me") == []
    assert ids("assignee=") == []
    assert agent.get("/api/v1/staff/tasks/999999").status_code == 404


def test_a_task_of_a_cancelled_request_cannot_be_completed(
    archive: None, start_request: StartRequest, client_for
) -> None:
    task = open_task(start_request)
    from dsr.workflow.decisions import request_cancel

    request_cancel(request_id=task.request_id, actor="staff:t")
    agent = client_for("agent")
    assert agent.get("/api/v1/staff/tasks?status=open").json()["results"] == []
    response = client_for("agent").post(
        f"/api/v1/staff/tasks/{task.pk}/complete", {"records_found": 1, "records_erased": 1}, format="json"
    )
    assert (response.status_code, response.json()["errors"]) == (
        400,
        {"task": ["The request is closed; its tasks cannot be completed."]},
    )


def test_an_access_file_over_10_mb_is_refused_with_a_readable_400_and_the_task_stays_open(
    archive: None, start_request: StartRequest, client_for
) -> None:
    task = open_task(start_request, RequestType.ACCESS)
    big = SimpleUploadedFile("data.csv", b"a\n" + b"1" * (10 * 1024 * 1024))
    response = client_for("agent").post(
        f"/api/v1/staff/tasks/{task.pk}/complete", {"file": big}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"file": ["The file is larger than 10 MB."]}
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
