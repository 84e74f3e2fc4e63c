"""The portal's pages through Django's test client: what each page offers, what it records, and
that no input produces a server error."""

from __future__ import annotations

import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from dsr.identity import crypto
from dsr.notifications.services import status_signature
from dsr.workflow.models import AuthorizedAgent, DataSubjectRequest, RequestType, Status
from tests.factories import RequestFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def upload(name: str, content: bytes) -> io.BytesIO:
    file = io.BytesIO(content)
    file.name = name
    return file


def rights_on_page(html: str) -> list[str]:
    return re.findall(r'href="/rights/[A-Z-]+/([a-z_]+)/"', html)


def test_the_start_page_suggests_the_country_of_the_browser_language(client: Client) -> None:
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="de-AT,de;q=0.9,en;q=0.5")
    assert page.status_code == 200
    # The browser prefers German, so the page is in German too.
    assert '<option value="AT" selected>Österreich</option>' in page.content.decode()


def test_choosing_the_united_states_without_a_state_asks_for_the_state(client: Client) -> None:
    page = client.get("/", {"country": "US", "state": ""})
    assert page.status_code == 200
    html = page.content.decode()
    assert "There is a problem" in html
    assert '<a href="#id_state">Choose the state where you live.</a>' in html


def test_choosing_a_state_leads_to_the_rights_of_that_state(client: Client) -> None:
    assert client.get("/", {"country": "US", "state": "US-CA"})["Location"] == "/rights/US-CA/"
    assert client.get("/", {"country": "DE", "state": "US-CA"})["Location"] == "/rights/DE/"


def test_germany_offers_every_right_with_a_due_date_one_month_away(client: Client) -> None:
    html = client.get("/rights/DE/").content.decode()
    assert rights_on_page(html) == ["access", "erasure", "correction", "opt_out", "marketing"]
    assert "(1 month)" in html


def test_utah_offers_no_correction_because_its_law_grants_none(client: Client) -> None:
    html = client.get("/rights/US-UT/").content.decode()
    assert rights_on_page(html) == ["access", "erasure", "opt_out", "marketing"]
    assert client.get("/rights/US-UT/correction/").status_code == 404


@pytest.mark.parametrize(
    ("jurisdiction", "rights"),
    [
        # Each law's rights (rule table; reference §1.3): no correction in Utah or Iowa; PIPEDA has
        # access and correction only; Quebec has no opt-out; marketing follows the opt-out right.
        ("US-VA", ["access", "erasure", "correction", "opt_out", "marketing"]),
        ("US-IA", ["access", "erasure", "opt_out", "marketing"]),
        ("US-NJ", ["access", "erasure", "correction", "opt_out", "marketing"]),
        ("US-RI", ["access", "erasure", "correction", "opt_out", "marketing"]),
        ("CH", ["access", "erasure", "correction", "opt_out", "marketing"]),
        ("CA", ["access", "correction"]),
        ("CA-QC", ["access", "erasure", "correction"]),
    ],
)
def test_each_law_is_offered_with_exactly_its_rights(
    client: Client, jurisdiction: str, rights: list[str]
) -> None:
    assert rights_on_page(client.get(f"/rights/{jurisdiction}/").content.decode()) == rights


def test_the_country_and_state_lists_name_every_supported_place(client: Client) -> None:
    html = client.get("/").content.decode()

    for code, name in [
        ("CH", "Switzerland"),
        ("CA", "Canada"),
        ("CA-QC", "Quebec (Canada)"),
        ("US", "United States"),
    ]:
        assert f'<option value="{code}">{name}</option>' in html
    states = re.findall(r'<option value="(US-[A-Z]{2})">([^<]+)</option>', html)
    assert [code for code, _name in states] == [
        "US-CA", "US-CO", "US-CT", "US-DE", "US-IN", "US-IA", "US-KY", "US-MD", "US-MN", "US-MT",
        "US-NE", "US-NH", "US-NJ", "US-OR", "US-RI", "US-TN", "US-TX", "US-UT", "US-VA",
    ]  # fmt: skip
    assert ("US-NH", "New Hampshire") in states
    assert client.get("/", {"country": "CA-QC"})["Location"] == "/rights/CA-QC/"


