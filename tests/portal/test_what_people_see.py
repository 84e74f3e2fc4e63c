"""What the person reads on the portal and in the completion e-mail: where the request stands
(an ordered progress list), what an erasure kept and why, a warning before a permanent deletion,
dates in their language's format and countries in their language's alphabetical order."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.utils import timezone, translation

from dsr.notifications.services import email_send_status, status_signature
from dsr.portal.rights import collation_key
from dsr.workflow import deadlines
from dsr.workflow.models import ConnectorJob, JobStatus, Status
from tests.factories import RequestFactory, SystemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_language_afterwards():  # type: ignore[no-untyped-def]
    # LocaleMiddleware leaves the last request's language active in this thread; a German page
    # here must not make the next module's plain function calls German.
    yield
    translation.deactivate()


def _status_page(client: Client, request, **headers) -> str:  # type: ignore[no-untyped-def]
    url = f"/status/{request.reference}/{status_signature(reference=request.reference)}/"
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode()


def _progress(html: str) -> list[str]:
    """The progress list as "label" or "label [current]", hidden state words stripped."""
    block = html.split('data-testid="progress">')[1].split("</ol>")[0]
    steps = []
    for attrs, body in re.findall(r"<li([^>]*)>(.*?)</li>", block):
        label = re.sub(r"<span.*?</span>", "", body).strip()
        steps.append(label + (" [current]" if 'aria-current="step"' in attrs else ""))
    return steps


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize(
    ("status", "extra", "expected"),
    [
        (Status.PENDING_VERIFICATION, {}, ["Received [current]", "Confirmed", "In progress", "Done"]),
        (Status.AWAITING_APPROVAL, {}, ["Received", "Confirmed [current]", "In progress", "Done"]),
        (Status.ACTION_REQUIRED, {}, ["Received", "Confirmed", "In progress [current]", "Done"]),
        (Status.COMPLETED, {}, ["Received", "Confirmed", "In progress", "Done [current]"]),
        (Status.DENIED, {"verified_at": timezone.now()}, ["Received", "Confirmed", "Denied [current]"]),
        (Status.EXPIRED, {}, ["Received", "Expired [current]"]),
    ],
)
def test_the_status_page_shows_where_the_request_stands(client, status, extra, expected):
    request = RequestFactory(status=status, **extra)
    html = _status_page(client, request)
    assert '<ol class="progress" aria-label="Progress of your request" data-testid="progress">' in html
    assert _progress(html) == expected
    assert html.count('aria-current="step"') == 1


def test_right_after_confirming_the_page_says_work_starts_once_the_request_is_approved(client):
    waiting = _text(_status_page(client, RequestFactory(status=Status.AWAITING_APPROVAL)))
    assert "Work in our systems starts once our privacy team has approved your request." in waiting
    assert "starts once your request is confirmed" not in waiting
    unconfirmed = _text(_status_page(client, RequestFactory(status=Status.PENDING_VERIFICATION)))
    assert "Work in our systems starts once your request is confirmed." in unconfirmed


def test_the_deletion_form_warns_that_deletion_is_permanent(client):
    html = client.get("/rights/DE/erasure/").content.decode()
    warning = _text(html.split('data-testid="erase-warning">')[1].split("</div>")[0])
    assert warning.startswith("Deletion is permanent. Once we have deleted your data we cannot restore it")
    assert 'aria-describedby="erase-warning"' in html
    assert "erase-warning" not in client.get("/rights/DE/access/").content.decode()


def _erased_with_invoices_kept():  # type: ignore[no-untyped-def]
    request = RequestFactory(type="erasure", status=Status.COMPLETED, closed_at=timezone.now())
    shop = SystemFactory(key="shop", name="Web shop", retention="Invoices: 10 years after the sale")
    ConnectorJob.objects.create(
        request=request, system=shop, action="erase", status=JobStatus.SUCCEEDED, finished_at=timezone.now(),
        records_found=5, records_erased=3, records_retained=2, method="deleted",
        detail={"retained": [{"category": "invoices", "count": 2, "basis": "Tax records (HGB §257, AO §147)",
                              "retention": "10 years"}]},
    )  # fmt: skip
    return request


def test_the_status_page_says_which_records_were_kept_why_and_for_how_long(client):
    request = _erased_with_invoices_kept()
    html = _status_page(client, request)
    kept = _text(html.split('data-testid="kept">')[1].split("</ul>")[0])
    assert kept == (
        "2 records kept from “invoices”. Why: Tax records (HGB §257, AO §147). "
        "Retention policy of this system: 10 years"
    )


def test_the_completion_email_says_which_records_were_kept_and_why(mailoutbox):
    request = _erased_with_invoices_kept()
    email_send_status(request=request, kind="completed")
    [mail] = mailoutbox
    assert (
        "- Web shop: 3 records erased, 2 records kept as the law requires\n"
        "  * 2 records kept from “invoices”. Why: Tax records (HGB §257, AO §147). "
        "Retention policy of this system: 10 years\n"
    ) in mail.body
    assert "2 records kept from “invoices”. Why: Tax records (HGB §257, AO §147)." in mail.alternatives[0][0]


def test_a_german_reader_sees_german_dates_the_dsgvo_and_kept_records_in_german(client):
    received = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    schedule = deadlines.schedule_for(jurisdiction="DE", request_type="access", received_at=received)
    request = RequestFactory(
        status=Status.IN_PROGRESS, language="de", received_at=received, due_at=schedule.respond.due_at
    )
    text = _text(_status_page(client, request, HTTP_ACCEPT_LANGUAGE="de"))
    assert "Eingegangen 1. Dezember 2026" in text
    assert "1. Januar 2027" in text
    assert "(DSGVO Art. 12(3))" in text
    assert "GDPR" not in text


def test_country_lists_follow_the_alphabet_of_the_readers_language(client):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    names = re.findall(r'<option value="[A-Z]{2}"[^>]*>([^<]+)</option>', html.split('name="country"')[1])
    assert names.index("Norwegen") + 1 == names.index("Österreich") == names.index("Polen") - 1
    assert names.index("Dänemark") < names.index("Deutschland")
    assert names[-1] == "Zypern"
    assert sorted(["Perú", "Países Bajos", "Noruega", "Ñandú"], key=lambda n: collation_key(n, "es")) == [
        "Noruega", "Ñandú", "Países Bajos", "Perú",
    ]  # fmt: skip
