"""Dashboard intake and troubleshooting pages: the CSV import (dry run, then import), test
requests with their TEST badge, and the diagnostics bundle (also through the staff API)."""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dsr.audit.models import AuditEvent
from dsr.workflow.models import ConnectorJob, DataSubjectRequest, JobStatus, Status
from tests.factories import RequestFactory, SystemFactory
from tests.support.smtp import SmtpListener

pytestmark = pytest.mark.django_db

CSV = (
    "type,email,jurisdiction,received_at,external_id,name,verified\n"
    "erasure,ana@example.com,US-CA,2026-11-02,ZD-1,Ana Ruiz,\n"
    "access,ben@example.com,DE,2026-11-20,ZD-2,,\n"
)


def upload(client, text: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/dashboard/import/",
        {"step": "check", "file": SimpleUploadedFile("backlog.csv", text.encode(), content_type="text/csv")},
    )


def payload_of(html: str) -> str:
    match = re.search(r'name="payload" value="([^"]+)"', html)
    assert match, "no import button"
    return match.group(1)


# --- import ---------------------------------------------------------------------------------------


def test_the_import_page_checks_the_file_first_then_imports_what_the_dry_run_showed(
    dashboard_client, smtp: SmtpListener, django_capture_on_commit_callbacks
) -> None:
    client = dashboard_client("approver")
    checked = upload(client, CSV)
    html = checked.content.decode()
    assert checked.status_code == 200
    assert "Dry run: what the import would do" in html
    assert "2 to create, 0 already imported (skipped)." in html
    assert html.count("would be created") == 2
    assert "ana@example.com" not in html  # the result table shows no identity
    assert not DataSubjectRequest.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        imported = client.post("/dashboard/import/", {"step": "import", "payload": payload_of(html)})
    assert imported.status_code == 200
    assert "2 requests imported, 0 already imported before." in imported.content.decode()
    assert sorted(DataSubjectRequest.objects.values_list("external_id", flat=True)) == ["ZD-1", "ZD-2"]
    assert {r.status for r in DataSubjectRequest.objects.all()} == {Status.PENDING_VERIFICATION}
    assert len(smtp.messages) == 2  # verification codes, as for any request
    event = AuditEvent.objects.get(action="requests.imported")
    assert (event.actor, event.data["created"], event.data["source"]) == (
        "staff:approver-user",
        2,
        "dashboard",
    )

    again = upload(client, CSV).content.decode()
    assert "0 to create, 2 already imported (skipped)." in again
    assert 'name="payload"' not in again  # nothing to import


def test_every_invalid_row_is_listed_and_nothing_is_imported(dashboard_client) -> None:
    client = dashboard_client("approver")
    text = CSV + "access,carla@,DE,2026-11-20,ZD-3,,\nerasure,dan@example.com,DE,2026-11-21,ZD-4,,yes\n"
    response = upload(client, text)
    html = response.content.decode()
    assert response.status_code == 400
    assert "2 problems found: nothing was imported" in html
    rows = re.findall(
        r'<tr><td class="num">(\d+)</td><td><code>([^<]+)</code></td><td>([^<]+)</td></tr>', html
    )
    assert rows == [
        ("4", "email", "Enter a valid e-mail address."),
        ("5", "verified", "Only an administrator may import requests as already verified."),
    ]
    assert 'name="payload"' not in html
    assert not DataSubjectRequest.objects.exists()


def test_an_admin_may_import_rows_as_verified_and_each_is_audited(
    dashboard_client, django_capture_on_commit_callbacks
) -> None:
    client = dashboard_client("admin")
    html = upload(client, CSV.replace("Ana Ruiz,\n", "Ana Ruiz,yes\n")).content.decode()
    assert html.count('<span class="badge ok">verified</span>') == 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/dashboard/import/", {"step": "import", "payload": payload_of(html)})
    ana = DataSubjectRequest.objects.get(external_id="ZD-1")
    assert ana.status == Status.AWAITING_APPROVAL
    event = AuditEvent.objects.get(action="request.verified_by_staff")
    assert (event.request_id, event.actor) == (ana.pk, "staff:admin-user")


def test_a_payload_that_was_not_produced_by_a_dry_run_imports_nothing(dashboard_client) -> None:
    client = dashboard_client("admin")
    response = client.post("/dashboard/import/", {"step": "import", "payload": "forged"}, follow=True)
    assert "Check the file again (dry run) before importing it." in response.content.decode()
    assert not DataSubjectRequest.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_viewers_and_agents_cannot_import_or_start_test_requests(dashboard_client, role: str) -> None:
    client = dashboard_client(role)
    assert client.get("/dashboard/import/").status_code == 403
    assert upload(client, CSV).status_code == 403
    started = client.post(
        "/dashboard/test-requests/", {"type": "access", "email": "t@example.com", "jurisdiction": "DE"}
    )
    assert started.status_code == 403
    assert "/dashboard/import/" not in client.get("/dashboard/").content.decode()
    assert not DataSubjectRequest.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(dashboard_client) -> None:
    response = dashboard_client("anonymous").get("/dashboard/import/")
    assert response.status_code == 302
    assert response["Location"].startswith("/dashboard/login/")