def test_a_state_whose_law_is_not_yet_in_force_is_told_when_it_takes_effect(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ind. Code art. 24-15 applies from 1 January 2026; today is 31 December 2025 in Indianapolis.
    today = datetime(2025, 12, 31, 12, tzinfo=ZoneInfo("America/Indiana/Indianapolis"))
    monkeypatch.setattr("django.utils.timezone.now", lambda: today)

    page = client.get("/rights/US-IN/")

    html = page.content.decode()
    assert page.status_code == 200
    assert (
        "The privacy law of Indiana (Indiana Consumer Data Protection Act) applies to requests received "
        "from 2026-01-01. It was not yet in force on 2025-12-31, so we cannot take this request under it."
    ) in html
    assert rights_on_page(html) == []
    assert client.get("/rights/US-IN/access/")["Location"] == "/rights/US-IN/"
    assert DataSubjectRequest.objects.count() == 0


def test_california_opt_out_is_due_in_15_business_days(client: Client) -> None:
    html = client.get("/rights/US-CA/opt_out/").content.decode()
    assert "the law gives us 15 business days (11 CCR §7026(f))" in html


def test_each_right_asks_only_for_the_identity_fields_it_needs(client: Client) -> None:
    def inputs(path: str) -> list[str]:
        html = client.get(path).content.decode()
        form = html.split('enctype="multipart/form-data"')[1].split("</form>")[0]
        return [n for n in re.findall(r'name="([a-z_]+)"', form) if n != "csrfmiddlewaretoken"]

    agent = ["is_agent", "agent_name", "agent_email", "agent_permission", "website"]
    assert inputs("/rights/DE/access/") == ["email", "full_name", *agent]
    assert inputs("/rights/DE/correction/") == ["email", "full_name", "details", *agent]
    assert inputs("/rights/US-CA/opt_out/") == ["email", *agent]


def test_unknown_places_and_rights_are_not_found(client: Client) -> None:
    assert client.get("/rights/XX/").status_code == 404
    assert client.get("/rights/DE/appeal/").status_code == 404
    assert client.get("/rights/DE/nonsense/").status_code == 404
    assert client.get("/rights/<script>/access/").status_code == 404


def test_an_access_request_sends_a_code_in_the_pages_language(
    client: Client, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    client.cookies["django_language"] = "fr"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/rights/FR/access/", {"email": "Ana@Example.com", "full_name": "Ana"})
    request = DataSubjectRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/requests/{request.pk}/verify/"
    assert (request.type, request.channel, request.language, request.email) == (
        "access",
        "portal",
        "fr",
        "ana@example.com",
    )
    [mail] = mailoutbox
    assert mail.subject == f"Votre code de vérification pour la demande {request.reference}"


def test_a_filled_honeypot_creates_nothing_and_says_why(client: Client, mailoutbox) -> None:
    response = client.post("/rights/DE/access/", {"email": "bot@example.com", "website": "http://spam"})
    assert response.status_code == 400
    assert "Leave this field empty: it is there to catch automated spam." in response.content.decode()
    assert DataSubjectRequest.objects.count() == 0
    assert mailoutbox == []


def test_more_submissions_than_the_limit_from_one_address_are_refused_politely(
    client: Client, settings
) -> None:
    settings.DSR_RATE_LIMITS = {**settings.DSR_RATE_LIMITS, "create:ip": "2/hour"}
    for n in range(2):
        assert client.post("/rights/DE/erasure/", {"email": f"p{n}@example.com"}).status_code == 302
    refused = client.post("/rights/DE/erasure/", {"email": "p3@example.com"})
    assert refused.status_code == 429
    assert "Please wait an hour, then try again." in refused.content.decode()
    assert DataSubjectRequest.objects.count() == 2


def test_a_correction_needs_the_details_of_what_is_wrong(client: Client) -> None:
    response = client.post("/rights/DE/correction/", {"email": "a@example.com", "details": ""})
    assert response.status_code == 400
    assert '<a href="#id_details">This field is required.</a>' in response.content.decode()
    ok = client.post("/rights/DE/correction/", {"email": "a@example.com", "details": "My street is Hill St."})
    assert ok.status_code == 302
    assert DataSubjectRequest.objects.get().details == "My street is Hill St."


def test_an_agents_signed_permission_is_stored_encrypted(client: Client) -> None:
    response = client.post(
        "/rights/US-CA/erasure/",
        {
            "email": "consumer@example.com",
            "is_agent": "on",
            "agent_name": "Agent Smith",
            "agent_email": "Agent@Example.com",
            "agent_permission": upload("permission.pdf", PDF),
        },
    )
    assert response.status_code == 302
    agent = AuthorizedAgent.objects.get()
    assert (agent.name, agent.email, agent.permission_content_type, agent.permission_size) == (
        "Agent Smith",
        "agent@example.com",
        "application/pdf",
        len(PDF),
    )
    stored = default_storage.open(agent.permission_path).read()
    assert PDF not in stored
    assert crypto.decrypt_bytes(stored) == PDF


def test_a_permission_that_is_not_a_pdf_or_image_or_too_large_is_refused(client: Client, settings) -> None:
    base = {"email": "c@example.com", "is_agent": "on", "agent_name": "A", "agent_email": "a@example.com"}
    wrong = client.post(
        "/rights/US-CA/access/", {**base, "agent_permission": upload("x.pdf", b"MZ\x90\x00exe")}
    )
    assert wrong.status_code == 400
    assert "The permission file must be a PDF, PNG or JPEG." in wrong.content.decode()
    big = client.post(
        "/rights/US-CA/access/", {**base, "agent_permission": upload("x.pdf", PDF + b"0" * (5 * 1024 * 1024))}
    )
    assert big.status_code == 400
    assert "The permission file must be 5 MB or smaller." in big.content.decode()
    missing = client.post("/rights/US-CA/access/", base)
    assert "Upload the signed permission." in missing.content.decode()
    assert DataSubjectRequest.objects.count() == 0


def test_an_opt_out_from_a_gpc_browser_is_recorded_as_signalled_without_a_code(
    client: Client, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/rights/US-CA/opt_out/", {"email": "gpc@example.com"}, HTTP_SEC_GPC="1")
    request = DataSubjectRequest.objects.get()
    assert (response.status_code, response["Location"]) == (302, "/received/")
    assert (request.type, request.gpc_signalled, request.verified_at) == ("opt_out", True, None)
    # No connected system can opt out automatically yet: the privacy team is asked to do it.
    assert request.status == Status.ACTION_REQUIRED
    assert [m.subject for m in mailoutbox] == [f"We received your request {request.reference}"]
    assert "The law does not require us to check your identity for it" in mailoutbox[0].body
    link = f"/status/{request.reference}/{status_signature(reference=request.reference)}/"
    assert link in mailoutbox[0].body  # the status page is reached from the e-mail only
    page = client.get(link).content.decode()
    assert "Sent with your browser's Global Privacy Control signal" in page


def test_a_gpc_browser_is_told_its_signal_is_honoured_on_every_page(client: Client) -> None:
    assert "Opt-out preference signal honoured." in client.get("/", HTTP_SEC_GPC="1").content.decode()
    assert "Opt-out preference signal honoured." not in client.get("/").content.decode()
    assert client.get("/rights/DE/")["Vary"] == "Sec-GPC, Cookie, Accept-Language"


def test_the_status_page_needs_the_signed_link_and_a_reference_alone_shows_nothing(client: Client) -> None:
    request = RequestFactory(status=Status.IN_PROGRESS)
    good = client.get(f"/status/{request.reference}/{status_signature(reference=request.reference)}/")
    assert good.status_code == 200
    forged = client.get(f"/status/{request.reference}/forged/")
    unknown = client.get(f"/status/DSR-AAAA-AAAA/{status_signature(reference='DSR-AAAA-AAAA')[:-1]}x/")
    assert (forged.status_code, unknown.status_code) == (404, 404)

    def without_csrf(content: bytes) -> str:
        return re.sub(r'name="(csrfmiddlewaretoken|next)" value="[^"]+"', "", content.decode())

    assert without_csrf(forged.content) == without_csrf(unknown.content)


def test_a_verified_requests_page_does_not_hand_out_the_status_link(client: Client) -> None:
    request = RequestFactory(status=Status.AWAITING_APPROVAL)
    html = client.get(f"/requests/{request.pk}/verify/").content.decode()
    assert "This request is already confirmed" in html
    assert f"/status/{request.reference}" not in html
    assert '<a href="/status/">Get the link to your request again</a>' in html


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/rights/DE/access/", {"email": "x" * 300}),
        ("/rights/DE/access/", {"email": "a@example.com", "full_name": "\x00" * 10}),
        ("/rights/DE/access/", {"email": ["a@example.com", "b@example.com"], "is_agent": "maybe"}),
        (
            "/rights/DE/access/",
            {"email": "a@example.com", "is_agent": "on", "agent_permission": "not a file"},
        ),
        ("/rights/de/opt_out/", {"email": "🙂@example.com"}),
    ],
)
def test_odd_input_is_answered_without_a_server_error(client: Client, path: str, data: dict) -> None:
    assert client.post(path, data).status_code in (302, 400)


def test_odd_codes_are_answered_without_a_server_error(client: Client) -> None:
    request = RequestFactory()
    for code in ["", "abc", "1" * 500, "12345\x00", "١٢٣٤٥٦"]:
        assert client.post(f"/requests/{request.pk}/verify/", {"code": code}).status_code == 400
    assert client.get("/requests/not-a-uuid/verify/").status_code == 404
    assert client.get(f"/status/{'A' * 500}/{'b' * 500}/").status_code == 404


def test_the_request_types_of_the_api_are_unchanged_for_access_and_erasure() -> None:
    assert RequestType.ACCESS.value == "access"
    assert RequestType.ERASURE.value == "erasure"


def test_a_lost_status_link_is_emailed_only_when_reference_and_address_match(
    client: Client, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    request = RequestFactory(email="kim@example.com", status=Status.IN_PROGRESS)
    with django_capture_on_commit_callbacks(execute=True):
        matching = client.post(
            "/status/", {"reference": request.reference.lower(), "email": "KIM@example.com"}
        )
        wrong_address = client.post("/status/", {"reference": request.reference, "email": "eve@example.com"})
        unknown = client.post("/status/", {"reference": "DSR-AAAA-AAAA", "email": "kim@example.com"})
    assert matching.status_code == wrong_address.status_code == unknown.status_code == 200
    sent = "we have e-mailed the link to its status page to that address."
    assert all(sent in r.content.decode() for r in (matching, wrong_address, unknown))
    [mail] = mailoutbox
    assert mail.to == ["kim@example.com"]
    assert mail.subject == f"The status page of your request {request.reference}"
    link = f"/status/{request.reference}/{status_signature(reference=request.reference)}/"
    assert link in mail.body


def test_a_malformed_reference_is_explained(client: Client) -> None:
    response = client.post("/status/", {"reference": "12345", "email": "kim@example.com"})
    assert response.status_code == 400
    assert (
        "Enter the reference as it appears in our e-mails, like DSR-AB12-CD34." in response.content.decode()
    )


def test_the_brand_colour_comes_from_settings_as_a_stylesheet_of_our_origin(client: Client, settings) -> None:
    settings.DSR_BRAND_PRIMARY_COLOR = "#7a1fa2"
    assert client.get("/brand.css").content == b":root { --brand: #7a1fa2; }\n"
    settings.DSR_BRAND_PRIMARY_COLOR = "red; } body { display: none"
    assert client.get("/brand.css").content == b":root { --brand: #0b5394; }\n"


def test_branding_settings_show_on_every_page(client: Client, settings) -> None:
    settings.DSR_BRAND_NAME = "Acme Shop"
    settings.DSR_PRIVACY_POLICY_URL = "https://acme.example/privacy"
    html = client.get("/").content.decode()
    assert "<title>Your privacy rights \N{EN DASH} Acme Shop</title>" in html
    assert '<a href="https://acme.example/privacy">Acme Shop privacy policy</a>' in html
