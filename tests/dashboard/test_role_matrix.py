"""The role matrix: every dashboard URL and every staff API endpoint the dashboard added, against
every role and anonymous. Allowed calls do their work; denied calls change nothing at all."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from knox.models import AuthToken

from dsr.audit.models import AuditEvent
from dsr.dashboard.models import SystemCheck
from dsr.exports.models import AccessPackage
from dsr.exports.package import package_build
from dsr.staff.models import StaffProfile, StaffTOTPDevice
from dsr.systems.models import System
from dsr.tasks.models import Task, TaskKind, TaskStatus
from dsr.workflow.models import (
    Assignment,
    ConnectorJob,
    DataSubjectRequest,
    JobStatus,
    Note,
    RequestType,
    Status,
)
from tests.dashboard.conftest import make_staff, sign_in_verified
from tests.factories import RequestFactory, SystemFactory
from tests.support.personas import ADMIN, DECIDERS, EVERYONE, PERSONAS, WORKERS, db_snapshot

pytestmark = pytest.mark.django_db

# Signed in with the password only (no second factor), as the Django admin's login used to leave it.
HALF = ["half-viewer", "half-admin"]


@dataclass
class World:
    awaiting: DataSubjectRequest
    stuck: DataSubjectRequest
    failed_job: ConnectorJob
    completed: DataSubjectRequest
    task: Task
    system: System
    colleague: Any  # another staff member: an assignee, a target for role changes


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
    task = Task.objects.create(
        request=awaiting,
        kind=TaskKind.ADHOC,
        title="Ask the call centre",
        created_by="staff:someone",
        due_at=awaiting.due_at,
    )
    colleague = make_staff("agent", username="colleague", email="colleague@example.com")
    return World(awaiting, stuck, failed_job, completed, task, system, colleague)


@dataclass(frozen=True)
class Page:
    name: str
    method: str
    allowed: frozenset[str]

    def url_and_body(self, w: World) -> tuple[str, dict[str, Any] | None]:
        a, s = w.awaiting.pk, w.stuck.pk
        return {
            "queue": ("/dashboard/", None),
            "export": ("/dashboard/export.csv", None),
            "bulk-approve": ("/dashboard/bulk/", {"action": "approve", "ids": [str(a)]}),
            "bulk-deny": (
                "/dashboard/bulk/",
                {"action": "deny", "ids": [str(a)], "reason": "exempt", "message": "An exemption applies."},
            ),
            "bulk-assign": (
                "/dashboard/bulk/",
                {"action": "assign", "ids": [str(a)], "assignee": "colleague"},
            ),
            "detail": (f"/dashboard/requests/{a}/", None),
            "approve": (f"/dashboard/requests/{a}/approve/", {}),
            "deny": (
                f"/dashboard/requests/{a}/deny/",
                {"reason": "exempt", "message": "An exemption applies."},
            ),
            "cancel": (f"/dashboard/requests/{a}/cancel/", {"note": "withdrawn by phone"}),
            "extend": (f"/dashboard/requests/{a}/extend/", {"reason": "Twelve systems hold data."}),
            "assign": (f"/dashboard/requests/{a}/assign/", {"assignee": "colleague"}),
            "note": (f"/dashboard/requests/{a}/notes/", {"body": "Called the person."}),
            "task-add": (f"/dashboard/requests/{a}/tasks/", {"title": "Check the paper archive"}),
            "task-done": (f"/dashboard/requests/{a}/tasks/{w.task.pk}/done/", {"outcome": "Deleted."}),
            "retry": (f"/dashboard/requests/{s}/jobs/{w.failed_job.pk}/retry/", {}),
            "reveal": (f"/dashboard/requests/{a}/reveal/", {}),
            "package": (f"/dashboard/requests/{w.completed.pk}/package/", None),
            "systems": ("/dashboard/systems/", None),
            "system-check": ("/dashboard/systems/shop/check/", {}),
            "system-toggle": ("/dashboard/systems/shop/enabled/", {"enabled": "0"}),
            "reports": ("/dashboard/reports/", None),
            "ccpa-csv": ("/dashboard/reports/ccpa.csv?year=2026", None),
            "ccpa-html": ("/dashboard/reports/ccpa.html?year=2026", None),
            "audit": ("/dashboard/audit/", None),
            "audit-verify": ("/dashboard/audit/verify/", {}),
            "staff": ("/dashboard/staff/", None),
            "staff-create": (
                "/dashboard/staff/new/",
                {"username": "newbie", "email": "", "role": "viewer", "password": "a long enough passphrase"},
            ),
            "staff-role": (f"/dashboard/staff/{w.colleague.pk}/role/", {"role": "approver"}),
            "staff-reset-2fa": (f"/dashboard/staff/{w.colleague.pk}/reset-2fa/", {}),
            "settings": ("/dashboard/settings/", None),
            "account": ("/dashboard/account/", None),
            "password": (
                "/dashboard/account/password/",
                {
                    "old_password": "correct horse battery staple",
                    "new_password1": "a brand new passphrase 42",
                    "new_password2": "a brand new passphrase 42",
                },
            ),
            "token-create": ("/dashboard/account/tokens/", {}),
            "backup-codes": ("/dashboard/account/backup-codes/", {}),
            "jobs-json": (f"/dashboard/requests/{s}/jobs.json", None),
            "preferences": ("/dashboard/preferences/", None),
            "preferences-save": ("/dashboard/preferences/", {"time_zone": "Europe/Paris"}),
        }[self.name]


PAGES = [
    Page("queue", "GET", EVERYONE),
    Page("export", "GET", EVERYONE),
    Page("bulk-approve", "POST", DECIDERS),
    Page("bulk-deny", "POST", DECIDERS),
    Page("bulk-assign", "POST", WORKERS),
    Page("detail", "GET", EVERYONE),
    Page("approve", "POST", DECIDERS),
    Page("deny", "POST", DECIDERS),
    Page("cancel", "POST", WORKERS),
    Page("extend", "POST", DECIDERS),
    Page("assign", "POST", WORKERS),
    Page("note", "POST", WORKERS),
    Page("task-add", "POST", WORKERS),
    Page("task-done", "POST", WORKERS),
    Page("retry", "POST", WORKERS),
    Page("reveal", "POST", WORKERS),
    Page("package", "GET", WORKERS),
    Page("systems", "GET", EVERYONE),
    Page("system-check", "POST", WORKERS),
    Page("system-toggle", "POST", ADMIN),
    Page("reports", "GET", EVERYONE),
    Page("ccpa-csv", "GET", EVERYONE),
    Page("ccpa-html", "GET", EVERYONE),
    Page("audit", "GET", EVERYONE),
    Page("audit-verify", "POST", DECIDERS),
    Page("staff", "GET", ADMIN),
    Page("settings", "GET", ADMIN),
    Page("jobs-json", "GET", EVERYONE),
    Page("preferences", "GET", EVERYONE),
    Page("preferences-save", "POST", EVERYONE),
    Page("staff-role", "POST", ADMIN),
    Page("staff-reset-2fa", "POST", ADMIN),
    Page("settings", "GET", ADMIN),
    Page("account", "GET", EVERYONE),
    Page("password", "POST", EVERYONE),
    Page("token-create", "POST", EVERYONE),
    Page("backup-codes", "POST", EVERYONE),
]


def _status(request: DataSubjectRequest) -> str:
    return DataSubjectRequest.objects.get(pk=request.pk).status


def _check_allowed_page(page: Page, response: Any, w: World) -> None:
    """What each allowed call must have done."""
    name = page.name
    redirected = {
        "bulk-approve", "bulk-deny", "bulk-assign", "approve", "deny", "cancel", "extend", "assign", "note",
        "task-add", "task-done", "retry", "system-check", "system-toggle", "staff-create", "staff-role",
        "staff-reset-2fa", "password", "token-create", "preferences-save",
    }  # fmt: skip
    assert response.status_code == (302 if name in redirected else 200)
    if name == "queue":
        assert response.content.decode().count('name="ids"') == 3
    elif name == "export":
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert [r[0] for r in rows[1:]] == sorted(
            [w.awaiting.reference, w.stuck.reference, w.completed.reference],
            key=lambda ref: DataSubjectRequest.objects.get(reference=ref).due_at,
        )
        assert AuditEvent.objects.filter(action="requests.exported").count() == 1
    elif name in ("bulk-approve", "approve"):
        assert _status(w.awaiting) == Status.IN_PROGRESS
    elif name in ("bulk-deny", "deny"):
        assert _status(w.awaiting) == Status.DENIED
        assert DataSubjectRequest.objects.get(pk=w.awaiting.pk).deny_reason == "exempt"
    elif name in ("bulk-assign", "assign"):
        assert Assignment.objects.get(request=w.awaiting).assignee == w.colleague
    elif name == "detail":
        assert w.awaiting.reference in response.content.decode()
    elif name == "cancel":
        assert _status(w.awaiting) == Status.CANCELLED
    elif name == "extend":
        extended = DataSubjectRequest.objects.get(pk=w.awaiting.pk)
        assert (extended.extension_reason, extended.extended_at is not None) == (
            "Twelve systems hold data.",
            True,
        )
    elif name == "note":
        assert list(Note.objects.values_list("body", flat=True)) == ["Called the person."]
    elif name == "task-add":
        assert list(Task.objects.order_by("pk").values_list("title", flat=True)) == [
            "Ask the call centre",
            "Check the paper archive",
        ]
    elif name == "task-done":
        assert Task.objects.get(pk=w.task.pk).status == TaskStatus.COMPLETED
    elif name == "retry":
        assert ConnectorJob.objects.get(pk=w.failed_job.pk).status == JobStatus.PENDING
        assert _status(w.stuck) == Status.IN_PROGRESS
    elif name == "reveal":
        assert "jane.doe@example.com" in response.content.decode()
        assert (
            AuditEvent.objects.filter(action="request.identity_revealed", request_id=w.awaiting.pk).count()
            == 1
        )
    elif name == "package":
        assert response["Content-Type"] == "application/zip"
        assert AccessPackage.objects.get(request=w.completed).downloads == 1
    elif name == "systems":
        assert "System shop" in response.content.decode()
    elif name == "system-check":
        assert SystemCheck.objects.get(system=w.system).ok is False  # an empty SQL config cannot connect
    elif name == "system-toggle":
        assert System.objects.get(pk=w.system.pk).enabled is False
    elif name == "reports":
        assert "11 CCR §7102" in response.content.decode()
    elif name == "ccpa-csv":
        assert response.content.decode().splitlines()[0].startswith("year,request_type,received,")
    elif name == "ccpa-html":
        assert response.content.decode().startswith('<table class="ccpa-metrics">')
    elif name == "audit":
        assert "staff.saved" in response.content.decode()
    elif name == "audit-verify":
        assert "The chain is intact" in response.content.decode()
    elif name == "staff":
        assert "colleague" in response.content.decode()
    elif name == "staff-create":
        assert StaffProfile.objects.get(user__username="newbie").role == "viewer"
    elif name == "staff-role":
        assert StaffProfile.objects.get(user=w.colleague).role == "approver"
    elif name == "staff-reset-2fa":
        assert not StaffTOTPDevice.objects.filter(user=w.colleague).exists()
    elif name == "settings":
        assert "DSR_DUE_SOON_DAYS" in response.content.decode()
    elif name == "account":
        assert "You have no API tokens." in response.content.decode()
    elif name == "password":
        assert response["Location"] == "/dashboard/account/"
        user = response.wsgi_request.user
        assert get_user_model().objects.get(pk=user.pk).check_password("a brand new passphrase 42")
    elif name == "token-create":
        assert AuthToken.objects.filter(user=response.wsgi_request.user).count() == 1
        assert response["Location"] == "/dashboard/account/"
    elif name == "backup-codes":
        assert StaticToken.objects.filter(device__user=response.wsgi_request.user).count() == 10
    elif name == "jobs-json":
        assert response.json()["jobs"][0]["status"] == "failed"
    elif name == "preferences":
        assert "Show times in" in response.content.decode()
    elif name == "preferences-save":
        assert StaffProfile.objects.filter(time_zone="Europe/Paris").count() == 1


def _half_signed_in(persona: str) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(make_staff(persona.removeprefix("half-")))
    return client


@pytest.mark.parametrize("persona", PERSONAS + HALF)
@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_dashboard_role_matrix_allowed_calls_work_and_denied_calls_change_nothing(
    page, persona, world, dashboard_client
):
    client = _half_signed_in(persona) if persona.startswith("half-") else dashboard_client(persona)
    url, body = page.url_and_body(world)
    before = db_snapshot()
    response = client.get(url) if page.method == "GET" else client.post(url, body)
    if persona in page.allowed:
        _check_allowed_page(page, response, world)
        return
    if persona == "anonymous" or persona.startswith("half-"):
        assert response.status_code == 302
        assert response["Location"].startswith("/dashboard/login/?next=")
    else:
        assert response.status_code == 403
        assert "Your role does not allow this." in response.content.decode()
    assert db_snapshot() == before


# --- the staff API endpoints added with the dashboard -------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    allowed: frozenset[str]


ENDPOINTS = [
    Endpoint("extend", "POST", DECIDERS),
    Endpoint("assign", "POST", WORKERS),
    Endpoint("notes", "GET", EVERYONE),
    Endpoint("note-add", "POST", WORKERS),
]


def _call_api(endpoint: Endpoint, client: Any, w: World) -> Any:
    base = f"/api/v1/staff/requests/{w.awaiting.pk}"
    url, body = {
        "extend": (f"{base}/extend", {"reason": "Twelve systems hold data."}),
        "assign": (f"{base}/assign", {"assignee": "colleague"}),
        "notes": (f"{base}/notes", None),
        "note-add": (f"{base}/notes", {"body": "Called the person."}),
    }[endpoint.name]
    return client.get(url) if endpoint.method == "GET" else client.post(url, body)


def _api_caller(persona: str, how: str, api: Any, staff_client: Any) -> Any:
    """The staff API's callers: a token, a session that passed 2FA, a password-only session."""
    from rest_framework.test import APIClient

    if persona == "anonymous":
        return api
    if how == "token":
        return staff_client(persona)
    client = APIClient()
    user = make_staff(persona)
    if how == "session":
        return sign_in_verified(client, user)
    client.force_login(user)  # "half": password only
    return client


@pytest.mark.parametrize("how", ["token", "session", "half"])
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_api_role_matrix_allowed_calls_work_and_denied_calls_change_nothing(
    endpoint, persona, how, world, api, staff_client
):
    client = _api_caller(persona, how, api, staff_client)
    before = db_snapshot()
    response = _call_api(endpoint, client, world)
    if how == "half" and persona != "anonymous":
        # A password-only session is no caller: the answer is that of an anonymous one.
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentication credentials were not provided.", "errors": {}}
        assert db_snapshot() == before
        return
    if persona in endpoint.allowed:
        if endpoint.name == "extend":
            assert response.status_code == 200, response.json()
            assert response.json()["extension_reason"] == "Twelve systems hold data."
        elif endpoint.name == "assign":
            assert response.status_code == 200
            assert response.json() == {"reference": world.awaiting.reference, "assignee": "colleague"}
        elif endpoint.name == "notes":
            assert response.status_code == 200
            assert response.json() == []
        else:
            assert response.status_code == 201
            assert response.json()["body"] == "Called the person."
        return
    if persona == "anonymous":
        assert response.status_code == 401
    else:
        assert response.status_code == 403
        assert response.json() == {"detail": "Your role does not allow this.", "errors": {}}
    assert db_snapshot() == before
