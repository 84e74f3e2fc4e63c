"""In headless Chromium: an admin checks and imports a CSV backlog, sees the TEST badge in the
queue and downloads a request's diagnostics bundle. Screenshots: artifacts/screenshots/intake-*.png.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from dsr.workflow.models import DataSubjectRequest
from tests.dashboard.conftest import make_staff
from tests.dashboard.test_browser import sign_in, text
from tests.support.browser import screenshot

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = (
    "type,email,jurisdiction,received_at,external_id,name,channel,test\n"
    "erasure,ana.backlog@example.com,US-CA,2026-11-02,ZD-1001,Ana Ruiz,email,\n"
    "access,qa.tester@example.com,DE,2026-11-20,ZD-1002,,staff,yes\n"
)


def test_an_admin_imports_a_backlog_after_its_dry_run_and_downloads_a_diagnostics_bundle(
    live_server: Any, page: Any, tmp_path: Path
) -> None:
    admin = make_staff("admin")
    sign_in(page, live_server.url, admin)
    page.get_by_role("link", name="Import").click()
    assert page.locator("h1").inner_text() == "Import requests"
    broken = tmp_path / "broken.csv"
    broken.write_text(CSV.replace("ana.backlog@example.com", "ana.backlog@"))
    page.get_by_label("CSV file").set_input_files(str(broken))
    page.get_by_role("button", name="Check (dry run)").click()
    assert text(page.locator("#import-result h2")) == "1 problem found: nothing was imported"
    assert text(page.locator("#import-errors tbody tr")) == "2 email Enter a valid e-mail address."
    screenshot(page, "intake-01-import-errors")

    backlog = tmp_path / "backlog.csv"
    backlog.write_text(CSV)
    page.get_by_label("CSV file").set_input_files(str(backlog))
    page.get_by_role("button", name="Check (dry run)").click()
    assert text(page.locator("#import-summary")) == "2 to create, 0 already imported (skipped)."
    assert text(page.locator("#import-rows tbody tr").nth(0)) == (
        "2 ZD-1001 would be created erasure US-CA 2026-11-02 2026-12-17 Waiting for verification"
    )
    screenshot(page, "intake-02-dry-run")
    assert not DataSubjectRequest.objects.exists()
    page.get_by_role("button", name="Import 2 requests").click()
    assert text(page.locator("#import-summary")) == "2 created, 0 already imported (skipped)."
    assert DataSubjectRequest.objects.count() == 2

    page.get_by_role("link", name="Queue").click()
    test_request = DataSubjectRequest.objects.get(external_id="ZD-1002")
    row = page.locator("tr", has=page.get_by_role("link", name=test_request.reference))
    assert row.locator(".badge.test").inner_text() == "TEST"
    screenshot(page, "intake-03-queue-test-badge")

    page.get_by_role("link", name=test_request.reference).click()
    assert page.locator("#test-badge").inner_text() == "TEST"
    with page.expect_download() as info:
        page.get_by_role("link", name="Download diagnostics (JSON, no personal data)").click()
    body = Path(info.value.path()).read_bytes()
    assert b"qa.tester" not in body
    bundle = json.loads(body)
    assert (bundle["request"]["reference"], bundle["request"]["test"]) == (test_request.reference, True)
    screenshot(page, "intake-04-test-request")
