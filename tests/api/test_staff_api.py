"""The staff API: the role matrix of every endpoint, then each operation's behaviour."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from knox.models import AuthToken
from rest_framework.test import APIClient

from dsr.audit.models import AuditEvent
from dsr.exports.models import AccessPackage
from dsr.exports.package import package_build
from dsr.staff import twofactor
from dsr.staff.models import StaffTOTPDevice
from dsr.staff.services import staff_create
from dsr.tasks.models import Task, TaskKind, TaskStatus
from dsr.workflow.models import (
    Assignment,
    AuthorizedAgent,
    ConnectorJob,
    DataSubjectRequest,
    JobStatus,
    Note,
    RequestType,
    Status,
)
from tests.factories import RequestFactory, SystemFactory
from tests.support.personas import DECIDERS, EVERYONE, PERSONAS, WORKERS, db_snapshot

pytestmark = pytest.mark.django_db

BASE = "/api/v1/staff/requests"


@dataclass
class World:
    awaiting: DataSubjectRequest  # verified, waiting for a decision
    stuck: DataSubjectRequest  # action required: one job failed
    failed_job: ConnectorJob
    completed: DataSubjectRequest  # an access request with its package
    task: Task  # an ad-hoc task on the waiting request


@pytest.fixture
def world() -> World:
    system = SystemFactory(key="shop")
    awaiting = RequestFactory(
        email="jane.doe@example.com", full_name="Jane Doe", status=Status.AWAITING_APPROVAL
    )
    stuck = RequestFactory(
        type=RequestType.ERASURE, status=Status.ACTION_REQUIRED, status_reason="shop: boom"
    )
    failed_job = ConnectorJob.objects.create(
        request=stuck, system=system, action="erase", status=JobStatus.FAILED, attempts=6, error="boom"
    )
    completed = RequestFactory(status=Status.COMPLETED, closed_at=timezone.now())
    package_build(request=completed)
    staff_create(username="dana", role="agent")  # someone to assign requests to
    task = Task.objects.create(
        request=awaiting,
        kind=TaskKind.ADHOC,
        title="Tell the call centre",
        created_by="staff:someone",
        due_at=awaiting.due_at,
    )
    return World(awaiting=awaiting, stuck=stuck, failed_job=failed_job, completed=completed, task=task)


@pytest.fixture
def client_for(api, staff_client):
    """``client_for(persona, how)``: a token, a browser session that passed the second factor, or a
    "half" session (password only, as the Django admin's login used to leave it)."""

    def make(persona: str, how: str = "token"):
        if persona == "anonymous":
            return api
        if how == "token":
            return staff_client(persona)
        profile, _ = staff_create(username=f"{persona}-{how}", role=persona)
        device = StaffTOTPDevice.objects.create(
            user=profile.user, name="authenticator", secret=twofactor.secret_new(), confirmed=True
        )
        client = APIClient()
        client.force_login(profile.user)
        if how == "session":
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        return client

    return make


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    allowed: frozenset[str]

    def call(self, client: Any, world: World) -> Any:
        urls = {
            "list": (BASE, None),
            "detail": (f"{BASE}/{world.awaiting.pk}", None),
            "reveal": (f"{BASE}/{world.awaiting.pk}/reveal", None),
            "approve": (f"{BASE}/{world.awaiting.pk}/approve", None),
            "deny": (
                f"{BASE}/{world.awaiting.pk}/deny",
                {"reason": "exempt", "message": "An exemption applies."},
            ),
            "cancel": (f"{BASE}/{world.awaiting.pk}/cancel", {"note": "asked by phone"}),
            "retry": (f"{BASE}/{world.stuck.pk}/jobs/{world.failed_job.pk}/retry", None),
            "package": (f"{BASE}/{world.completed.pk}/package", None),
            "audit": (f"{BASE}/{world.awaiting.pk}/audit", None),
            "extend": (f"{BASE}/{world.awaiting.pk}/extend", {"reason": "Records sit in three archives."}),
            "assign": (f"{BASE}/{world.awaiting.pk}/assign", {"assignee": "dana"}),
            "notes": (f"{BASE}/{world.awaiting.pk}/notes", None),
            "note-add": (f"{BASE}/{world.awaiting.pk}/notes", {"body": "Called the customer back."}),
            "tasks": ("/api/v1/staff/tasks", None),
            "task-complete": (
                f"/api/v1/staff/tasks/{world.task.pk}/complete",
                {"note": "Told them by phone."},
            ),
        }
        url, body = urls[self.name]
        return client.get(url) if self.method == "GET" else client.post(url, body)


ENDPOINTS = [
    Endpoint("list", "GET", EVERYONE),
    Endpoint("detail", "GET", EVERYONE),
    Endpoint("reveal", "POST", WORKERS),  # as the dashboard: viewers see identities masked only
    Endpoint("approve", "POST", DECIDERS),
    Endpoint("deny", "POST", DECIDERS),
    Endpoint("cancel", "POST", WORKERS),
    Endpoint("retry", "POST", WORKERS),
    Endpoint("package", "GET", WORKERS),
    Endpoint("audit", "GET", EVERYONE),
    Endpoint("extend", "POST", DECIDERS),
    Endpoint("assign", "POST", WORKERS),
    Endpoint("notes", "GET", EVERYONE),
    Endpoint("note-add", "POST", WORKERS),
    Endpoint("tasks", "GET", EVERYONE),
    Endpoint("task-complete", "POST", WORKERS),
]


def _check_allowed_effect(endpoint: Endpoint, response: Any, world: World) -> None:
    """What each allowed call must have done."""
    if endpoint.name == "list":
        assert response.json()["count"] == 3
    elif endpoint.name == "detail":
        assert response.json()["reference"] == world.awaiting.reference
    elif endpoint.name == "reveal":
        assert response.json()["email"] == "jane.doe@example.com"
        assert AuditEvent.objects.filter(action="request.identity_revealed").count() == 1
    elif endpoint.name == "approve":
        assert response.json()["status"] == "in_progress"
        assert DataSubjectRequest.objects.get(pk=world.awaiting.pk).status == Status.IN_PROGRESS
    elif endpoint.name == "deny":
        assert response.json()["status"] == "denied"
        assert DataSubjectRequest.objects.get(pk=world.awaiting.pk).deny_reason == "exempt"
    elif endpoint.name == "cancel":
        assert response.json()["status"] == "cancelled"
        assert DataSubjectRequest.objects.get(pk=world.awaiting.pk).status == Status.CANCELLED
    elif endpoint.name == "retry":
        assert response.json()["status"] == "pending"
        assert DataSubjectRequest.objects.get(pk=world.stuck.pk).status == Status.IN_PROGRESS
    elif endpoint.name == "package":
        assert response["Content-Type"] == "application/zip"
        assert AccessPackage.objects.get(request=world.completed).downloads == 1
    elif endpoint.name == "audit":
        assert response.json() == []  # the factory writes no events for this request
    elif endpoint.name == "extend":
        assert DataSubjectRequest.objects.get(pk=world.awaiting.pk).extended_at is not None
        assert response.json()["extension_reason"] == "Records sit in three archives."
    elif endpoint.name == "assign":
        assert response.json() == {"reference": world.awaiting.reference, "assignee": "dana"}
        assert Assignment.objects.get(request=world.awaiting).assignee.username == "dana"
    elif endpoint.name == "notes":
        assert response.json() == []
    elif endpoint.name == "note-add":
        assert list(Note.objects.filter(request=world.awaiting).values_list("body", flat=True)) == [
            "Called the customer back."
        ]
    elif endpoint.name == "tasks":
        [task] = response.json()["results"]
        assert (task["id"], task["kind"], task["title"], task["system"], task["job_id"]) == (
            world.task.pk,
            "adhoc",
            "Tell the call centre",
            None,
            None,
        )
    elif endpoint.name == "task-complete":
        assert (response.json()["status"], response.json()["note"]) == ("completed", "Told them by phone.")
        task = Task.objects.get(pk=world.task.pk)
        assert (task.status, task.note) == (TaskStatus.COMPLETED, "Told them by phone.")


@pytest.mark.parametrize("how", ["token", "session", "half"])
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_role_matrix_allowed_calls_work_and_denied_calls_change_nothing(
    endpoint, persona, how, world, client_for
):
    client = client_for(persona, how)
    before = db_snapshot()
    response = endpoint.call(client, world)
    if how == "half" and persona != "anonymous":
        # Password only: no staff capability at all, the same answer as to an anonymous caller.
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentication credentials were not provided.", "errors": {}}
        assert db_snapshot() == before
        return
    if persona in endpoint.allowed:
        expected = 201 if endpoint.name == "note-add" else 200
        assert response.status_code == expected, getattr(response, "data", response)
        _check_allowed_effect(endpoint, response, world)
        return
    if persona == "anonymous":
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentication credentials were not provided.", "errors": {}}
    else:
        assert response.status_code == 403
        assert response.json() == {"detail": "Your role does not allow this.", "errors": {}}
    assert db_snapshot() == before


def test_a_staff_token_that_does_not_exist_is_refused_with_401(api, world):
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = api.get(BASE)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token.", "errors": {}}


def test_an_unknown_request_id_answers_404_to_every_role(staff_client):
    for role in ["viewer", "agent", "approver", "admin"]:
        assert staff_client(role).get(f"{BASE}/{uuid.uuid4()}").status_code == 404


# --- identities -----------------------------------------------------------------------------------


def test_a_viewer_sees_the_e_mail_masked_and_the_name_hidden(staff_client, world):
    viewer = staff_client("viewer")
    detail = viewer.get(f"{BASE}/{world.awaiting.pk}").json()
    assert (detail["email"], detail["full_name"], detail["phone"]) == ("j*******@example.com", "***", "")
    listed = {r["reference"]: r["email"] for r in viewer.get(BASE).json()["results"]}
    assert listed[world.awaiting.reference] == "j*******@example.com"


def test_an_agent_sees_identities_masked_in_the_list_and_the_detail_and_nothing_is_audited(
    staff_client, world
):
    agent = staff_client("agent")
    detail = agent.get(f"{BASE}/{world.awaiting.pk}").json()
    assert (detail["email"], detail["full_name"], detail["phone"], detail["agent"]) == (
        "j*******@example.com",
        "***",
        "",
        None,
    )
    listed = agent.get(BASE).json()["results"]
    assert all(re.fullmatch(r"[^@]\*+@example\.com", r["email"]) for r in listed), listed
    assert "jane.doe" not in agent.get(BASE).content.decode()
    assert not AuditEvent.objects.filter(action="request.identity_revealed").exists()


def test_revealing_returns_the_identity_in_clear_and_records_exactly_one_audit_event(staff_client, world):
    response = staff_client("agent").post(f"{BASE}/{world.awaiting.pk}/reveal")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "reference": world.awaiting.reference,
        "email": "jane.doe@example.com",
        "full_name": "Jane Doe",
        "phone": "",
        "agent": None,
    }
    events = AuditEvent.objects.filter(action="request.identity_revealed")
    assert [(e.actor, e.request_id, e.data) for e in events] == [("staff:agent-user", world.awaiting.pk, {})]


