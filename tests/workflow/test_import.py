"""``manage.py import_requests``: a CSV backlog, checked row by row, dry run first, all rows or
none, idempotent on ``external_id``, through the normal intake and audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from dsr.audit.models import AuditEvent
from dsr.workflow import deadlines
from dsr.workflow.intake import requests_expire_unverified
from dsr.workflow.models import DataSubjectRequest, Status
from tests.support.smtp import SmtpListener

pytestmark = pytest.mark.django_db

HEADER = "type,email,jurisdiction,received_at,external_id,name,channel\n"
BACKLOG = HEADER + (
    "erasure,ana@example.com,US-CA,2026-11-02,ZD-1001,Ana Ruiz,email\n"
    "access,ben@example.com,DE,2026-11-20T09:30:00+01:00,ZD-1002,,phone\n"
)


def run(tmp_path: Path, text: str, *args: str) -> tuple[str, str]:
    path = tmp_path / "backlog.csv"
    path.write_text(text, encoding="utf-8")
    out, err = StringIO(), StringIO()
    call_command("import_requests", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_dry_run_shows_what_would_be_created_and_writes_nothing(tmp_path, smtp: SmtpListener) -> None:
    out, _err = run(tmp_path, BACKLOG, "--dry-run")
    assert out.splitlines() == [
        "row 2 ZD-1001: erasure US-CA, received 2026-11-02, due 2026-12-17, pending_verification: "
        "would be created",
        "row 3 ZD-1002: access DE, received 2026-11-20, due 2026-12-20, pending_verification: "
        "would be created",
        "2 would be created, 0 already imported. Dry run: nothing was written; run again without "
        "--dry-run to import.",
    ]
    assert not DataSubjectRequest.objects.exists()
    assert smtp.messages == []
    checked = AuditEvent.objects.get(action="requests.import_checked")
    assert (checked.data["created"], checked.data["dry_run"], checked.actor) == (
        2,
        True,
        "command:import_requests",
    )


def test_an_import_starts_the_legal_clock_at_the_original_receipt_and_sends_the_codes(
    tmp_path, smtp: SmtpListener, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        out, _err = run(tmp_path, BACKLOG)
    assert out.splitlines()[-1] == "2 created, 0 already imported."
    ana = DataSubjectRequest.objects.get(external_id="ZD-1001")
    received = datetime(2026, 11, 2, tzinfo=deadlines.ZoneInfo("America/Los_Angeles"))
    expected = deadlines.schedule_for(jurisdiction="US-CA", request_type="erasure", received_at=received)
    assert (ana.received_at, ana.due_at, ana.ack_due_at) == (
        received,
        expected.respond.due_at,
        expected.acknowledge.due_at if expected.acknowledge else None,
    )
    assert (ana.status, ana.channel, ana.full_name, ana.email) == (
        Status.PENDING_VERIFICATION,
        "email",
        "Ana Ruiz",
        "ana@example.com",
    )
    ben = DataSubjectRequest.objects.get(external_id="ZD-1002")
    assert ben.received_at == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert ben.channel == "phone"
    # Verification still applies: each person gets a code, as on the portal.
    assert sorted(m.to[0] for m in smtp.messages) == ["ana@example.com", "ben@example.com"]
    assert all("verification code" in m.subject for m in smtp.messages)
    imported = AuditEvent.objects.get(action="requests.imported")
    assert (imported.data["created"], imported.data["external_ids"]) == (2, ["ZD-1001", "ZD-1002"])
    received_events = AuditEvent.objects.filter(action="request.received", request_id=ana.pk)
    assert [(e.actor, e.data["external_id"]) for e in received_events] == [
        ("command:import_requests", "ZD-1001")
    ]


def test_importing_the_same_file_again_creates_nothing(tmp_path) -> None:
    run(tmp_path, BACKLOG)
    out, _err = run(tmp_path, BACKLOG + "access,cleo@example.com,FR,2026-11-25,ZD-1003,,\n")
    assert DataSubjectRequest.objects.count() == 3
    assert out.splitlines()[0].endswith("already imported, skipped")
    assert out.splitlines()[-1] == "1 created, 2 already imported."


def test_one_invalid_row_stops_the_whole_file_with_each_problem_by_row_and_column(tmp_path) -> None:
    future = (timezone.now() + timedelta(days=3)).date().isoformat()
    text = HEADER + (
        "erasure,ana@example.com,US-CA,2026-11-02,ZD-1001,,\n"
        "access,not-an-address,DE,2026-11-20,ZD-1002,,\n"
        f"opt_out,cleo@example.com,DE,{future},ZD-1001,,fax\n"
        "deletion,dan@example.com,XX,02/11/2026,ZD-1004,,\n"
    )
    with pytest.raises(CommandError, match="problem"):
        run(tmp_path, text)
    path = tmp_path / "backlog.csv"
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_requests", str(path), stderr=err)
    assert err.getvalue().splitlines() == [
        "row 3, email: Enter a valid e-mail address.",
        "row 4, external_id: Already used on row 2 of this file.",
        "row 4, received_at: The date of receipt lies in the future.",
        "row 4, channel: 'fax' is not a channel; use email, phone, mail, portal, api, staff, import.",
        "row 5, type: 'deletion' is not a request type; use access, erasure, correction, opt_out, marketing.",
        "row 5, jurisdiction: 'XX' is not a supported jurisdiction code (DE, FR, US-CA, ...).",
        "row 5, received_at: '02/11/2026' is not a date; write it as YYYY-MM-DD or "
        "YYYY-MM-DDTHH:MM (ISO 8601).",
    ]
    assert not DataSubjectRequest.objects.exists()
    assert AuditEvent.objects.filter(action="requests.import_refused").count() == 2


def test_a_file_without_a_required_column_or_with_an_unknown_one_is_refused(tmp_path) -> None:
    err = StringIO()
    path = tmp_path / "bad.csv"
    path.write_text("type,email,jurisdiction,received,external_id\naccess,a@example.com,DE,2026-11-02,X\n")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_requests", str(path), stderr=err)
    assert err.getvalue().splitlines() == [
        "row 1, received: Unknown column; use type, email, jurisdiction, received_at, external_id, name, "
        "details, channel, verified, test.",
        "row 1, received_at: This column is required.",
    ]


def test_rows_marked_verified_by_the_operator_skip_the_code_and_the_attestation_is_audited(
    tmp_path, smtp: SmtpListener, django_capture_on_commit_callbacks
) -> None:
    text = HEADER.replace("\n", ",verified\n") + "access,ana@example.com,US-CA,2026-11-02,ZD-1,,email,yes\n"
    with django_capture_on_commit_callbacks(execute=True):
        run(tmp_path, text, "--actor", "ops:maria")
    request = DataSubjectRequest.objects.get(external_id="ZD-1")
    assert request.status == Status.AWAITING_APPROVAL
    assert request.verified_at is not None
    event = AuditEvent.objects.get(request_id=request.pk, action="request.verified_by_staff")
    assert (event.actor, event.data["external_id"]) == ("ops:maria", "ZD-1")
    assert [m.subject for m in smtp.messages] == [f"We received your request {request.reference}"]


def test_an_imported_unverified_request_is_not_expired_for_its_old_receipt_date(tmp_path, settings) -> None:
    old = (timezone.now() - settings.DSR_UNVERIFIED_EXPIRY - timedelta(days=30)).date().isoformat()
    run(tmp_path, HEADER + f"access,ana@example.com,DE,{old},ZD-OLD,,\n")
    assert requests_expire_unverified() == 0
    DataSubjectRequest.objects.update(
        created_at=timezone.now() - settings.DSR_UNVERIFIED_EXPIRY - timedelta(hours=1)
    )
    assert requests_expire_unverified() == 1


def test_a_spreadsheet_saved_with_semicolons_imports_the_same(tmp_path) -> None:
    out, _err = run(tmp_path, BACKLOG.replace(",", ";"))
    assert out.splitlines()[-1] == "2 created, 0 already imported."
    assert DataSubjectRequest.objects.get(external_id="ZD-1001").full_name == "Ana Ruiz"
