"""The status page and the deletion form in headless Chromium: the progress list, the records an
erasure kept, the permanent-deletion warning, each checked with axe-core and saved as a screenshot
under artifacts/screenshots/portal-status-*.png."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from dsr.notifications.services import status_signature
from dsr.workflow.models import ConnectorJob, JobStatus, Status
from tests.factories import RequestFactory, SystemFactory
from tests.portal.conftest import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def text(locator: Any) -> str:
    return " ".join(locator.inner_text().split())


def test_a_person_reads_the_progress_and_what_their_erasure_kept(live_server: Any, page: Any) -> None:
    request = RequestFactory(type="erasure", status=Status.COMPLETED, closed_at=timezone.now())
    shop = SystemFactory(key="shop", name="Web shop")
    crm = SystemFactory(key="crm", name="CRM")
    ConnectorJob.objects.create(
        request=request, system=shop, action="erase", status=JobStatus.SUCCEEDED, finished_at=timezone.now(),
        records_found=5, records_erased=3, records_retained=2, method="deleted",
        detail={"retained": [{"category": "invoices", "count": 2, "basis": "Tax records (HGB §257, AO §147)",
                              "retention": "10 years after the sale"}]},
    )  # fmt: skip
    ConnectorJob.objects.create(
        request=request, system=crm, action="erase", status=JobStatus.SUCCEEDED, finished_at=timezone.now(),
        records_found=0, records_erased=0, records_retained=0, method="none",
    )  # fmt: skip
    page.goto(
        f"{live_server.url}/status/{request.reference}/{status_signature(reference=request.reference)}/"
    )
    steps = page.get_by_role("list", name="Progress of your request").get_by_role("listitem")
    assert [text(s) for s in steps.all()] == [
        "Received (completed)", "Confirmed (completed)", "In progress (completed)", "Done",
    ]  # fmt: skip
    assert steps.nth(3).get_attribute("aria-current") == "step"
    assert text(page.get_by_test_id("kept")) == (
        "2 records kept from “invoices”. Why: Tax records (HGB §257, AO §147). "
        "Retention policy of this system: 10 years after the sale"
    )
    check_page(page, "portal-status-01-erasure-completed-with-kept-records")


def test_a_person_is_warned_before_asking_for_a_permanent_deletion(live_server: Any, page: Any) -> None:
    page.goto(live_server.url + "/rights/DE/erasure/")
    warning = page.get_by_test_id("erase-warning")
    assert text(warning).startswith(
        "Deletion is permanent. Once we have deleted your data we cannot restore it"
    )
    button = page.get_by_role("button", name="Continue and send me a code")
    assert button.get_attribute("aria-describedby") == "erase-warning"
    check_page(page, "portal-status-02-erasure-form-warning")


def test_the_page_right_after_confirming_says_the_team_approves_first(live_server: Any, page: Any) -> None:
    request = RequestFactory(status=Status.AWAITING_APPROVAL, verified_at=timezone.now())
    page.goto(
        f"{live_server.url}/status/{request.reference}/{status_signature(reference=request.reference)}/"
    )
    assert text(page.get_by_test_id("starts-when-approved")) == (
        "Work in our systems starts once our privacy team has approved your request."
    )
    current = page.locator('[data-testid="progress"] [aria-current="step"]')
    assert text(current) == "Confirmed"
    check_page(page, "portal-status-03-awaiting-approval")