def test_an_authorized_agents_identity_is_masked_in_the_detail_and_clear_in_the_reveal(staff_client, world):
    AuthorizedAgent.objects.create(
        request=world.awaiting,
        name="Alex Agent",
        email="alex@agents.example",
        permission_path="agents/x.pdf",
        permission_content_type="application/pdf",
        permission_size=10,
    )
    agent = staff_client("agent")
    assert agent.get(f"{BASE}/{world.awaiting.pk}").json()["agent"] == {
        "name": "***",
        "email": "a***@agents.example",
    }
    revealed = agent.post(f"{BASE}/{world.awaiting.pk}/reveal").json()
    assert revealed["agent"] == {"name": "Alex Agent", "email": "alex@agents.example"}


def test_a_viewer_cannot_reveal_and_no_audit_event_is_written(staff_client, world):
    response = staff_client("viewer").post(f"{BASE}/{world.awaiting.pk}/reveal")
    assert response.status_code == 403
    assert "jane.doe" not in response.content.decode()
    assert not AuditEvent.objects.filter(action="request.identity_revealed").exists()


def test_revealing_an_unknown_request_answers_404(staff_client):
    assert staff_client("agent").post(f"{BASE}/{uuid.uuid4()}/reveal").status_code == 404


def test_a_huge_limit_returns_at_most_the_page_size_cap(staff_client):
    RequestFactory.create_batch(105)
    response = staff_client("agent").get(f"{BASE}?limit=100000")
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], len(body["results"])) == (105, 100)
    assert body["next"] is not None
    assert "limit=100" in body["next"]


