"""The data subject's API: create a request, verify it with the e-mailed code, ask for a new code."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from django.apps import apps
from django.db import connection
from django.utils import timezone
from rest_framework.fields import DateTimeField

from connectors.sql.sample import TARGET_EMAIL, create_sample_schema, sample_config, seed_sample
from dsr.audit.models import AuditEvent
from dsr.identity.models import VerificationChallenge
from dsr.workflow import deadlines
from dsr.workflow.models import DataSubjectRequest, Status
from tests.factories import SystemFactory
from tests.support.smtp import code_from

pytestmark = pytest.mark.django_db

CREATE = "/api/v1/requests"


def _verify_url(request_id: object) -> str:
    return f"/api/v1/requests/{request_id}/verify"


def _resend_url(request_id: object) -> str:
    return f"/api/v1/requests/{request_id}/resend-code"


def _iso(value: object) -> str:
    return DateTimeField().to_representation(value)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.fixture
def submit(api, smtp, django_capture_on_commit_callbacks):
    """POST a request and return (response, the code from the e-mail it triggered)."""

    def make(email: str = "jane.doe@example.com", **extra: str):
        body = {"type": "access", "email": email, "jurisdiction": "DE", **extra}
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(CREATE, body)
        assert response.status_code == 201, response.json()
        mail = smtp.wait_for(to=email.strip().lower(), subject_contains=response.json()["reference"])
        return response, code_from(mail)

    return make


# --- create ---------------------------------------------------------------------------------------


def test_creating_a_request_answers_201_with_exactly_its_id_reference_status_and_deadlines(submit):
    response, _ = submit()
    request = DataSubjectRequest.objects.get()
    schedule = deadlines.schedule_for(
        jurisdiction="DE", request_type="access", received_at=request.received_at
    )
    assert response.json() == {
        "id": str(request.pk),
        "reference": request.reference,
        "status": "pending_verification",
        "received_at": _iso(request.received_at),
        "due_at": _iso(schedule.respond.due_at),
    }
    assert (request.type, request.jurisdiction, request.regime, request.channel) == (
        "access",
        "DE",
        "GDPR",
        "api",
    )
    assert request.due_explanation == schedule.respond.explanation


def test_creating_a_request_e_mails_a_six_digit_code_to_the_address(
    api, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reference = api.post(
            CREATE, {"type": "access", "email": "Jane.Doe@Example.com", "jurisdiction": "DE"}
        ).json()["reference"]
    mail = smtp.wait_for(to="jane.doe@example.com", subject_contains=reference)
    assert mail.subject == f"Your verification code for request {reference}"
    assert len(code_from(mail)) == 6
    assert DataSubjectRequest.objects.get().email == "jane.doe@example.com"


def test_creating_a_request_records_an_audit_event_without_the_e_mail_address(submit):
    response, _ = submit()
    event = AuditEvent.objects.get(action="request.received")
    assert (event.actor, str(event.request_id)) == ("subject", response.json()["id"])
    assert "jane" not in str(event.data)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"type": "access", "email": "not-an-address", "jurisdiction": "DE"},
            {"email": ["Enter a valid email address."]},
        ),
        (
            {"type": "access", "email": "jane@example.com", "jurisdiction": "ZZ"},
            {"jurisdiction": ["'ZZ' is not a supported jurisdiction code."]},
        ),
        (
            {"type": "access", "email": "jane@example.com", "jurisdiction": "DE", "phone": "call me maybe"},
            {"phone": ["Enter a phone number of digits, with an optional leading +."]},
        ),
        (
            {"type": "teleport", "email": "jane@example.com", "jurisdiction": "DE"},
            {
                "type": [
                    '"teleport" is not a valid choice. '
                    "Valid types: access, erasure, correction, opt_out, marketing."
                ]
            },
        ),
        (
            {"type": "correction", "email": "jane@example.com", "jurisdiction": "DE"},
            {"details": ["Tell us what is wrong and how it should read."]},
        ),
        (
            {},
            {
                "type": ["This field is required."],
                "email": ["This field is required."],
                "jurisdiction": ["This field is required."],
            },
        ),
    ],
    ids=[
        "bad-email",
        "unknown-jurisdiction",
        "bad-phone",
        "unknown-type",
        "correction-without-details",
        "missing-fields",
    ],
)
def test_invalid_input_answers_400_with_a_message_per_field_and_creates_nothing(api, body, errors):
    response = api.post(CREATE, body)
    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert DataSubjectRequest.objects.count() == 0
    assert VerificationChallenge.objects.count() == 0


def test_a_correction_through_the_api_keeps_what_should_be_corrected(submit):
    response, _ = submit(type="correction", details="My city is Köln, not Berlin.")
    request = DataSubjectRequest.objects.get(pk=response.json()["id"])
    assert (request.type, request.details) == ("correction", "My city is Köln, not Berlin.")


def test_a_type_the_jurisdictions_law_does_not_grant_answers_400_on_the_type_field(api, monkeypatch):
    rules = deadlines.default_rules()
    gdpr = rules.regimes["GDPR"]
    access_only = dataclasses.replace(gdpr, rules=tuple(r for r in gdpr.rules if r.request_type != "erasure"))
    narrowed = dataclasses.replace(rules, regimes=MappingProxyType({**rules.regimes, "GDPR": access_only}))
    monkeypatch.setattr(deadlines, "default_rules", lambda: narrowed)

    response = api.post(CREATE, {"type": "erasure", "email": "jane@example.com", "jurisdiction": "DE"})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "type": ["The law of DE does not grant a right of erasure requests."]
    }
    assert DataSubjectRequest.objects.count() == 0


def test_a_california_request_received_on_20_december_2028_is_accepted_with_its_holiday_aware_dates(
    api, monkeypatch, mailoutbox
):
    # Before the holidays package, the 2025-2028 holiday table made this fail at intake. 10 business
    # days (11 CCR §7021(a)) skip 25 December 2028 and 1 January 2029, California state holidays.
    received = datetime(2028, 12, 20, 10, tzinfo=ZoneInfo("America/Los_Angeles"))
    monkeypatch.setattr("django.utils.timezone.now", lambda: received)

    response = api.post(CREATE, {"type": "access", "email": "ca@example.com", "jurisdiction": "US-CA"})

    assert response.status_code == 201, response.json()
    request = DataSubjectRequest.objects.get()
    assert response.json()["received_at"] == _iso(received)
    assert response.json()["due_at"] == "2029-02-04T07:59:59.999999Z"
    assert request.ack_due_at == datetime(2029, 1, 6, 7, 59, 59, 999999, tzinfo=UTC)
    assert (
        request.due_explanation
        == "due 2029-02-03: 11 CCR §7021(b), 45 calendar days from receipt on 2028-12-20"
    )


def test_a_request_from_a_state_whose_law_is_not_yet_in_force_answers_400_saying_when_it_applies(
    api, monkeypatch
):
    received = datetime(2025, 12, 31, 12, tzinfo=ZoneInfo("America/Indiana/Indianapolis"))
    monkeypatch.setattr("django.utils.timezone.now", lambda: received)

    response = api.post(CREATE, {"type": "access", "email": "in@example.com", "jurisdiction": "US-IN"})

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "jurisdiction": [
            "The privacy law of Indiana (Indiana Consumer Data Protection Act) applies to requests "
            "received from 2026-01-01. It was not yet in force on 2025-12-31, so we cannot take this "
            "request under it."
        ]
    }
    assert DataSubjectRequest.objects.count() == 0


def test_the_answer_for_an_address_known_to_a_system_looks_exactly_like_the_one_for_an_unknown_address(
    submit, tmp_path
):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    create_sample_schema(engine)
    seed_sample(engine)
    engine.dispose()
    SystemFactory(key="shop", config=sample_config(f"sqlite:///{tmp_path / 'shop.db'}"))

    known, known_code = submit(TARGET_EMAIL)
    unknown, unknown_code = submit("nobody.at.all@example.com")

    assert known.status_code == unknown.status_code == 201
    assert list(known.json()) == list(unknown.json())
    assert known.json()["status"] == unknown.json()["status"] == "pending_verification"
    assert known.json()["due_at"][:10] == unknown.json()["due_at"][:10]
    assert len(known_code) == len(unknown_code) == 6
    assert {k: v for k, v in known.headers.items() if k != "Content-Length"} == {
        k: v for k, v in unknown.headers.items() if k != "Content-Length"
    }


# --- verify ---------------------------------------------------------------------------------------


def test_the_right_code_answers_200_and_moves_the_request_to_approval(api, submit):
    response, code = submit()
    request_id = response.json()["id"]
    verified = api.post(_verify_url(request_id), {"code": code})
    assert verified.status_code == 200
    assert verified.json() == {
        "id": request_id,
        "reference": response.json()["reference"],
        "status": "awaiting_approval",
    }
    request = DataSubjectRequest.objects.get(pk=request_id)
    assert request.status == Status.AWAITING_APPROVAL
    assert request.verified_at is not None
    assert AuditEvent.objects.filter(request_id=request_id, action="request.verified").count() == 1


def test_with_auto_approve_the_right_code_moves_the_request_straight_to_work(api, submit, settings):
    settings.DSR_AUTO_APPROVE = ["access"]
    response, code = submit()
    verified = api.post(_verify_url(response.json()["id"]), {"code": code})
    assert (verified.status_code, verified.json()["status"]) == (200, "in_progress")


def test_a_wrong_code_answers_400_with_the_attempts_left(api, submit):
    response, code = submit()
    wrong = api.post(_verify_url(response.json()["id"]), {"code": _wrong(code)})
    assert wrong.status_code == 400
    assert wrong.json() == {
        "detail": "code: " + "That code is not correct. 4 attempts left.",
        "errors": {"code": ["That code is not correct. 4 attempts left."]},
    }
    assert DataSubjectRequest.objects.get().status == Status.PENDING_VERIFICATION


def test_a_code_that_is_not_six_digits_answers_400_without_counting_an_attempt(api, submit):
    response, _ = submit()
    answer = api.post(_verify_url(response.json()["id"]), {"code": "12ab"})
    assert answer.status_code == 400
    assert answer.json() == {
        "detail": "code: " + "Enter the 6-digit code from the e-mail.",
        "errors": {"code": ["Enter the 6-digit code from the e-mail."]},
    }
    assert VerificationChallenge.objects.get().attempts == 0


def test_the_fifth_wrong_code_answers_429_and_then_the_right_code_no_longer_works(api, submit):
    response, code = submit()
    url = _verify_url(response.json()["id"])
    answers = [api.post(url, {"code": _wrong(code)}) for _ in range(5)]
    assert [a.status_code for a in answers] == [400, 400, 400, 400, 429]
    assert answers[3].json() == {
        "detail": "code: " + "That code is not correct. 1 attempt left.",
        "errors": {"code": ["That code is not correct. 1 attempt left."]},
    }
    assert answers[4].json() == {"detail": "Too many wrong codes. Request a new code.", "errors": {}}

    right = api.post(url, {"code": code})
    assert right.status_code == 429
    assert right.json() == {"detail": "Too many wrong codes. Request a new code.", "errors": {}}
    assert DataSubjectRequest.objects.get().status == Status.PENDING_VERIFICATION


def test_an_expired_code_answers_400_and_leaves_the_request_waiting(api, submit):
    response, code = submit()
    VerificationChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = api.post(_verify_url(response.json()["id"]), {"code": code})
    assert answer.status_code == 400
    assert answer.json() == {
        "detail": "code: " + "That code has expired. Request a new code.",
        "errors": {"code": ["That code has expired. Request a new code."]},
    }
    assert DataSubjectRequest.objects.get().status == Status.PENDING_VERIFICATION


def test_verifying_an_unknown_request_answers_404(api):
    answer = api.post(_verify_url("00000000-0000-4000-8000-000000000000"), {"code": "123456"})
    assert answer.status_code == 404


def test_the_code_is_not_stored_in_clear_anywhere_and_its_hash_is_erased_after_use(api, submit):
    response, code = submit()
    challenge = VerificationChallenge.objects.get()
    assert len(challenge.code_hash) == 64

    def every_row_as_text() -> str:
        rows = []
        with connection.cursor() as cursor:
            for model in apps.get_models():
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"SELECT t::text FROM {table} AS t")  # table names come from the ORM
                rows += [row[0] for row in cursor.fetchall()]
        return "\n".join(rows)

    assert code not in every_row_as_text()
    assert api.post(_verify_url(response.json()["id"]), {"code": code}).status_code == 200
    challenge.refresh_from_db()
    assert challenge.code_hash == ""
    assert challenge.consumed_at is not None
    assert code not in every_row_as_text()


def test_identity_values_are_encrypted_at_rest(submit):
    response, _ = submit("Jane.Doe@Example.com", full_name="Jane Doe", phone="+49 151 2345 6789")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t::text FROM workflow_datasubjectrequest AS t WHERE id = %s", [response.json()["id"]]
        )
        raw = cursor.fetchone()[0]
    assert "jane" not in raw.lower()
    assert "Doe" not in raw
    assert "2345" not in raw
    request = DataSubjectRequest.objects.get()
    assert (request.email, request.full_name, request.phone) == (
        "jane.doe@example.com",
        "Jane Doe",
        "+4915123456789",
    )


# --- resend ---------------------------------------------------------------------------------------


def test_a_resend_answers_202_for_the_same_request_and_the_old_code_stops_working(
    api, submit, smtp, monkeypatch, django_capture_on_commit_callbacks
):
    codes = iter(["111111", "222222"])
    monkeypatch.setattr("dsr.identity.services._new_code", lambda: next(codes))
    response, old_code = submit()
    request_id = response.json()["id"]
    VerificationChallenge.objects.update(last_sent_at=timezone.now() - timedelta(minutes=2))

    with django_capture_on_commit_callbacks(execute=True):  # the worker sends it after commit
        resent = api.post(_resend_url(request_id))
    assert resent.status_code == 202
    assert resent.json() == {"detail": "If the request is waiting for a code, a new one is on its way."}
    new_code = code_from(
        smtp.wait_for(to="jane.doe@example.com", subject_contains=response.json()["reference"])
    )
    assert DataSubjectRequest.objects.count() == 1
    assert VerificationChallenge.objects.get().sends == 2

    assert (old_code, new_code) == ("111111", "222222")
    assert api.post(_verify_url(request_id), {"code": old_code}).status_code == 400
    verified = api.post(_verify_url(request_id), {"code": new_code})
    assert (verified.status_code, verified.json()["id"]) == (200, request_id)


def test_a_resend_too_soon_answers_429_and_the_first_code_keeps_working(api, submit):
    response, code = submit()
    request_id = response.json()["id"]
    too_soon = api.post(_resend_url(request_id))
    assert too_soon.status_code == 429
    assert too_soon.json()["detail"].startswith("Please wait ")
    assert VerificationChallenge.objects.get().sends == 1
    assert api.post(_verify_url(request_id), {"code": code}).status_code == 200


def test_a_resend_for_an_unknown_request_answers_404(api):
    assert api.post(_resend_url("00000000-0000-4000-8000-000000000000")).status_code == 404


# --- e-mails after verification, and the access package ------------------------------------------


def test_verifying_e_mails_an_acknowledgement_with_the_due_date(
    api, submit, smtp, django_capture_on_commit_callbacks
):
    response, code = submit()
    with django_capture_on_commit_callbacks(execute=True):
        api.post(_verify_url(response.json()["id"]), {"code": code})
    reference = response.json()["reference"]
    mail = smtp.wait_for(to="jane.doe@example.com", subject_contains="We received")
    assert mail.subject == f"We received your request {reference}"
    request = DataSubjectRequest.objects.get()
    assert request.due_explanation in mail.text


@pytest.fixture
def shop(tmp_path):
    """A real SQL system (SQLite file) holding the sample target and her decoys."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = sa.create_engine(url)
    create_sample_schema(engine)
    seed_sample(engine)
    engine.dispose()
    return SystemFactory(key="shop", name="Shop", config=sample_config(url))


