"""A person uses the portal while a real Celery worker does the work: submit in Chromium, read the
code from a real SMTP listener, verify, watch the status page change as the worker runs the
warehouse job on PostgreSQL, then download the package after a fresh code. Screenshots are saved
under artifacts/screenshots/portal-e2e-*.png."""

from __future__ import annotations

import io
import os
import zipfile
from typing import Any

import pytest

from connectors.sql.sample import TARGET_EMAIL
from dsr.workflow.models import DataSubjectRequest
from tests.portal.conftest import check_page
from tests.support.smtp import SmtpListener, code_from
from tests.support.waiting import wait_until

# Playwright's sync API runs an event loop in this thread; the ORM calls here are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def text(locator: Any) -> str:
    return " ".join(locator.inner_text().split())


def submit_and_verify(page: Any, base_url: str, smtp: SmtpListener, *, right: str) -> DataSubjectRequest:
    page.goto(base_url + "/rights/US-CA/")
    page.get_by_role("link", name=right).click()
    page.get_by_label("Your e-mail address").fill(TARGET_EMAIL.upper())
    page.get_by_role("button", name="Continue and send me a code").click()
    code = code_from(smtp.wait_for(to=TARGET_EMAIL, subject_contains="verification code"))
    page.get_by_label("Code from the e-mail").fill(code)
    page.get_by_role("button", name="Confirm").click()
    assert page.get_by_test_id("status").inner_text() == "Waiting for approval"
    return DataSubjectRequest.objects.latest("received_at")


def watch_until(page: Any, status: str, *, timeout: float = 60.0) -> list[str]:
    """Reload the status page like a person would until it shows ``status``; the states seen."""
    seen: list[str] = []

    def shows() -> bool:
        shown = page.get_by_test_id("status").inner_text()
        if not seen or seen[-1] != shown:
            seen.append(shown)
        if shown == status:
            return True
        page.reload()
        return False

    wait_until(
        shows,
        timeout=timeout,
        interval=0.3,
        what=lambda: f"the status page shows {status!r}, not {seen[-1]!r}",
    )
    return seen


def test_a_person_sees_their_data_through_the_portal_while_a_real_worker_collects_it(
    live_server: Any, page: Any, smtp: SmtpListener, staff_client: Any, warehouse: dict[str, Any], worker: Any
) -> None:
    seed = warehouse["seed"]
    request = submit_and_verify(page, live_server.url, smtp, right="See my data")
    check_page(page, "portal-e2e-01-access-awaiting-approval")
    acknowledged = smtp.wait_for(to=TARGET_EMAIL, subject_contains="We received your request")
    assert f"/status/{request.reference}/" in acknowledged.text

    staff_client("approver").post(f"/api/v1/staff/requests/{request.pk}/approve")
    page.reload()
    check_page(page, "portal-e2e-02-access-after-approval")
    seen = watch_until(page, "Completed")
    assert seen[0] in ("In progress", "Completed")

    expected = len(seed.target_customer_ids) + len(seed.target_order_ids) + len(seed.target_invoice_ids)
    [entry] = page.get_by_test_id("timeline").locator("li").all()
    assert text(entry).startswith(f"Warehouse: {expected} records collected on ")
    check_page(page, "portal-e2e-03-access-completed")

    page.get_by_role("link", name="Download your data").click()
    page.get_by_role("button", name="Send me a code").click()
    code = code_from(smtp.wait_for(to=TARGET_EMAIL, subject_contains="download code"))
    page.get_by_label("Code from the e-mail").fill(code)
    check_page(page, "portal-e2e-04-download-code")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download").click()
    archive = zipfile.ZipFile(io.BytesIO(download_info.value.path().read_bytes()))
    assert "data.json" in archive.namelist()


def test_a_person_deletes_their_data_and_the_status_page_says_what_was_erased_and_kept(
    live_server: Any, page: Any, smtp: SmtpListener, staff_client: Any, warehouse: dict[str, Any], worker: Any
) -> None:
    seed = warehouse["seed"]
    request = submit_and_verify(page, live_server.url, smtp, right="Delete my data")
    staff_client("approver").post(f"/api/v1/staff/requests/{request.pk}/approve")
    watch_until(page, "Completed")

    kept = len(seed.target_invoice_ids)
    [entry] = page.get_by_test_id("timeline").locator(":scope > li").all()
    assert text(entry).startswith("Warehouse: Deleted on ")
    assert f"; {kept} records kept because the law requires it " in text(entry)
    # Which records were kept and on which basis (this warehouse's inventory names no retention).
    basis = f"{kept} records kept from “invoices”. Why: Tax records kept 10 years (HGB §257, AO §147)."
    assert text(entry.get_by_test_id("kept")) == basis
    assert page.get_by_test_id("status-explanation").inner_text() == "Your request is complete."
    check_page(page, "portal-e2e-05-erasure-completed")
    completed = smtp.wait_for(to=TARGET_EMAIL, subject_contains="is complete")
    assert f"/status/{request.reference}/" in completed.text
    assert basis in completed.text