def test_the_task_list_caps_its_page_size_too(staff_client):
    from dsr.tasks.models import Task

    system = SystemFactory(key="paper", connector="manual")
    requests = RequestFactory.create_batch(101, status=Status.IN_PROGRESS)
    jobs = ConnectorJob.objects.bulk_create(
        ConnectorJob(request=r, system=system, action="erase", status=JobStatus.WAITING) for r in requests
    )
    Task.objects.bulk_create(
        Task(
            job=job, request=job.request, system=system, kind="manual", action="erase", due_at=timezone.now()
        )
        for job in jobs
    )
    body = staff_client("agent").get("/api/v1/staff/tasks?limit=100000").json()
    assert (body["count"], len(body["results"])) == (101, 100)


def test_the_schema_states_the_page_size_cap_of_every_staff_list(api):
    import yaml

    schema = yaml.safe_load(api.get("/api/schema/").content)
    for path in ["/api/v1/staff/requests", "/api/v1/staff/tasks"]:
        (limit,) = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == "limit"]
        assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
        assert "at most 100; a larger value returns 100" in limit["description"]
        assert "at most 100" in limit["description"]


def test_the_detail_shows_jobs_and_the_package(staff_client, world):
    detail = staff_client("agent").get(f"{BASE}/{world.stuck.pk}").json()
    assert [(j["system"], j["status"], j["error"]) for j in detail["jobs"]] == [
        ({"key": "shop", "name": "System shop"}, "failed", "boom")
    ]
    assert detail["package"] is None
    package = staff_client("agent").get(f"{BASE}/{world.completed.pk}").json()["package"]
    assert set(package) == {"size", "sha256", "records", "created_at", "expires_at", "downloads"}
    assert (package["records"], package["downloads"]) == (0, 0)


