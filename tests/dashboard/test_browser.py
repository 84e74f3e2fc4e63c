"""The privacy team works the dashboard in headless Chromium: sign in with a password and a TOTP
code, work the queue, approve, deny, extend, retry a failed system, check system health, read the
reports and verify the audit chain. Every page is checked with axe-core (no serious or critical
violation) and saved as a screenshot under artifacts/screenshots/dashboard-*.png.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from django.utils import timezone
from playwright.sync_api import expect

from connectors.sql.sample import create_sample_schema, sample_config, seed_sample
from dsr.identity.blind_index import email_blind_index
from dsr.staff import twofactor as totp
from dsr.staff.models import StaffTOTPDevice as TotpDevice
from dsr.systems.models import System
from dsr.workflow import deadlines
from dsr.workflow.models import ConnectorJob, DataSubjectRequest, JobStatus, Status
from tests.dashboard.conftest import PASSWORD, make_staff
from tests.support.axe import check_page

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself are
# still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def text(locator: Any) -> str:
    return " ".join(locator.inner_text().split())


def make_request(
    *, email: str, type: str = "access", jurisdiction: str = "DE", status: str = Status.AWAITING_APPROVAL,
    received_days_ago: float = 3, closed_days_after: float | None = None, deny_reason: str = "",
) -> DataSubjectRequest:  # fmt: skip
    """A request with the real schedule of its jurisdiction (due date and its explanation)."""
    received = timezone.now() - timedelta(days=received_days_ago)
    schedule = deadlines.schedule_for(jurisdiction=jurisdiction, request_type=type, received_at=received)
    return DataSubjectRequest.objects.create(
        type=type,
        jurisdiction=jurisdiction,
        regime=deadlines.regime_for(jurisdiction).code,
        status=status,
        email=email,
        email_index=email_blind_index(email),
        full_name="Jane Doe" if email.startswith("jane") else "",
        received_at=received,
        due_at=schedule.respond.due_at,
        due_explanation=schedule.respond.explanation,
        verified_at=received,
        closed_at=received + timedelta(days=closed_days_after) if closed_days_after is not None else None,
        deny_reason=deny_reason,
        deny_message="See the reasons." if deny_reason else "",
    )


@pytest.fixture
def warehouse(tmp_path: Path) -> System:
    """A real SQLite warehouse with the sample customers, as the system `warehouse`."""
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite3'}"
    engine = sa.create_engine(url)
    create_sample_schema(engine)
    seed_sample(engine, extra_customers=5)
    engine.dispose()
    system = System.objects.create(
        key="warehouse", name="Marketing warehouse", connector="sql", config=sample_config(url)
    )
    facts = {
        "vendor": "In-house",
        "region": "eu-central-1 (Frankfurt)",
        "retention": "36 months after the last order",
        "recipients": [{"name": "Parcel Co", "country": "US", "safeguard": "Standard contractual clauses"}],
    }
    System.objects.filter(pk=system.pk).update(**{k: v for k, v in facts.items() if hasattr(system, k)})
    return system


def sign_in(page: Any, base: str, user: Any, *, shot: str | None = None) -> None:
    page.goto(base + "/dashboard/")
    assert page.locator("h1").inner_text() == "Sign in"
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    if shot:
        check_page(page, shot)
    page.get_by_role("button", name="Continue").click()
    assert page.locator("h1").inner_text() == "Two-factor authentication"
    if shot:
        check_page(page, shot + "-code")
    secret = TotpDevice.objects.get(user=user).secret
    page.get_by_label("6-digit code from your authenticator app, or a backup code").fill(
        totp.code_at(secret, time.time())
    )
    page.get_by_role("button", name="Sign in").click()
    assert page.locator("h1").inner_text() == "Request queue"


def test_an_approver_works_the_queue_filters_searches_and_assigns_in_bulk(
    live_server: Any, page: Any
) -> None:
    approver = make_staff("approver")
    make_staff("agent", username="alice")
    overdue = make_request(email="late@example.com", status=Status.IN_PROGRESS, received_days_ago=40)
    soon = make_request(email="jane.doe@example.com", received_days_ago=26)
    make_request(email="sam@example.org", type="erasure", jurisdiction="US-CA", received_days_ago=1)
    make_request(email="old@example.com", status=Status.COMPLETED, received_days_ago=60, closed_days_after=12)
    make_request(email="no@example.com", status=Status.DENIED, received_days_ago=50, closed_days_after=3,
                 deny_reason="unverifiable")  # fmt: skip

    sign_in(page, live_server.url, approver, shot="dashboard-01-login")
    assert text(page.locator("#count-overdue")) == "1"
    assert text(page.locator("#count-soon")) == "1"
    badge = page.locator(f'tr[data-reference="{overdue.reference}"] .badge')
    assert text(badge).startswith("overdue")
    assert "l***@example.com" in text(page.locator("#queue"))
    check_page(page, "dashboard-02-queue")

    page.get_by_label("Overdue").check()
    page.get_by_role("button", name="Filter").click()
    assert page.locator("#queue tbody tr").evaluate_all("rows => rows.map(r => r.dataset.reference)") == [
        overdue.reference
    ]

    page.goto(live_server.url + "/dashboard/")
    page.get_by_label("Reference or e-mail").fill("Jane.Doe@example.com")
    page.get_by_role("button", name="Filter").click()
    assert page.locator("#queue tbody tr").evaluate_all("rows => rows.map(r => r.dataset.reference)") == [
        soon.reference
    ]
    check_page(page, "dashboard-03-queue-search-by-email")

    page.goto(live_server.url + "/dashboard/")
    page.get_by_label(f"Select {overdue.reference}").check()
    page.get_by_label(f"Select {soon.reference}").check()
    page.locator("#bulk select[name=assignee]").select_option("alice")
    page.get_by_role("button", name="Assign", exact=True).click()
    assert text(page.locator(".messages")).startswith("Assign: ")
    assert sorted(DataSubjectRequest.objects.filter(assignment__assignee__username="alice").values_list(
        "reference", flat=True
    )) == sorted([overdue.reference, soon.reference])  # fmt: skip
    page.get_by_label("Assignee").first.select_option("alice")
    page.get_by_role("button", name="Filter").click()
    assert page.locator("#queue tbody tr").count() == 2
    check_page(page, "dashboard-04-queue-assigned-to-alice")


def test_an_approver_approves_a_request_and_the_warehouse_is_processed(
    live_server: Any, page: Any, warehouse: System
) -> None:
    approver = make_staff("approver")
    request = make_request(email="jane.doe@example.com")
    sign_in(page, live_server.url, approver)
    page.get_by_role("link", name=request.reference).click()
    assert text(page.locator("#masked-email")) == "j*******@example.com"
    assert "GDPR Art. 12(3)" in text(page.locator("#due-explanation"))
    check_page(page, "dashboard-05-detail-awaiting-approval")

    page.get_by_role("button", name="Approve").click()
    assert text(page.locator(".messages")) == "Approved: the systems are being processed."
    # Celery runs eagerly here: the job ran against the warehouse and the package was built.
    assert text(page.locator("#status")) == "Completed"
    row = page.locator('#jobs tr[data-system="warehouse"]')
    assert text(row.locator(".badge")) == "Succeeded"
    assert int(text(row.locator("td.num").first)) > 0
    page.get_by_role("button", name="Reveal identity (audited)").click()
    assert "jane.doe@example.com" in text(page.locator("#identity-revealed"))
    assert "request.identity_revealed" in text(page.locator("#audit-trail"))
    check_page(page, "dashboard-06-detail-approved-and-revealed")


def test_an_approver_denies_a_request_with_a_reason(
    live_server: Any, page: Any, mailoutbox: list[Any]
) -> None:
    approver = make_staff("approver")
    request = make_request(email="mallory@example.net")
    sign_in(page, live_server.url, approver)
    page.goto(f"{live_server.url}/dashboard/requests/{request.pk}/")
    page.get_by_text("Deny…").click()
    page.get_by_label("Reason:", exact=True).select_option("fraud")
    page.get_by_label("Message to the person").fill(
        "The request came from an address the account never used."
    )
    check_page(page, "dashboard-07-deny-form")
    page.get_by_role("button", name="Deny the request").click()
    assert text(page.locator("#status")) == "Denied"
    request.refresh_from_db()
    assert (request.status, request.deny_reason) == (Status.DENIED, "fraud")
    assert [m.subject for m in mailoutbox] == [f"Your request {request.reference} could not be fulfilled"]
    assert "Request denied (reasons sent)" in text(page.locator("#timeline"))
    check_page(page, "dashboard-08-denied")


def test_an_approver_extends_the_deadline_and_the_person_gets_the_notice(
    live_server: Any, page: Any, mailoutbox: list[Any]
) -> None:
    approver = make_staff("approver")
    request = make_request(email="jane.doe@example.com", status=Status.IN_PROGRESS, received_days_ago=20)
    original_due = request.due_at
    sign_in(page, live_server.url, approver)
    page.goto(f"{live_server.url}/dashboard/requests/{request.pk}/")
    page.get_by_text("Extend the deadline…").click()
    page.get_by_label("Reason (sent to the person)").fill(
        "Your data is held in twelve systems, two of which need a manual search."
    )
    page.get_by_role("button", name="Extend and notify").click()
    assert text(page.locator(".messages")) == (
        "Extended: the extension notice with your reason is on its way to the person."
    )
    request.refresh_from_db()
    assert request.due_at > original_due + timedelta(days=58)
    assert "extended by two months: three months from receipt on" in text(page.locator("#due-explanation"))
    [notice] = mailoutbox
    assert notice.to == ["jane.doe@example.com"]
    assert "twelve systems" in notice.body
    assert "Deadline extended (notice sent with the reasons)" in text(page.locator("#timeline"))
    check_page(page, "dashboard-09-extended")

    page.get_by_text("Extend the deadline…").click()
    page.get_by_label("Reason (sent to the person)").fill("Once more.")
    page.get_by_role("button", name="Extend and notify").click()
    assert "may be extended only once" in text(page.locator(".messages"))


def test_an_agent_retries_a_failed_system_and_the_request_completes(
    live_server: Any, page: Any, warehouse: System
) -> None:
    agent = make_staff("agent")
    request = make_request(email="jane.doe@example.com", type="erasure", status=Status.ACTION_REQUIRED)
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        status_reason="Marketing warehouse: connection refused"
    )
    ConnectorJob.objects.create(
        request=request, system=warehouse, action="erase", status=JobStatus.FAILED, attempts=6,
        error="connection refused (the warehouse was down for maintenance)",
    )  # fmt: skip
    sign_in(page, live_server.url, agent)
    page.goto(f"{live_server.url}/dashboard/requests/{request.pk}/")
    assert text(page.locator('#jobs tr[data-system="warehouse"] .badge')) == "Failed"
    check_page(page, "dashboard-10-failed-job")
    page.get_by_role("button", name="Retry").click()
    assert text(page.locator(".messages")) == "The job is queued again."
    assert text(page.locator("#status")) == "Completed"
    assert text(page.locator('#jobs tr[data-system="warehouse"] .badge')) == "Succeeded"
    page.get_by_role("textbox", name="Internal note").fill("Retried after the maintenance window.")
    page.get_by_role("button", name="Add note").click()
    assert "Retried after the maintenance window." in text(page.locator("#notes"))
    check_page(page, "dashboard-11-retried-and-completed")


def test_an_admin_checks_system_health_and_disables_a_system(
    live_server: Any, page: Any, warehouse: System
) -> None:
    admin = make_staff("admin")
    System.objects.create(key="crm", name="CRM (misconfigured)", connector="sql", config={})
    failed = make_request(email="x@example.com", type="erasure", status=Status.ACTION_REQUIRED)
    ConnectorJob.objects.create(
        request=failed, system=System.objects.get(key="crm"), action="erase", status=JobStatus.FAILED,
        error="PermanentError: table customers does not exist",
    )  # fmt: skip
    sign_in(page, live_server.url, admin)
    page.get_by_role("link", name="Systems").click()
    assert text(page.locator("#system-warehouse .health")) == "never checked"
    page.locator("#system-warehouse").get_by_role("button", name="Check health").click()
    assert text(page.locator("#system-warehouse .health")).startswith("healthy")
    page.locator("#system-crm").get_by_role("button", name="Check health").click()
    assert text(page.locator("#system-crm .health")).startswith("failing ConfigError")
    assert "table customers does not exist" in text(page.locator("#system-crm"))
    if hasattr(warehouse, "region"):
        assert "eu-central-1 (Frankfurt)" in text(page.locator("#system-warehouse"))
    check_page(page, "dashboard-12-systems-health")
    page.locator("#system-crm").get_by_role("button", name="Disable").click()
    assert System.objects.get(key="crm").enabled is False
    assert text(page.locator("#system-crm .badge").first) == "disabled"

    page.get_by_role("link", name="Staff").click()
    page.get_by_label("Username").fill("bob")
    page.get_by_label("E-mail (for the daily digest)").fill("bob@example.com")
    page.get_by_label("Role").last.select_option("agent")
    page.get_by_label("Initial password").fill("a long and unusual passphrase")
    page.get_by_role("button", name="Add", exact=True).click()
    assert text(page.locator(".messages")) == "bob can sign in now and will set up two-factor authentication."
    check_page(page, "dashboard-15-staff")


def test_the_reports_page_shows_charts_close_times_and_the_ccpa_metrics(live_server: Any, page: Any) -> None:
    viewer = make_staff("viewer")
    now = timezone.now()
    last_year = now.year - 1
    for i, (type_, status, days, reason) in enumerate(
        [
            ("access", Status.COMPLETED, 12, ""),
            ("access", Status.COMPLETED, 30, ""),
            ("access", Status.DENIED, 4, "unverifiable"),
            ("erasure", Status.COMPLETED, 20, ""),
            ("erasure", Status.COMPLETED, 50, ""),
            ("erasure", Status.DENIED, 8, "exempt"),
        ]
    ):
        request = make_request(
            email=f"ca{i}@example.com", type=type_, jurisdiction="US-CA", status=status,
            received_days_ago=1, closed_days_after=days, deny_reason=reason,
        )  # fmt: skip
        received = timezone.datetime(last_year, 3 + i, 10, 18, 0, tzinfo=timezone.get_current_timezone())
        DataSubjectRequest.objects.filter(pk=request.pk).update(
            received_at=received, closed_at=received + timedelta(days=days)
        )
    for i in range(10):  # this year's volume for the charts
        make_request(
            email=f"eu{i}@example.com", type=["access", "erasure"][i % 2],
            status=[Status.COMPLETED, Status.IN_PROGRESS, Status.DENIED, Status.CANCELLED][i % 4],
            received_days_ago=5 + 33 * (i % 6), closed_days_after=[20, None, 6, 1][i % 4],
            deny_reason="exempt" if i % 4 == 2 else "",
        )  # fmt: skip
    sign_in(page, live_server.url, viewer)
    page.get_by_role("link", name="Reports").click()
    assert page.locator("svg.chart").count() == 2
    assert text(page.locator("#ccpa h2").first) == f"CCPA metrics (11 CCR §7102) for {last_year}"
    access = page.locator('#ccpa-table tr[data-type="access"] td')
    assert [text(access.nth(i)) for i in range(9)] == [
        "Requests to know", "3", "2", "1", "unverifiable: 1", "0", "0", "12.0", "15.3",
    ]  # fmt: skip
    assert page.locator("#ccpa-snippet").input_value().startswith('<table class="ccpa-metrics">')
    check_page(page, "dashboard-13-reports")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename == f"ccpa-7102-metrics-{last_year}-ccpa.csv"


def test_an_approver_verifies_the_audit_chain(live_server: Any, page: Any) -> None:
    approver = make_staff("approver")
    make_request(email="a@example.com")
    sign_in(page, live_server.url, approver)
    page.get_by_role("link", name="Audit").click()
    page.get_by_label("Action").fill("staff.")
    page.get_by_role("button", name="Filter").click()
    actions = page.locator("#audit tbody td:nth-child(4)").all_inner_texts()
    assert actions == ["staff.logged_in", "staff.saved"]
    page.get_by_role("button", name="Verify chain").click()
    assert text(page.locator("#verify-result")).startswith("✔ The chain is intact:")
    assert page.get_by_label("Action").input_value() == "staff."  # the filter is kept
    check_page(page, "dashboard-14-audit")


def test_a_new_staff_member_scans_a_qr_code_keeps_backup_codes_and_makes_an_api_token(
    live_server: Any, page: Any
) -> None:
    user = make_staff("agent", enrolled=False)
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(live_server.url + "/dashboard/")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    qr = page.locator("#totp-qr svg")
    assert qr.is_visible()
    box = qr.bounding_box()
    assert box is not None
    assert box["width"] >= 100
    check_page(page, "dashboard-20-enrol-qr")
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("6-digit code from your authenticator app, or a backup code").fill(
        totp.code_at(secret, time.time())
    )
    page.get_by_role("button", name="Sign in").click()
    assert page.locator("h1").inner_text() == "Your backup codes"
    codes = page.locator("#backup-codes li").all_inner_texts()
    assert len(codes) == 10
    assert all(len(c) == 8 for c in codes)
    check_page(page, "dashboard-21-backup-codes")
    page.get_by_role("link", name="I have saved them — continue").click()
    assert page.locator("h1").inner_text() == "Request queue"
    page.get_by_role("link", name=user.get_username()).click()
    page.get_by_role("button", name="Make a token").click()
    token = page.locator("#new-token").inner_text()
    assert len(token) == 64
    check_page(page, "dashboard-22-account-token")
    page.reload()  # shown once: the page, seen again, no longer shows it
    assert page.locator("#new-token").count() == 0
    assert token[:15] in page.locator("table").inner_text()
    assert csp_errors == []


def test_a_running_job_refreshes_on_the_page_without_a_reload(live_server: Any, page: Any) -> None:
    agent = make_staff("agent")
    request = make_request(email="jane.doe@example.com", type="erasure", status=Status.IN_PROGRESS)
    crm = System.objects.create(key="crm", name="CRM", connector="sql", config={})
    job = ConnectorJob.objects.create(request=request, system=crm, action="erase", status=JobStatus.RUNNING)
    sign_in(page, live_server.url, agent)
    page.goto(f"{live_server.url}/dashboard/requests/{request.pk}/")
    page.get_by_label("Internal note").fill("typing while the job runs")
    assert text(page.locator('#jobs tr[data-system="crm"] .badge')) == "Running"
    check_page(page, "dashboard-16-detail-job-running")

    ConnectorJob.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED, records_found=3, records_erased=3, records_retained=0
    )
    expect(page.locator('#jobs tr[data-system="crm"] .badge')).to_have_text("Succeeded", timeout=15_000)
    row = page.locator('#jobs tr[data-system="crm"]')
    assert text(row.locator('[data-field="records_erased"]')) == "3"
    assert text(page.locator("#jobs-live")) == "CRM: Succeeded"
    expect(page.locator("#jobs-live-done")).to_be_visible()
    expect(page.get_by_role("button", name="Stop live updates")).to_be_hidden()
    expect(page.locator("#jobs-live-running")).to_be_hidden()
    # No reload: what the person was typing is still there.
    assert page.get_by_label("Internal note").input_value() == "typing while the job runs"
    check_page(page, "dashboard-17-detail-job-refreshed")


def test_a_staff_member_chooses_the_time_zone_of_their_dashboard(live_server: Any, page: Any) -> None:
    admin = make_staff("admin")
    request = make_request(email="sam@example.org", jurisdiction="US-CA")
    sign_in(page, live_server.url, admin)
    page.get_by_role("link", name="Settings").click()
    assert "DSR_ENV" in text(page.locator("#settings"))
    check_page(page, "dashboard-18-settings")

    page.get_by_role("link", name="Preferences").click()
    page.get_by_label("Show times in").select_option("America/Los_Angeles")
    page.get_by_role("button", name="Save").click()
    assert text(page.locator(".messages")) == "Preferences saved."
    assert "shown in America/Los_Angeles" in text(page.locator("#time-zone-now"))
    check_page(page, "dashboard-19-preferences")

    page.goto(f"{live_server.url}/dashboard/requests/{request.pk}/")
    received = timezone.localtime(request.received_at, deadlines.zone_for("US-CA"))
    assert text(page.locator("#summary time")) == received.strftime("%Y-%m-%d %H:%M ") + received.tzname()
    due = deadlines.legal_date(jurisdiction="US-CA", at=request.due_at).isoformat()
    assert text(page.locator("#deadline .deadline")) == due
    assert text(page.locator("#due-explanation")).startswith(f"due {due}: ")


def test_an_agent_completes_a_hand_off_task_on_the_request_page_and_the_request_completes(
    live_server: Any, page: Any
) -> None:
    from dsr.tasks.models import Task, TaskStatus
    from dsr.workflow.transitions import request_transition

    System.objects.create(
        key="archive",
        name="Paper archive",
        connector="manual",
        config={"instructions": "Search the signed paper contracts in archive room 3", "due_days": 7},
    )
    agent = make_staff("agent")
    request = make_request(email="jane.doe@example.com", type="erasure")
    # Approving fans out: the manual system's job opens its task and waits for a person.
    request_transition(
        request_id=request.pk, to=Status.IN_PROGRESS, actor="staff:t", event="request.approved"
    )
    task = Task.objects.get(request=request)
    assert ConnectorJob.objects.get(pk=task.job_id).status == JobStatus.WAITING

    sign_in(page, live_server.url, agent)
    page.goto(f"{live_server.url}/dashboard/requests/{request.pk}/")
    tasks = page.locator("#tasks")
    assert "Staff task: erase the person's data in Paper archive" in text(tasks)
    page.get_by_role("textbox", name="New manual task").fill("Tell the call centre")
    page.get_by_role("button", name="Add task").click()
    assert text(page.locator(".messages")) == "Task added."
    check_page(page, "dashboard-30-hand-off-task")
    page.get_by_label("Records found").fill("2")
    page.get_by_label("Records erased").fill("2")
    page.get_by_label("How").select_option("deleted")
    page.get_by_role("button", name="Complete").click()
    assert text(page.locator(".messages")) == "Task completed: the system's job records the result."
    assert text(page.locator("#status")) == "Completed"
    assert "2 found, 2 erased" in text(page.locator("#tasks"))
    assert Task.objects.get(pk=task.pk).status == TaskStatus.COMPLETED
    assert ConnectorJob.objects.get(pk=task.job_id).status == JobStatus.SUCCEEDED
    check_page(page, "dashboard-31-hand-off-task-completed")
