"""What staff read on the dashboard: legal dates in the jurisdiction's calendar, times in their own
time zone, records kept with their basis, the live job status, readable audit data, plural counts
and the CCPA metrics of the year a privacy lead expects."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from dsr.audit.models import AuditEvent
from dsr.audit.services import audit_record
from dsr.dashboard import reports
from dsr.staff.models import StaffProfile
from dsr.workflow import deadlines
from dsr.workflow.models import ConnectorJob, JobStatus, Status
from tests.factories import RequestFactory, SystemFactory

pytestmark = pytest.mark.django_db

# 18:00 in Los Angeles on 1 December 2026 is 02:00 UTC on 2 December.
RECEIVED_CA = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def _california_request(**kwargs):  # type: ignore[no-untyped-def]
    schedule = deadlines.schedule_for(jurisdiction="US-CA", request_type="access", received_at=RECEIVED_CA)
    return RequestFactory(
        jurisdiction="US-CA", regime="CCPA", status=Status.IN_PROGRESS, received_at=RECEIVED_CA,
        ack_due_at=schedule.acknowledge.due_at if schedule.acknowledge else None,
        due_at=schedule.respond.due_at, due_explanation=schedule.respond.explanation, **kwargs,
    )  # fmt: skip


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_californian_due_date_reads_as_the_rule_table_counts_it_not_as_the_utc_date(dashboard_client):
    request = _california_request()
    assert request.due_at == datetime(2027, 1, 16, 7, 59, 59, 999999, tzinfo=UTC)  # end of 15 Jan in LA
    assert request.due_explanation.startswith("due 2027-01-15: ")
    client = dashboard_client("viewer")

    detail = client.get(f"/dashboard/requests/{request.pk}/").content.decode()
    assert '<span class="deadline">2027-01-15</span>' in detail
    assert "2027-01-16" not in detail
    queue = client.get("/dashboard/").content.decode()
    row = queue.split(f'data-reference="{request.reference}"')[1].split("</tr>")[0]
    assert '<td class="date">2027-01-15' in row


def test_the_legal_date_helper_uses_the_jurisdictions_zone():
    instant = datetime(2027, 1, 16, 7, 59, tzinfo=UTC)
    assert deadlines.legal_date(jurisdiction="US-CA", at=instant).isoformat() == "2027-01-15"
    assert deadlines.legal_date(jurisdiction="DE", at=instant).isoformat() == "2027-01-16"
    assert str(deadlines.zone_for("US-CA")) == "America/Los_Angeles"


def test_times_are_shown_in_the_default_zone_until_staff_choose_their_own(dashboard_client):
    request = _california_request()
    client = dashboard_client("agent")
    page = client.get(f"/dashboard/requests/{request.pk}/").content.decode()
    assert ">2026-12-02 02:00 UTC</time>" in page

    response = client.post("/dashboard/preferences/", {"time_zone": "America/Los_Angeles"})
    assert response.status_code == 302
    profile = StaffProfile.objects.get(user__username="agent-user")
    assert profile.time_zone == "America/Los_Angeles"
    assert AuditEvent.objects.filter(action="staff.time_zone_set", actor="staff:agent-user").count() == 1

    page = client.get(f"/dashboard/requests/{request.pk}/").content.decode()
    assert ">2026-12-01 18:00 PST</time>" in page
    # The legal date does not move with the staff member's zone.
    assert '<span class="deadline">2027-01-15</span>' in page
    preferences = _text(client.get("/dashboard/preferences/").content.decode())
    assert "Times (received, audit events) are shown in America/Los_Angeles" in preferences


def test_an_unknown_time_zone_is_refused_and_nothing_changes(dashboard_client):
    client = dashboard_client("viewer")
    response = client.post("/dashboard/preferences/", {"time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert StaffProfile.objects.get(user__username="viewer-user").time_zone == ""
    assert not AuditEvent.objects.filter(action="staff.time_zone_set").exists()


def test_the_default_zone_comes_from_the_setting(dashboard_client, settings):
    settings.DSR_STAFF_TIME_ZONE = "Europe/Berlin"
    request = _california_request()
    page = dashboard_client("viewer").get(f"/dashboard/requests/{request.pk}/").content.decode()
    assert ">2026-12-02 03:00 CET</time>" in page


def test_the_request_page_lists_what_an_erasure_kept_by_which_system_why_and_for_how_long(dashboard_client):
    request = RequestFactory(type="erasure", status=Status.COMPLETED)
    system = SystemFactory(key="shop", name="Web shop", retention="Invoices 10 years after the sale")
    ConnectorJob.objects.create(
        request=request, system=system, action="erase", status=JobStatus.SUCCEEDED,
        records_found=5, records_erased=3, records_retained=2, method="deleted",
        detail={"retained": [{"category": "invoices", "count": 2, "basis": "HGB §257, AO §147"}]},
    )  # fmt: skip
    page = dashboard_client("viewer").get(f"/dashboard/requests/{request.pk}/").content.decode()
    kept = _text(page.split('<table class="kept" data-system="shop">')[1].split("</table>")[0])
    assert kept == (
        "Table or category Records Legal basis Retention policy of the system "
        "invoices 2 HGB §257, AO §147 Invoices 10 years after the sale"
    )
    assert "Kept by Web shop" in page


def test_the_job_status_refreshes_from_a_json_endpoint_only_while_work_runs(dashboard_client):
    request = RequestFactory(status=Status.IN_PROGRESS)
    system = SystemFactory(key="crm", name="CRM")
    job = ConnectorJob.objects.create(
        request=request, system=system, action="access", status=JobStatus.RUNNING
    )
    client = dashboard_client("viewer")

    page = client.get(f"/dashboard/requests/{request.pk}/").content.decode()
    assert f'data-poll-url="/dashboard/requests/{request.pk}/jobs.json"' in page
    assert '<script src="/static/dashboard/jobs.js" defer></script>' in page
    assert "<script>" not in page  # the CSP forbids inline script
    status = client.get(f"/dashboard/requests/{request.pk}/jobs.json")
    assert status["Content-Type"] == "application/json"
    assert status.json() == {
        "status": "in_progress", "status_display": "In progress", "live": True,
        "jobs": [{
            "id": job.pk, "system": "CRM", "status": "running", "status_display": "Running",
            "records_found": None, "records_erased": None, "records_retained": None, "attempts": 0,
            "error": "",
        }],
    }  # fmt: skip

    ConnectorJob.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, records_found=4)
    assert client.get(f"/dashboard/requests/{request.pk}/jobs.json").json()["live"] is False
    page = client.get(f"/dashboard/requests/{request.pk}/").content.decode()
    assert "data-poll-url" not in page
    assert "jobs.js" not in page


def test_the_jobs_endpoint_is_for_staff_only(dashboard_client):
    request = RequestFactory(status=Status.IN_PROGRESS)
    response = dashboard_client("anonymous").get(f"/dashboard/requests/{request.pk}/jobs.json")
    assert response.status_code == 302
    assert "/dashboard/login/" in response["Location"]


def test_the_audit_view_shows_event_data_as_key_value_pairs(dashboard_client):
    audit_record(
        actor="worker", action="job.succeeded", data={"job": 7, "systems": ["crm", "shop"], "dry_run": False}
    )
    page = dashboard_client("approver").get("/dashboard/audit/?action=job.").content.decode()
    assert "{&#x27;" not in page
    assert "{'" not in page
    row = page.split("<code>job.succeeded</code>")[1].split("</tr>")[0]
    assert (
        '<dl class="kv"><dt>job</dt><dd>7</dd><dt>dry run</dt><dd>no</dd>'
        "<dt>systems</dt><dd>crm, shop</dd></dl>" in row
    )


def test_counts_use_the_singular_for_one(dashboard_client):
    RequestFactory()
    client = dashboard_client("approver")
    assert "Page 1 of 1 · 1 request</span>" in client.get("/dashboard/").content.decode()
    assert AuditEvent.objects.count() == 1  # the approver's creation
    assert "Page 1 of 1 · 1 event</span>" in client.get("/dashboard/audit/").content.decode()
    page = client.get("/dashboard/audit/?action=staff.logged_in").content.decode()
    assert "Page 1 of 1 · 0 events</span>" in page


def test_the_ccpa_metrics_default_to_the_year_to_date_when_it_has_requests(dashboard_client):
    year = timezone.now().astimezone(reports.CCPA_TIMEZONE).year
    RequestFactory(jurisdiction="US-CA", regime="CCPA", received_at=timezone.now() - timedelta(minutes=5))
    RequestFactory(
        jurisdiction="US-CA",
        regime="CCPA",
        received_at=datetime(year - 2, 6, 1, tzinfo=reports.CCPA_TIMEZONE),
    )
    page = dashboard_client("viewer").get("/dashboard/reports/").content.decode()
    assert f"CCPA metrics (11 CCR §7102) for {year}, year to date</h2>" in page
    options = re.findall(
        r'<option value="(\d+)"( selected)?>([^<]+)</option>', page.split('id="ccpa-year"')[1]
    )
    assert options == [
        (str(year), " selected", f"{year} (year to date)"), (str(year - 1), "", str(year - 1)),
        (str(year - 2), "", str(year - 2)),
    ]  # fmt: skip


def test_the_ccpa_metrics_fall_back_to_last_year_when_this_year_has_none(dashboard_client):
    year = timezone.now().astimezone(reports.CCPA_TIMEZONE).year
    RequestFactory(
        jurisdiction="US-CA",
        regime="CCPA",
        received_at=datetime(year - 1, 6, 1, tzinfo=reports.CCPA_TIMEZONE),
    )
    page = dashboard_client("viewer").get("/dashboard/reports/").content.decode()
    assert f"CCPA metrics (11 CCR §7102) for {year - 1}</h2>" in page
    assert reports.ccpa_default_year(scope="ccpa") == year - 1
    # With no CCPA request at all, the current year (all zeros, but the right period) is shown.
    assert reports.ccpa_default_year(scope="ccpa", now=datetime(year + 5, 3, 1, tzinfo=UTC)) == year + 5


def test_the_staff_member_names_no_one_else(dashboard_client):
    # The preference belongs to the signed-in staff member only.
    client = dashboard_client("viewer")
    other = get_user_model().objects.create(username="other")
    StaffProfile.objects.create(user=other, role="viewer")
    client.post("/dashboard/preferences/", {"time_zone": "Asia/Tokyo"})
    assert StaffProfile.objects.get(user=other).time_zone == ""