# --- decisions ------------------------------------------------------------------------------------


def test_approving_moves_the_request_to_work_and_records_who_did_it(staff_client, world):
    response = staff_client("approver").post(f"{BASE}/{world.awaiting.pk}/approve")
    assert response.status_code == 200
    assert response.json() == {
        "id": str(world.awaiting.pk),
        "reference": world.awaiting.reference,
        "status": "in_progress",
    }
    event = AuditEvent.objects.get(request_id=world.awaiting.pk, action="request.approved")
    assert event.actor == "staff:approver-user"
    assert (event.data["from"], event.data["to"]) == ("awaiting_approval", "in_progress")
    assert DataSubjectRequest.objects.get(pk=world.awaiting.pk).approved_at is not None


def test_a_refused_transition_answers_409_with_a_readable_message_and_changes_nothing(staff_client, world):
    approver = staff_client("approver")
    before = db_snapshot()
    response = approver.post(f"{BASE}/{world.completed.pk}/approve")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "A request that is completed cannot become in progress.",
        "errors": {},
    }
    assert db_snapshot() == before


def test_denying_records_the_reason_and_the_message(staff_client, world):
    response = staff_client("approver").post(
        f"{BASE}/{world.awaiting.pk}/deny",
        {"reason": "excessive", "message": "  Fourth request this week.  "},
    )
    assert (response.status_code, response.json()["status"]) == (200, "denied")
    request = DataSubjectRequest.objects.get(pk=world.awaiting.pk)
    assert (request.deny_reason, request.deny_message) == ("excessive", "Fourth request this week.")
    assert request.closed_at is not None
    event = AuditEvent.objects.get(request_id=world.awaiting.pk, action="request.denied")
    assert event.data == {"from": "awaiting_approval", "to": "denied", "reason": "excessive"}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"reason": ["This field is required."], "message": ["This field is required."]}),
        ({"reason": "exempt"}, {"message": ["This field is required."]}),
        ({"reason": "exempt", "message": "   "}, {"message": ["This field may not be blank."]}),
        ({"reason": "nonsense", "message": "No."}, {"reason": ['"nonsense" is not a valid choice.']}),
    ],
    ids=["nothing", "no-message", "blank-message", "unknown-reason"],
)
def test_a_denial_without_a_known_reason_and_a_message_answers_400_and_changes_nothing(
    staff_client, world, body, errors
):
    approver = staff_client("approver")
    before = db_snapshot()
    response = approver.post(f"{BASE}/{world.awaiting.pk}/deny", body)
    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert db_snapshot() == before


