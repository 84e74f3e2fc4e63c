"""One erasure request fans out to four connectors at once on the real worker: the SQL warehouse on
PostgreSQL, HubSpot, Mailchimp and Klaviyo (an asynchronous vendor job). HubSpot first answers
429 with Retry-After and Mailchimp fails twice with 503; the request still completes with exact
counts per system, and every vendor saw each erasure exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rest_framework.test import APIClient

from connectors.hubspot.fake import FakeHubSpot
from connectors.klaviyo.fake import DEFAULT_KEY as KLAVIYO_KEY
from connectors.klaviyo.fake import FakeKlaviyo
from connectors.mailchimp.fake import FakeMailchimp
from connectors.sql.sample import TARGET_EMAIL
from connectors.testing.server import FakeServer, Fault, serve
from dsr.systems.services import systems_apply_file
from tests.e2e.test_request_end_to_end import submit_and_verify
from tests.support.smtp import SmtpListener
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HUBSPOT_TOKEN = "pat-na1-e2e00000-1111-2222-3333-444444444444"
MAILCHIMP_KEY = "e2e0123456789abcdef0123456789ab-us6"


@pytest.fixture
def vendors() -> Iterator[dict[str, Any]]:
    """The three vendor fakes on loopback, seeded with the subject (twice, in two letter cases) and decoys."""
    hubspot, mailchimp, klaviyo = FakeHubSpot(HUBSPOT_TOKEN), FakeMailchimp(MAILCHIMP_KEY), FakeKlaviyo()
    for fake in (hubspot, mailchimp, klaviyo):
        fake.start()
    for email, marker in [
        (TARGET_EMAIL, "target-1"),
        ("Jane.Doe@Example.COM", "target-2"),
        ("jane.doe+news@example.com", "decoy-1"),
    ]:
        hubspot.add_contact(email=email, firstname="Jane", lastname="Doe", company=marker)
        klaviyo.add_profile(email, first_name="Jane", organization=marker)
    newsletter, customers = mailchimp.add_list("Newsletter"), mailchimp.add_list("Customers")
    mailchimp.add_member(newsletter.id, TARGET_EMAIL, FNAME="Jane")
    mailchimp.add_member(customers.id, "Jane.Doe@Example.COM", FNAME="Jane")
    mailchimp.add_member(newsletter.id, "jane.doe+news@example.com", FNAME="Jane")
    yield {"hubspot": hubspot, "mailchimp": mailchimp, "klaviyo": klaviyo}
    for fake in (hubspot, mailchimp, klaviyo):
        fake.stop()


@pytest.fixture
def saas_systems(vendors: dict[str, Any], warehouse: dict[str, Any], tmp_path: Path) -> None:
    """The vendors as systems; the worker reaches the fakes through ``base_url``."""
    systems = [
        {
            "key": "crm",
            "name": "HubSpot",
            "connector": "hubspot",
            "config": {
                "access_token": HUBSPOT_TOKEN,
                "base_url": vendors["hubspot"].url,
                "timeout": 5,
                "page_size": 2,
            },
        },
        {
            "key": "newsletter",
            "name": "Mailchimp",
            "connector": "mailchimp",
            "config": {"api_key": MAILCHIMP_KEY, "base_url": f"{vendors['mailchimp'].url}/3.0", "timeout": 5},
        },
        {
            "key": "marketing",
            "name": "Klaviyo",
            "connector": "klaviyo",
            "config": {
                "api_key": KLAVIYO_KEY,
                "base_url": vendors["klaviyo"].url,
                "poll_interval": 0.5,  # seconds between polls of the deletion job (300 in production)
                "timeout": 5,
            },
        },
    ]
    path = tmp_path / "saas.yaml"
    path.write_text(yaml.safe_dump({"systems": systems}))
    systems_apply_file(path=path)


def test_one_erasure_through_sql_hubspot_mailchimp_and_klaviyo_completes_with_exact_counts_despite_faults(
    api: APIClient,
    staff_client,
    smtp: SmtpListener,
    warehouse: dict[str, Any],
    vendors: dict[str, Any],
    saas_systems: None,
    worker,
) -> None:
    hubspot, mailchimp, klaviyo = vendors["hubspot"], vendors["mailchimp"], vendors["klaviyo"]
    hubspot.inject(Fault.rate_limited(1))  # the first HubSpot call: 429, Retry-After: 1
    mailchimp.inject(Fault.server_error(503), times=2)  # the first two Mailchimp calls: 503
    staff = staff_client("approver")
    request_id = submit_and_verify(api, smtp, type="erasure", email=TARGET_EMAIL)

    assert staff.post(f"/api/v1/staff/requests/{request_id}/approve").json()["status"] == "in_progress"

    def settled() -> dict[str, Any] | None:
        klaviyo.advance()  # the vendor's clock: its deletion job finishes after two ticks
        body: dict[str, Any] = staff.get(f"/api/v1/staff/requests/{request_id}").json()
        return body if body["status"] != "in_progress" else None

    detail = wait_until(settled, timeout=90, interval=0.25, what=lambda: f"request settled:\n{worker.log()}")

    assert detail["status"] == "completed", (detail, worker.log())
    jobs = {job["system"]["key"]: job for job in detail["jobs"]}
    outcome = {
        key: (
            job["status"],
            job["records_found"],
            job["records_erased"],
            job["records_retained"],
            job["method"],
        )
        for key, job in jobs.items()
    }
    seed = warehouse["seed"]
    customers, orders, invoices = (
        len(seed.target_customer_ids),
        len(seed.target_order_ids),
        len(seed.target_invoice_ids),
    )
    assert outcome == {
        "warehouse": ("succeeded", customers + orders + invoices, customers + orders, invoices, "anonymised"),
        "crm": ("succeeded", 2, 2, 0, "deleted"),
        "newsletter": ("succeeded", 2, 2, 0, "deleted"),
        "marketing": ("succeeded", 2, 2, 0, "deleted"),
    }
    # The faults really happened, and were retried by the worker rather than failing the jobs.
    assert [r.fault for r in hubspot.requests if r.fault] == ["rate_limited"]
    assert [r.fault for r in mailchimp.requests if r.fault] == ["server_error_503", "server_error_503"]
    assert (jobs["crm"]["attempts"], jobs["newsletter"]["attempts"]) == (2, 3)
    # Each erasure happened once: one GDPR delete per contact, one permanent delete per audience
    # membership, one Klaviyo deletion job (polled, never resubmitted).
    assert hubspot.mutation_count == 2
    assert len(hubspot.requests_to("POST", r"/gdpr-delete$")) == 2
    assert mailchimp.mutation_count == 2
    assert len(mailchimp.requests_to("POST", r"/actions/delete-permanent$")) == 2
    assert klaviyo.mutation_count == 1
    assert len(klaviyo.jobs) == 1
    # The decoys are untouched everywhere.
    assert [c.properties["company"] for c in hubspot.contacts_with_email("jane.doe+news@example.com")] == [
        "decoy-1"
    ]
    assert [m.email_address for m in mailchimp.members_with_email("jane.doe+news@example.com")] == [
        "jane.doe+news@example.com"
    ]
    assert [p["organization"] for p in klaviyo.profiles.values()] == ["decoy-1"]
    assert hubspot.contacts_with_email(TARGET_EMAIL) == []
    assert mailchimp.members_with_email(TARGET_EMAIL) == []


def test_the_worker_refuses_a_hubspot_base_url_at_a_loopback_listener_and_sends_it_nothing(
    api: APIClient, staff_client, smtp: SmtpListener, production_worker, tmp_path: Path
) -> None:
    """Security finding 3 as the review ran it: a token sent to ``base_url: http://127.0.0.1:<port>``."""
    with serve(FakeServer(name="attacker")) as listener:
        path = tmp_path / "systems.yaml"
        config = {"access_token": HUBSPOT_TOKEN, "base_url": listener.url, "timeout": 5}
        path.write_text(
            yaml.safe_dump(
                {"systems": [{"key": "crm", "name": "CRM", "connector": "hubspot", "config": config}]}
            )
        )
        systems_apply_file(path=path)
        staff = staff_client("approver")
        request_id = submit_and_verify(api, smtp, type="erasure", email=TARGET_EMAIL)
        assert staff.post(f"/api/v1/staff/requests/{request_id}/approve").json()["status"] == "in_progress"

        def failed() -> dict[str, Any] | None:
            [job] = staff.get(f"/api/v1/staff/requests/{request_id}").json()["jobs"]
            return job if job["status"] == "failed" else None

        job = wait_until(
            failed, timeout=60, interval=0.25, what=lambda: f"job failed:\n{production_worker.log()}"
        )
        assert (job["status"], job["attempts"]) == ("failed", 1), production_worker.log()
        assert job["error"] == (
            "hubspot: refused a request to 127.0.0.1: not a host this connector may call (declared: "
            "api.hubapi.com, api-eu1.hubapi.com); an operator can allow it with DSR_OUTBOUND_ALLOW_HOSTS"
        )
        assert listener.requests == []
