"""index.html as the person sees it: headless Chromium at desktop and phone widths, offline."""

from __future__ import annotations

import os

import pytest

from connectors import Record
from tests.exports.conftest import ADS_INVENTORY, TARGET_RECORDS
from tests.factories import SystemFactory
from tests.support.browser import ARTIFACTS, screenshot

pytestmark = [pytest.mark.django_db, pytest.mark.browser]

# Playwright's sync API keeps an event loop running in the main thread for the rest of the session
# once the browser has started; the ORM calls of the tests are synchronous, so Django's async-safety
# check does not apply (the portal tests set the same).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.mark.parametrize("device", WIDTHS)
def test_index_html_renders_without_any_network_request_and_fits_the_screen(
    answer, shop_system, browser, tmp_path, device
):
    ads = SystemFactory(key="ads", name="Ad platform", **ADS_INVENTORY)
    orders = [
        Record(category="orders", data={"id": 200 + i, "item": f"Item {i}", "amount": "9.90"})
        for i in range(6)
    ]
    answered = answer(
        {shop_system: [*TARGET_RECORDS, *orders], ads: [Record("profile", {"segment": "lamps"})]}
    )
    folder = tmp_path / "package"
    answered.zip().extractall(folder)
    width, height = WIDTHS[device]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto((folder / "index.html").as_uri())
    page.wait_for_load_state("load")
    shot = screenshot(page, f"access-package-index-{device}")
    page.screenshot(path=str(ARTIFACTS / f"access-package-index-{device}-first-screen.png"))
    page.locator("#system-shop").screenshot(
        path=str(ARTIFACTS / f"access-package-index-{device}-web-shop.png")
    )

    assert requested == [(folder / "index.html").as_uri()]
    assert page.title() == f"Your personal data — request {answered.request.reference}"
    assert page.locator("h1").inner_text() == "Your personal data"
    # Nothing wider than the screen except inside the scrollable table boxes.
    assert page.evaluate("document.documentElement.scrollWidth") == width
    assert page.locator("#system-shop h2").inner_text() == "Web shop"
    assert page.locator("#system-ads h2").inner_text() == "Ad platform"
    assert shot.stat().st_size > 10_000
    context.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("state", ["ready", "refused"])
def test_the_download_page_reads_well_on_a_phone(answer, shop_system, browser, live_server, state):
    from dsr.notifications.services import download_token

    answered = answer({shop_system: TARGET_RECORDS})
    token = download_token(request=answered.request)
    if state == "refused":
        token = token[:-3] + "xyz"
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    response = page.goto(f"{live_server.url}/requests/{answered.request.pk}/download?token={token}")
    screenshot(page, f"download-page-{state}-phone")
    if state == "ready":
        assert response.status == 200
        assert page.locator("h1").inner_text() == "Download your data"
        assert page.get_by_role("button", name="Send me a code").is_visible()
    else:
        assert response.status == 403
        assert page.locator("h1").inner_text() == "This download link does not work"
    assert page.evaluate("document.documentElement.scrollWidth") == 390
    context.close()