def test_cancelling_closes_the_request_and_cancels_its_open_jobs(staff_client, world):
    job = world.failed_job
    ConnectorJob.objects.filter(pk=job.pk).update(status=JobStatus.PENDING)
    response = staff_client("agent").post(f"{BASE}/{world.stuck.pk}/cancel", {"note": "duplicate"})
    assert (response.status_code, response.json()["status"]) == (200, "cancelled")
    assert ConnectorJob.objects.get(pk=job.pk).status == JobStatus.CANCELLED
    event = AuditEvent.objects.get(request_id=world.stuck.pk, action="request.cancelled")
    assert (event.actor, event.data["has_note"]) == ("staff:agent-user", True)
    assert "duplicate" not in str(event.data)  # the note is on the request, encrypted
    assert staff_client("agent").get(f"{BASE}/{world.stuck.pk}").json()["cancel_note"] == "duplicate"


def test_cancelling_a_closed_request_answers_409(staff_client, world):
    response = staff_client("agent").post(f"{BASE}/{world.completed.pk}/cancel")
    assert response.status_code == 409
    assert response.json() == {"detail": "A request that is completed cannot become cancelled.", "errors": {}}


# --- jobs -----------------------------------------------------------------------------------------


def test_retrying_a_failed_job_puts_it_back_in_the_queue_and_resumes_the_request(staff_client, world):
    response = staff_client("agent").post(f"{BASE}/{world.stuck.pk}/jobs/{world.failed_job.pk}/retry")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["attempts"], body["error"]) == (
        world.failed_job.pk,
        "pending",
        0,
        "",
    )
    request = DataSubjectRequest.objects.get(pk=world.stuck.pk)
    assert (request.status, request.status_reason) == (Status.IN_PROGRESS, "")
    assert list(
        AuditEvent.objects.filter(request_id=world.stuck.pk).order_by("id").values_list("action", flat=True)
    ) == ["job.retried", "request.resumed"]


@pytest.mark.parametrize("job_status", [JobStatus.SUCCEEDED, JobStatus.PENDING, JobStatus.RUNNING])
def test_only_a_failed_job_can_be_retried(staff_client, world, job_status):
    ConnectorJob.objects.filter(pk=world.failed_job.pk).update(status=job_status)
    agent = staff_client("agent")
    before = db_snapshot()
    response = agent.post(f"{BASE}/{world.stuck.pk}/jobs/{world.failed_job.pk}/retry")
    assert response.status_code == 400
    assert response.json()["errors"] == {"job": ["Only a failed job can be retried."]}
    assert db_snapshot() == before


def test_a_job_of_another_request_answers_404(staff_client, world):
    agent = staff_client("agent")
    before = db_snapshot()
    response = agent.post(f"{BASE}/{world.awaiting.pk}/jobs/{world.failed_job.pk}/retry")
    assert response.status_code == 404
    assert db_snapshot() == before


# --- package and audit trail ----------------------------------------------------------------------


