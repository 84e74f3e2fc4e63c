"""Finding 2 (issue 10): the anonymous opt-out was a list-membership oracle. A request that needs no
code (``opt_out``, ``marketing``) redirected its submitter to the signed status page, which read
"Opted out on ..." for an address on a mailing list and "No data about you found" for any other.

Now the submitter, on the portal and the API, gets the same answer for both addresses, and the
status link goes only to the address itself (in the acknowledgement e-mail)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from connectors.mailchimp.fake import FakeMailchimp
from connectors.testing.server import serve
from dsr.systems.models import System
from dsr.workflow.models import DataSubjectRequest, Status

pytestmark = pytest.mark.django_db

KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0-us6"
CUSTOMER = "customer@example.com"
STRANGER = "stranger@example.com"


@pytest.fixture
def newsletter() -> Iterator[FakeMailchimp]:
    """A Mailchimp list (the fake, over real HTTP) on which only CUSTOMER is subscribed."""
    with serve(FakeMailchimp(KEY)) as fake:
        assert isinstance(fake, FakeMailchimp)
        fake.add_member(fake.add_list("Newsletter").id, CUSTOMER)
        System.objects.create(
            key="newsletter",
            name="Newsletter",
            connector="mailchimp",
            config={"base_url": f"{fake.url}/3.0", "timeout": 2.0},
            secrets=json.dumps({"api_key": KEY}),
        )
        yield fake


def without_tokens(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def submit_on_portal(email: str, request_type: str) -> tuple[int, str, str]:
    """What a submitter sees: the redirect, and the page it leads to."""
    browser = Client()
    response = browser.post(f"/rights/US-CA/{request_type}/", {"email": email}, REMOTE_ADDR="203.0.113.50")
    page = browser.get(response["Location"])
    return response.status_code, response["Location"], without_tokens(page.content.decode())


def status_link_in(email: str) -> str:
    [message] = [m for m in mail.outbox if m.to == [email] and "We received your request" in m.subject]
    match = re.search(r"http://[^\s]+/status/[A-Z0-9-]+/[^\s/]+/", message.body)
    assert match is not None, message.body
    return match.group(0)


@pytest.mark.parametrize("request_type", ["opt_out", "marketing"])
def test_the_portal_answers_a_customer_and_a_stranger_byte_for_byte_the_same(
    newsletter: FakeMailchimp, request_type: str
) -> None:
    customer = submit_on_portal(CUSTOMER, request_type)
    stranger = submit_on_portal(STRANGER, request_type)

    assert customer == stranger
    status, location, page = customer
    assert (status, location) == (302, "/received/")
    assert "We received your request. You do not need to do anything else." in page
    assert "/status/DSR-" not in page
    assert "Opted out" not in page
    assert "No data about you found" not in page
    # The work was done all the same: the customer is unsubscribed, on Mailchimp's side.
    assert [m.status for m in newsletter.members_with_email(CUSTOMER)] == ["unsubscribed"]
    assert set(DataSubjectRequest.objects.values_list("status", flat=True)) == {Status.COMPLETED}


def test_the_api_answers_a_customer_and_a_stranger_alike_and_hands_out_no_status_link(
    newsletter: FakeMailchimp,
) -> None:
    def create(email: str) -> Any:
        return APIClient().post(
            "/api/v1/requests",
            {"type": "opt_out", "email": email, "jurisdiction": "US-CA"},
            format="json",
            REMOTE_ADDR="203.0.113.51",
        )

    customer, stranger = create(CUSTOMER), create(STRANGER)

    assert customer.status_code == stranger.status_code == 201
    per_request = ("id", "reference", "received_at", "due_at")
    assert {k: v for k, v in customer.json().items() if k not in per_request} == {
        k: v for k, v in stranger.json().items() if k not in per_request
    }
    assert "/status/" not in customer.content.decode() + stranger.content.decode()
    # Asking about the request afterwards (the verify endpoint answers a request that needs no
    # code with its status) does not tell the two apart either.
    later = [
        APIClient().post(f"/api/v1/requests/{r.json()['id']}/verify", {"code": "000000"}, format="json")
        for r in (customer, stranger)
    ]
    assert [(a.status_code, a.json()["status"]) for a in later] == [(200, "completed"), (200, "completed")]


def test_only_the_owner_of_the_address_reaches_the_status_page_through_the_emailed_link(
    newsletter: FakeMailchimp,
) -> None:
    submit_on_portal(CUSTOMER, "opt_out")
    submit_on_portal(STRANGER, "opt_out")

    # Opening the e-mailed link proves the address; only then does the page say what was found.
    customer_page = Client().get(status_link_in(CUSTOMER)).content.decode()
    stranger_page = Client().get(status_link_in(STRANGER)).content.decode()
    assert "Newsletter</strong>: Opted out on" in customer_page
    assert "Newsletter</strong>: No data about you found" in stranger_page


def test_the_received_page_speaks_the_persons_language(newsletter: FakeMailchimp) -> None:
    browser = Client()
    browser.cookies["django_language"] = "de"
    response = browser.post("/rights/DE/marketing/", {"email": CUSTOMER}, follow=True)
    assert "Wir haben Ihre Anfrage erhalten. Sie müssen nichts weiter tun." in response.content.decode()
    assert "Sehen Sie in Ihrem Spam-Ordner nach." in response.content.decode()
