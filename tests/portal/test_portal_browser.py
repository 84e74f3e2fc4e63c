"""A person uses the portal in headless Chromium: submit, read the code from a real SMTP listener,
verify, follow the status; wrong codes and the lockout; the GPC signal; a language switch; a phone.

Every page visited is checked with axe-core (no serious or critical violation) and saved as a
screenshot under artifacts/screenshots/portal-*.png.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from dsr.workflow.models import AuthorizedAgent, DataSubjectRequest, Status
from tests.portal.conftest import check_page
from tests.support.smtp import SmtpListener, code_from

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def text(locator: Any) -> str:
    """The element's visible text with whitespace collapsed, as a person reads it."""
    return " ".join(locator.inner_text().split())


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_person_asks_to_see_their_data_and_confirms_with_the_emailed_code(
    live_server: Any, page: Any, smtp: SmtpListener
) -> None:
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "Your privacy rights"
    check_page(page, "portal-01-start")

    page.get_by_label("Country where you live").select_option("DE")
    page.get_by_role("button", name="Continue").click()
    assert page.locator("h1").inner_text() == "What would you like to do?"
    assert page.locator(".right-card h2").all_inner_texts() == [
        "See my data",
        "Delete my data",
        "Correct my data",
        "Stop the sale or sharing of my data",
        "Manage marketing preferences",
    ]
    check_page(page, "portal-02-rights-germany")

    page.get_by_role("link", name="See my data").click()
    assert "the law gives us 1 month (GDPR Art. 12(3))" in page.locator(".next-steps").inner_text()
    check_page(page, "portal-03-access-form")

    page.get_by_role("button", name="Continue and send me a code").click()
    summary = page.locator("[data-error-summary]")
    assert summary.locator("li").all_inner_texts() == ["This field is required."]
    expect(summary).to_be_focused()  # moved there by the deferred script, once it has run
    check_page(page, "portal-04-access-form-errors")

    page.get_by_label("Your e-mail address").fill("Ana.Lopez@Example.com")
    page.get_by_label("Your full name (optional)").fill("Ana López")
    page.get_by_role("button", name="Continue and send me a code").click()
    assert page.locator("h1").inner_text() == "Check your e-mail"
    request = DataSubjectRequest.objects.get()
    assert request.reference in page.locator("main").inner_text()
    check_page(page, "portal-05-verify")

    code = code_from(smtp.wait_for(to="ana.lopez@example.com", subject_contains="verification code"))
    page.get_by_label("Code from the e-mail").fill(code)
    page.get_by_role("button", name="Confirm").click()
    assert page.locator("h1").inner_text() == f"Request {request.reference}"
    assert page.get_by_test_id("status").inner_text() == "Waiting for approval"
    assert "Thank you: your e-mail address is confirmed." in page.locator(".notice").inner_text()
    check_page(page, "portal-06-status-awaiting-approval")

    acknowledged = smtp.wait_for(to="ana.lopez@example.com", subject_contains="We received your request")
    status_link = acknowledged.text.split("status page:")[1].split()[0]
    assert status_link.endswith(page.url.removeprefix(live_server.url))

    # Lost the link? The reference and the address bring it back, by e-mail only.
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Already made a request? Find it here.").click()
    check_page(page, "portal-06b-status-lookup")
    page.get_by_label("Reference").fill(request.reference)
    page.get_by_label("Your e-mail address").fill("ana.lopez@example.com")
    page.get_by_role("button", name="E-mail me the link").click()
    assert "we have e-mailed the link to its status page" in page.locator("[role=status]").inner_text()
    check_page(page, "portal-06c-status-lookup-sent")
    again = smtp.wait_for(to="ana.lopez@example.com", subject_contains="The status page of your request")
    assert status_link in again.text