def test_downloading_the_package_returns_the_zip_counts_the_download_and_audits_it(staff_client, world):
    response = staff_client("agent").get(f"{BASE}/{world.completed.pk}/package")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{world.completed.reference}.zip"'
    assert response["Cache-Control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        assert {"README.txt", "data.json"} <= set(archive.namelist())
        assert archive.testzip() is None
    assert AccessPackage.objects.get(request=world.completed).downloads == 1
    event = AuditEvent.objects.get(request_id=world.completed.pk, action="package.downloaded")
    assert event.actor == "staff:agent-user"


def test_downloading_when_there_is_no_package_answers_404(staff_client, world):
    response = staff_client("agent").get(f"{BASE}/{world.awaiting.pk}/package")
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no package for this request.", "errors": {}}


def test_the_audit_trail_lists_the_requests_events_in_order(staff_client, world):
    approver = staff_client("approver")
    approver.post(f"{BASE}/{world.awaiting.pk}/approve")
    approver.post(f"{BASE}/{world.awaiting.pk}/cancel")
    trail = staff_client("viewer").get(f"{BASE}/{world.awaiting.pk}/audit").json()
    assert [(e["action"], e["actor"], e["data"]["to"]) for e in trail] == [
        ("request.approved", "staff:approver-user", "in_progress"),
        ("request.cancelled", "staff:approver-user", "cancelled"),
    ]
    assert trail[1]["prev_hash"] == trail[0]["hash"]
    assert set(trail[0]) == {"id", "created_at", "actor", "action", "data", "prev_hash", "hash"}


# --- list filters ---------------------------------------------------------------------------------


@pytest.fixture
def listed() -> dict[str, DataSubjectRequest]:
    now = timezone.now()
    return {
        "de_access": RequestFactory(email="Jane.Doe@example.com", status=Status.AWAITING_APPROVAL),
        "fr_erasure": RequestFactory(type=RequestType.ERASURE, jurisdiction="FR", status=Status.IN_PROGRESS),
        "ca_overdue": RequestFactory(
            jurisdiction="US-CA", regime="CCPA", status=Status.IN_PROGRESS, due_at=now - timedelta(days=1)
        ),
        "closed_late": RequestFactory(status=Status.COMPLETED, due_at=now - timedelta(days=2), closed_at=now),
    }


def _references(client: Any, query: str) -> set[str]:
    response = client.get(f"{BASE}?{query}")
    assert response.status_code == 200, response.json()
    return {row["reference"] for row in response.json()["results"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"de_access", "fr_erasure", "ca_overdue", "closed_late"}),
        ("status=in_progress", {"fr_erasure", "ca_overdue"}),
        ("type=erasure", {"fr_erasure"}),
        ("jurisdiction=US-CA", {"ca_overdue"}),
        ("overdue=true", {"ca_overdue"}),
        ("overdue=false", {"de_access", "fr_erasure", "closed_late"}),
        ("email=jane.doe@example.com", {"de_access"}),
        ("email=JANE.DOE@EXAMPLE.COM", {"de_access"}),
        ("email=jane.doe%2Bnews@example.com", set()),
        ("status=in_progress&jurisdiction=FR", {"fr_erasure"}),
    ],
)
def test_the_list_filters(staff_client, listed, query, expected):
    assert _references(staff_client("agent"), query) == {listed[name].reference for name in expected}


def test_a_viewer_cannot_search_by_e_mail_since_it_would_reveal_masked_identities(staff_client, listed):
    response = staff_client("viewer").get(f"{BASE}?email=jane.doe@example.com")
    assert response.status_code == 403
    assert response.json() == {"detail": "Your role cannot search by e-mail address.", "errors": {}}


def test_the_list_filters_by_reference_in_any_case(staff_client, listed):
    reference = listed["fr_erasure"].reference
    assert _references(staff_client("viewer"), f"reference={reference.lower()}") == {reference}


def test_the_list_is_ordered_by_due_date_and_counts_jobs(staff_client, listed):
    rows = staff_client("viewer").get(BASE).json()["results"]
    assert [row["reference"] for row in rows] == [
        listed[name].reference for name in ["closed_late", "ca_overdue", "de_access", "fr_erasure"]
    ]
    assert {(row["jobs_total"], row["jobs_done"]) for row in rows} == {(0, 0)}


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=nonsense", "status"), ("type=nonsense", "type"), ("email=not-an-address", "email")],
)
def test_an_invalid_filter_answers_400_naming_the_field(staff_client, listed, query, field):
    response = staff_client("agent").get(f"{BASE}?{query}")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


# --- creating staff -------------------------------------------------------------------------------


def test_create_staff_with_token_prints_a_token_that_works_with_the_role_it_names(api):
    out = io.StringIO()
    call_command("create_staff", "alice", "--role", "agent", "--token", stdout=out)
    match = re.fullmatch(
        r"alice \(agent\) token: ([0-9a-f]{64}) "
        r"\(shown only now; revoke with: manage.py tokens revoke ([0-9a-f]{15})\)\n",
        out.getvalue(),
    )
    assert match is not None, out.getvalue()
    assert match.group(1).startswith(match.group(2))
    api.credentials(HTTP_AUTHORIZATION=f"Token {match.group(1)}")
    assert api.get(BASE).status_code == 200
    assert api.post(f"{BASE}/{uuid.uuid4()}/approve").status_code == 403