def test_a_completed_access_request_is_downloaded_through_the_link_and_a_fresh_code(
    api, submit, smtp, shop, staff_client, django_capture_on_commit_callbacks
):
    response, code = submit(TARGET_EMAIL)
    request_id, reference = response.json()["id"], response.json()["reference"]
    assert api.post(_verify_url(request_id), {"code": code}).status_code == 200
    approver = staff_client("approver")
    with django_capture_on_commit_callbacks(execute=True):
        assert approver.post(f"/api/v1/staff/requests/{request_id}/approve").status_code == 200
    assert DataSubjectRequest.objects.get(pk=request_id).status == Status.COMPLETED

    done = smtp.wait_for(to=TARGET_EMAIL, subject_contains="is complete")
    link = next(line for line in done.text.splitlines() if "/download?token=" in line).strip()
    assert link.startswith(f"http://127.0.0.1:8000/requests/{request_id}/download?token=")
    token = link.split("token=", 1)[1]

    forged = api.post(f"/api/v1/requests/{request_id}/download-code", {"token": token[:-2] + "xx"})
    assert forged.status_code == 403
    with django_capture_on_commit_callbacks(execute=True):  # the worker sends it after commit
        sent = api.post(f"/api/v1/requests/{request_id}/download-code", {"token": token})
    assert sent.status_code == 202
    download_code = code_from(smtp.wait_for(to=TARGET_EMAIL, subject_contains="download code"))

    wrong = api.post(
        f"/api/v1/requests/{request_id}/download", {"token": token, "code": _wrong(download_code)}
    )
    assert wrong.json() == {
        "detail": "code: " + "That code is not correct. 4 attempts left.",
        "errors": {"code": ["That code is not correct. 4 attempts left."]},
    }
    package = api.post(f"/api/v1/requests/{request_id}/download", {"token": token, "code": download_code})
    assert package.status_code == 200
    assert package["Content-Disposition"] == f'attachment; filename="{reference}.zip"'
    with zipfile.ZipFile(io.BytesIO(b"".join(package.streaming_content))) as archive:
        data = json.loads(archive.read("data.json"))
        names = sorted(archive.namelist())
    customers = data["systems"]["shop"]["records"]["customers"]
    assert sorted(c["id"] for c in customers) == [1, 2]
    assert "jane.doe@example.org" not in json.dumps(data)
    assert "csv/shop/customers.csv" in names
    again = api.post(f"/api/v1/requests/{request_id}/download", {"token": token, "code": download_code})
    assert again.status_code == 400  # the code was used up