def test_wrong_codes_say_how_many_attempts_are_left_then_lock_until_a_new_code(
    live_server: Any, page: Any, smtp: SmtpListener, settings: Any
) -> None:
    settings.DSR_CODE_RESEND_INTERVAL = timedelta(0)
    page.goto(live_server.url + "/rights/FR/erasure/")
    page.get_by_label("Your e-mail address").fill("leo@example.com")
    page.get_by_role("button", name="Continue and send me a code").click()
    code = code_from(smtp.wait_for(to="leo@example.com", subject_contains="verification code"))

    for left in (4, 3, 2, 1):
        page.get_by_label("Code from the e-mail").fill(wrong_code(code))
        page.get_by_role("button", name="Confirm").click()
        plural = "attempt" if left == 1 else "attempts"
        assert text(page.locator("#id_code_error")) == (
            f"Error: That code is not correct. You have {left} {plural} left."
        )
    check_page(page, "portal-07-verify-wrong-code")

    page.get_by_label("Code from the e-mail").fill(wrong_code(code))
    page.get_by_role("button", name="Confirm").click()
    assert text(page.locator("#id_code_error")) == (
        "Error: Too many wrong codes: this code is locked. Ask for a new code below."
    )
    check_page(page, "portal-08-verify-locked")

    # Even the right code is refused once locked.
    page.get_by_label("Code from the e-mail").fill(code)
    page.get_by_role("button", name="Confirm").click()
    assert "this code is locked" in text(page.locator("#id_code_error"))

    page.get_by_role("button", name="Send me a new code").click()
    assert page.locator(".notice").inner_text() == "We sent a new code. It replaces the previous one."
    fresh = code_from(smtp.wait_for(to="leo@example.com", subject_contains="verification code"))
    page.get_by_label("Code from the e-mail").fill(fresh)
    page.get_by_role("button", name="Confirm").click()
    assert page.get_by_test_id("status").inner_text() == "Waiting for approval"
    assert DataSubjectRequest.objects.get().status == Status.AWAITING_APPROVAL


def test_a_browser_sending_gpc_is_told_the_signal_is_honoured_and_its_opt_out_is_recorded_as_signalled(
    live_server: Any, new_page: Any, smtp: SmtpListener
) -> None:
    page = new_page(headers={"Sec-GPC": "1"})
    page.goto(live_server.url + "/")
    assert page.get_by_test_id("gpc-banner").inner_text().startswith("Opt-out preference signal honoured.")
    check_page(page, "portal-09-gpc-start")

    page.goto(live_server.url + "/rights/US-CA/")
    page.get_by_role("link", name="Stop the sale or sharing of my data").click()
    assert "Global Privacy Control signal already opts this browser out" in page.locator("main").inner_text()
    assert "the law gives us 15 business days (11 CCR §7026(f))" in page.locator(".next-steps").inner_text()
    check_page(page, "portal-10-gpc-opt-out-form")

    page.get_by_label("Your e-mail address").fill("sam@example.com")
    page.get_by_role("button", name="Send my request").click()
    request = DataSubjectRequest.objects.get()
    assert (request.type, request.gpc_signalled, request.verified_at) == ("opt_out", True, None)
    # The same page for any address: the status page is reached from the e-mail only.
    assert page.get_by_test_id("received").inner_text() == (
        "We received your request. You do not need to do anything else."
    )
    assert "/status/DSR-" not in page.content()
    check_page(page, "portal-11-gpc-opt-out-received")
    mail = smtp.wait_for(to="sam@example.com", subject_contains="We received your request")
    assert "The law does not require us to check your identity for it" in mail.text
    link = re.search(r"/status/\S+/", mail.text)
    assert link is not None
    page.goto(live_server.url + link.group(0))
    assert page.get_by_test_id("gpc-recorded").inner_text() == (
        "Sent with your browser's Global Privacy Control signal"
    )
    # Nothing opts out automatically yet, so the privacy team does it; the person just sees progress.
    assert page.get_by_test_id("status").inner_text() == "In progress"
    check_page(page, "portal-11-gpc-opt-out-status")