# --- test requests --------------------------------------------------------------------------------


def test_the_queue_and_the_request_page_mark_a_test_request(dashboard_client) -> None:
    real = RequestFactory(reference="DSR-REAL-0001")
    test = RequestFactory(reference="DSR-TEST-0001", is_test=True)
    client = dashboard_client("viewer")
    queue = client.get("/dashboard/").content.decode()
    row_of = {ref: queue.split(ref, 1)[1].split("</tr>", 1)[0] for ref in (real.reference, test.reference)}
    assert '<span class="badge test"' in row_of[test.reference]
    assert "TEST" not in row_of[real.reference]
    page = client.get(f"/dashboard/requests/{test.pk}/").content.decode()
    assert 'id="test-badge">TEST</span>' in page
    assert 'id="test-badge"' not in client.get(f"/dashboard/requests/{real.pk}/").content.decode()


def test_a_test_request_started_on_the_dashboard_waits_for_approval_and_sends_no_code(
    dashboard_client, smtp: SmtpListener, django_capture_on_commit_callbacks
) -> None:
    client = dashboard_client("admin")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/dashboard/test-requests/",
            {"type": "access", "email": "tester@example.com", "jurisdiction": "DE"},
        )
    request = DataSubjectRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/dashboard/requests/{request.pk}/"
    assert (request.is_test, request.status, request.channel) == (True, Status.AWAITING_APPROVAL, "staff")
    assert smtp.messages == []
    received = AuditEvent.objects.get(request_id=request.pk, action="request.received")
    assert (received.actor, received.data["test"]) == ("staff:admin-user", True)


# --- diagnostics ----------------------------------------------------------------------------------

SECRET = "pat-na1-SECRET-7c1f0e9d2b"
EMAIL = "Jane.Person@Example.org"


@pytest.fixture
def troubled_request() -> DataSubjectRequest:
    """A request whose job failed with an error that leaked the person's address and the token."""
    system = SystemFactory(
        key="crm",
        name="CRM",
        connector="hubspot",
        config={"base_url": "https://api.hubapi.com"},
        secrets=json.dumps({"access_token": SECRET}),
    )
    request = RequestFactory(
        type="erasure",
        status=Status.ACTION_REQUIRED,
        email=EMAIL.lower(),
        full_name="Jane Person",
        phone="+4915112345678",
        status_reason=f"CRM: 401 for {EMAIL} with Bearer {SECRET}",
    )
    now = timezone.now()
    ConnectorJob.objects.create(
        request=request,
        system=system,
        action="erase",
        status=JobStatus.FAILED,
        attempts=6,
        started_at=now,
        finished_at=now,
        error=f"gave up after 6 attempts: 401 Unauthorized for {EMAIL} (token {SECRET}) "
        f"via https://user:hunter2@proxy.example.net/",
        detail={"notes": "contact jane.person@example.org, also other@example.net"},
    )
    from dsr.audit.services import audit_record

    audit_record(
        actor="worker",
        action="job.failed",
        request_id=request.pk,
        data={"job": 1, "system": "crm", "error": f"401 for {EMAIL}", "note": "Jane Person called"},
    )
    return request


def assert_no_identity_or_secret(body: bytes) -> None:
    lowered = body.lower()
    for value in (
        EMAIL,
        "jane.person",
        "Jane Person",
        "Person",
        "+4915112345678",
        SECRET,
        "hunter2",
        "other@example.net",
    ):
        assert value.lower().encode() not in lowered, value