def test_create_staff_issues_no_token_unless_asked_and_changes_the_role_when_run_again():
    first, second = io.StringIO(), io.StringIO()
    call_command("create_staff", "alice", "--role", "viewer", stdout=first)
    call_command("create_staff", "alice", "--role", "approver", stdout=second)
    assert (first.getvalue(), second.getvalue()) == ("alice (viewer)\n", "alice (approver)\n")
    assert AuthToken.objects.count() == 0
    assert list(
        AuditEvent.objects.filter(action="staff.saved").values_list("data__role", "data__created")
    ) == [("viewer", True), ("approver", False)]


def test_a_token_is_stored_only_as_a_hash():
    out = io.StringIO()
    call_command("create_staff", "alice", "--role", "agent", "--token", stdout=out)
    token = out.getvalue().split("token: ")[1].split()[0]
    (row,) = AuthToken.objects.values_list("digest", "token_key")
    assert token not in row
    assert row[1] == token[:15]
    assert AuditEvent.objects.filter(action="staff.token_created").count() == 1
    assert token not in str(list(AuditEvent.objects.values_list("data", flat=True)))


def test_an_expired_token_is_refused_with_401(api, settings):
    _, token = staff_create(username="old", role="admin", token=True)
    AuthToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api.get(BASE)
    assert (response.status_code, response.json()) == (401, {"detail": "Invalid token.", "errors": {}})


def test_a_token_expires_after_the_configured_days(settings):
    settings.DSR_API_TOKEN_TTL_DAYS = 7
    before = timezone.now()
    staff_create(username="alice", role="agent", token=True)
    (expiry,) = AuthToken.objects.values_list("expiry", flat=True)
    assert before + timedelta(days=7) <= expiry <= timezone.now() + timedelta(days=7)


def test_tokens_list_shows_prefixes_and_revoke_ends_a_token(api):
    _, token = staff_create(username="alice", role="agent", token=True)
    staff_create(username="bob", role="viewer", token=True)
    listing = io.StringIO()
    call_command("tokens", "list", stdout=listing)
    lines = listing.getvalue().splitlines()
    assert len(lines) == 2
    assert token not in listing.getvalue()
    assert any(line.startswith(f"{token[:15]}  alice  issued ") for line in lines)
    out = io.StringIO()
    call_command("tokens", "revoke", token[:15], stdout=out)
    assert out.getvalue() == f"revoked {token[:15]}\n"
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(BASE).status_code == 401
    assert AuditEvent.objects.filter(action="staff.token_revoked").count() == 1
    with pytest.raises(CommandError, match="no token"):
        call_command("tokens", "revoke", token[:15])


def test_create_staff_refuses_an_unknown_role():
    with pytest.raises(CommandError, match="invalid choice: 'owner'"):
        call_command("create_staff", "alice", "--role", "owner")


@pytest.mark.parametrize("status", [Status.PENDING_VERIFICATION, Status.ACTION_REQUIRED])
def test_only_a_request_awaiting_approval_can_be_approved(staff_client, status):
    """Approving must not skip identity verification, nor resume a stuck request without a retry."""
    request = RequestFactory(status=status)
    approver = staff_client("approver")
    before = db_snapshot()
    response = approver.post(f"{BASE}/{request.pk}/approve")
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"A request that is {Status(status).label.lower()} cannot become in progress.",
        "errors": {},
    }
    assert db_snapshot() == before


def test_an_inactive_staff_users_token_is_refused_with_401(api, world):
    _, token = staff_create(username="gone", role="admin", token=True)
    User.objects.filter(username="gone").update(is_active=False)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api.get(BASE)
    assert response.status_code == 401
    assert response.json() == {"detail": "User inactive or deleted.", "errors": {}}


def test_a_user_without_a_staff_role_is_refused_with_403(api, world):
    user = User.objects.create_user(username="outsider")
    api.force_authenticate(user)
    before = db_snapshot()
    assert api.get(BASE).status_code == 403
    assert api.post(f"{BASE}/{world.awaiting.pk}/approve").status_code == 403
    assert db_snapshot() == before