def test_switching_to_german_translates_the_portal_and_the_emails(
    live_server: Any, page: Any, smtp: SmtpListener
) -> None:
    page.goto(live_server.url + "/")
    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Change").click()
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("h1").inner_text() == "Ihre Datenschutzrechte"
    check_page(page, "portal-12-german-start")

    page.get_by_label("Land, in dem Sie leben").select_option("DE")
    page.get_by_role("button", name="Weiter").click()
    page.get_by_role("link", name="Meine Daten einsehen").click()
    check_page(page, "portal-13-german-form")
    page.get_by_label("Ihre E-Mail-Adresse").fill("jonas@example.com")
    page.get_by_role("button", name="Weiter und Code senden").click()
    assert page.locator("h1").inner_text() == "Prüfen Sie Ihre E-Mails"
    check_page(page, "portal-14-german-verify")

    request = DataSubjectRequest.objects.get()
    assert request.language == "de"
    mail = smtp.wait_for(to="jonas@example.com", subject_contains="Bestätigungscode")
    # (stripped: the SMTP listener keeps the space that folds a long encoded header)
    assert mail.subject.strip() == f"Ihr Bestätigungscode für die Anfrage {request.reference}"
    page.get_by_label("Code aus der E-Mail").fill(code_from(mail))
    page.get_by_role("button", name="Bestätigen").click()
    assert page.get_by_test_id("status").inner_text() == "Wartet auf Freigabe"
    check_page(page, "portal-15-german-status")
    acknowledged = smtp.wait_for(to="jonas@example.com", subject_contains=request.reference)
    assert acknowledged.subject.strip() == f"Wir haben Ihre Anfrage {request.reference} erhalten"


def test_an_authorized_agent_uploads_the_signed_permission_on_a_320_pixel_phone(
    live_server: Any, new_page: Any, smtp: SmtpListener
) -> None:
    page = new_page(width=320, height=700)

    def fits() -> bool:
        return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))

    page.goto(live_server.url + "/")
    # The browser's language (en-US) suggests the United States, so the state picker shows; it hides
    # for any other country.
    assert page.get_by_label("Country where you live").input_value() == "US"
    page.get_by_label("Country where you live").select_option("DE")
    assert page.get_by_label("State (United States only)").is_hidden()
    page.get_by_label("Country where you live").select_option("US")
    page.get_by_label("State (United States only)").select_option("US-CA")
    assert fits()
    check_page(page, "portal-16-phone-start")
    page.get_by_role("button", name="Continue").click()
    assert fits()
    check_page(page, "portal-17-phone-rights-california")

    page.get_by_role("link", name="Delete my data").click()
    page.get_by_label("Your e-mail address").fill("maria@example.com")
    page.get_by_text("Are you making this request for someone else?").click()
    page.get_by_label("I am an authorized agent making this request for someone else").check()
    page.get_by_label("Agent's name").fill("Privacy Helpers Inc.")
    page.get_by_label("Agent's e-mail address").fill("agent@helpers.example")
    page.get_by_label("Signed permission from the person").set_input_files(
        {"name": "permission.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64}
    )
    assert fits()
    check_page(page, "portal-18-phone-agent-form")
    page.get_by_role("button", name="Continue and send me a code").click()
    assert page.locator("h1").inner_text() == "Check your e-mail"
    assert fits()
    check_page(page, "portal-19-phone-verify")

    agent = AuthorizedAgent.objects.get()
    assert (agent.name, agent.email, agent.permission_content_type) == (
        "Privacy Helpers Inc.",
        "agent@helpers.example",
        "image/png",
    )
    # The code goes to the person, who confirms the request directly (11 CCR §7063(a)(2)).
    code = code_from(smtp.wait_for(to="maria@example.com", subject_contains="verification code"))
    page.get_by_label("Code from the e-mail").fill(code)
    page.get_by_role("button", name="Confirm").click()
    assert page.locator(".facts").inner_text().count("An authorized agent, with your signed permission") == 1
    assert fits()
    check_page(page, "portal-20-phone-status")