def test_the_dashboard_bundle_explains_the_failure_without_identity_or_secrets(
    dashboard_client, troubled_request
) -> None:
    client = dashboard_client("viewer")
    page = client.get(f"/dashboard/requests/{troubled_request.pk}/").content.decode()
    assert f'href="/dashboard/requests/{troubled_request.pk}/diagnostics.json"' in page
    response = client.get(f"/dashboard/requests/{troubled_request.pk}/diagnostics.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="diagnostics-{troubled_request.reference}.json"'
    )
    assert_no_identity_or_secret(response.content)

    bundle = json.loads(response.content)
    assert bundle["request"]["reference"] == troubled_request.reference
    assert bundle["request"]["status"] == "action_required"
    assert bundle["request"]["status_reason"] == "CRM: 401 for [redacted] with Bearer [redacted]"
    [job] = bundle["jobs"]
    assert (job["system"], job["connector"], job["status"], job["attempts"]) == (
        "crm",
        "hubspot",
        "failed",
        6,
    )
    assert job["connector_class"] == "connectors.hubspot.connector.HubSpotConnector"
    assert job["connector_version"].startswith("built-in ")
    assert job["config_fields"] == ["base_url"]
    assert job["error"] == (
        "gave up after 6 attempts: 401 Unauthorized for [redacted] (token [redacted]) via https://***@proxy.example.net/"
    )
    assert job["detail"] == {"notes": "contact [redacted], also [email]"}
    assert bundle["settings"]["DSR_JOB_MAX_ATTEMPTS"] == 6
    assert bundle["app"]["version"]
    assert bundle["app"]["django"].startswith("5.2")
    failed = [e for e in bundle["events"] if e["action"] == "job.failed"]
    assert failed == [
        {
            "at": failed[0]["at"],
            "action": "job.failed",
            "actor": "worker",
            "data": {"job": 1, "system": "crm", "error": "401 for [redacted]"},
        }
    ]
    assert (
        AuditEvent.objects.filter(
            request_id=troubled_request.pk, action="request.diagnostics_exported"
        ).count()
        == 1
    )


def test_the_staff_api_serves_the_same_scrubbed_bundle(staff_client, troubled_request) -> None:
    response = staff_client("agent").get(f"/api/v1/staff/requests/{troubled_request.pk}/diagnostics")
    assert response.status_code == 200
    assert_no_identity_or_secret(response.content)
    assert json.loads(response.content)["jobs"][0]["status"] == "failed"


def test_the_bundle_needs_a_staff_member_and_an_existing_request(api, staff_client, troubled_request) -> None:
    assert api.get(f"/api/v1/staff/requests/{troubled_request.pk}/diagnostics").status_code in (401, 403)
    missing = staff_client("viewer").get(
        "/api/v1/staff/requests/00000000-0000-0000-0000-000000000000/diagnostics"
    )
    assert missing.status_code == 404
    assert not AuditEvent.objects.filter(action="request.diagnostics_exported").exists()


# --- the role matrix of these pages and endpoints --------------------------------------------------

EVERYONE = {"viewer", "agent", "approver", "admin"}
DECIDERS = {"approver", "admin"}
MATRIX = [
    ("dashboard", "GET", "/dashboard/import/", None, DECIDERS),
    ("dashboard", "POST", "/dashboard/import/", "upload", DECIDERS),
    ("dashboard", "POST", "/dashboard/test-requests/", "test", DECIDERS),
    ("dashboard", "GET", "/dashboard/requests/{id}/diagnostics.json", None, EVERYONE),
    ("api", "POST", "/api/v1/staff/test-requests", "test", DECIDERS),
    ("api", "GET", "/api/v1/staff/requests/{id}/diagnostics", None, EVERYONE),
]


@pytest.mark.parametrize("persona", ["anonymous", "viewer", "agent", "approver", "admin"])
@pytest.mark.parametrize(
    ("face", "method", "path", "body", "allowed"), MATRIX, ids=[f"{m[1]} {m[2]}" for m in MATRIX]
)
def test_role_matrix_allowed_calls_work_and_denied_calls_change_nothing(
    dashboard_client, api, staff_client, persona, face, method, path, body, allowed
) -> None:
    existing = RequestFactory()
    url = path.format(id=existing.pk)
    if face == "dashboard":
        client = dashboard_client(persona)
    else:
        client = api if persona == "anonymous" else staff_client(persona)
    data: dict | None = None
    if body == "upload":
        data = {"step": "check", "file": SimpleUploadedFile("b.csv", CSV.encode(), content_type="text/csv")}
    elif body == "test":
        data = {"type": "access", "email": "tester@example.com", "jurisdiction": "DE"}
    requests_before, events_before = DataSubjectRequest.objects.count(), AuditEvent.objects.count()
    response = client.get(url) if method == "GET" else client.post(url, data)
    if persona in allowed:
        assert response.status_code in (200, 201, 302), response.content[:300]
        if body == "test":
            assert DataSubjectRequest.objects.filter(is_test=True).count() == 1
        return
    if persona == "anonymous" and face == "dashboard":
        assert response.status_code == 302
        assert response["Location"].startswith("/dashboard/login/")
    elif persona == "anonymous":
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == 403
    assert (DataSubjectRequest.objects.count(), AuditEvent.objects.count()) == (
        requests_before,
        events_before,
    )
