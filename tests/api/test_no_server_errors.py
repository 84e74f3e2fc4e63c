"""The server errors the fuzzing of issue 19 found, each replayed through HTTP: every one is now a
4xx in the API's one error shape, and nothing was written."""

from __future__ import annotations

import json

import psycopg.errors
import pytest
from django.db import OperationalError
from django.test import override_settings

from connectors.manual.tests import MANUAL_CONFIG
from dsr.audit.models import AuditEvent
from dsr.tasks.models import Task, TaskStatus
from dsr.workflow import fanout
from dsr.workflow.models import DataSubjectRequest, Status
from dsr.workflow.tasks import check_request
from tests.factories import RequestFactory
from tests.tasks.conftest import make_system, start_request  # noqa: F401

pytestmark = pytest.mark.django_db

CREATE = "/api/v1/requests"
STAFF = "/api/v1/staff/requests"
DEEP = "[" * 1000 + "]" * 1000
DEEP_ERROR = {
    "detail": "JSON parse error - The JSON is nested more than 64 levels deep.",
    "errors": {},
}


def _post_raw(client, url: str, body: str):  # type: ignore[no-untyped-def]
    return client.post(url, data=body, content_type="application/json")


@pytest.fixture
def admin(staff_client):  # type: ignore[no-untyped-def]
    return staff_client("admin")


# --- 1. deeply nested JSON ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["", "/{id}/verify", "/{id}/download-code", "/{id}/download"],
    ids=["create", "verify", "download-code", "download"],
)
def test_json_nested_a_thousand_levels_deep_answers_400_on_every_public_body(api, path) -> None:
    request = RequestFactory(status=Status.PENDING_VERIFICATION)
    before = (DataSubjectRequest.objects.count(), AuditEvent.objects.count())
    response = _post_raw(api, CREATE + path.format(id=request.pk), '{"email": ' + DEEP + "}")
    assert (response.status_code, response.json()) == (400, DEEP_ERROR)
    assert (DataSubjectRequest.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("action", ["deny", "cancel", "extend", "assign", "notes"])
def test_json_nested_a_thousand_levels_deep_answers_400_on_every_staff_body(admin, action) -> None:
    request = RequestFactory(status=Status.AWAITING_APPROVAL)
    response = _post_raw(admin, f"{STAFF}/{request.pk}/{action}", DEEP)
    assert (response.status_code, response.json()) == (400, DEEP_ERROR)
    assert AuditEvent.objects.filter(request_id=request.pk).count() == 0


def test_nan_in_a_json_body_answers_400(admin) -> None:
    request = RequestFactory(status=Status.AWAITING_APPROVAL)
    response = _post_raw(admin, f"{STAFF}/{request.pk}/notes", '{"body": NaN}')
    assert (response.status_code, response.json()) == (
        400,
        {
            "detail": "JSON parse error - NaN is not a JSON number; write the value as a string or null.",
            "errors": {},
        },
    )


# --- 2. a lone surrogate in the e-mail ------------------------------------------------------------


def test_a_lone_surrogate_in_the_e_mail_answers_400_before_any_throttle_hashes_it(api) -> None:
    # json.dumps writes the surrogate as the escape \ud800, which the parser turns back into one.
    body = json.dumps({"type": "access", "email": "\ud800@example.com", "jurisdiction": "DE"})
    response = _post_raw(api, CREATE, body)
    assert (response.status_code, response.json()) == (
        400,
        {
            "detail": "email: Enter a valid e-mail address (it holds a character that is not text).",
            "errors": {"email": ["Enter a valid e-mail address (it holds a character that is not text)."]},
        },
    )
    assert DataSubjectRequest.objects.count() == 0


# --- 3. limit and offset out of range -------------------------------------------------------------


@pytest.mark.parametrize("path", [STAFF, "/api/v1/staff/tasks"], ids=["requests", "tasks"])
@pytest.mark.parametrize(
    ("query", "field", "minimum"),
    [
        ("limit=9223372036854775808", "limit", 1),
        ("offset=9223372036854775808", "offset", 0),
        ("limit=0", "limit", 1),
        ("offset=-1", "offset", 0),
        ("limit=ten", "limit", 1),
    ],
)
def test_a_limit_or_offset_out_of_range_answers_400_naming_it(admin, path, query, field, minimum) -> None:
    response = admin.get(f"{path}?{query}")
    message = f"Enter a whole number from {minimum} to 9223372036854775807."
    assert (response.status_code, response.json()) == (
        400,
        {"detail": f"{field}: {message}", "errors": {field: [message]}},
    )


def test_the_largest_offset_answers_an_empty_page(admin) -> None:
    RequestFactory()
    response = admin.get(f"{STAFF}?offset=9223372036854775807")
    assert (response.status_code, response.json()["results"], response.json()["count"]) == (200, [], 1)


# --- 4. integers bounded to their columns ---------------------------------------------------------


@pytest.mark.parametrize("field", ["records_found", "records_erased"])
def test_a_count_beyond_its_int4_column_answers_400_and_the_task_stays_open(
    admin,
    start_request,  # noqa: F811
    django_capture_on_commit_callbacks,
    field,
) -> None:
    make_system("archive", "manual", MANUAL_CONFIG)
    with django_capture_on_commit_callbacks(execute=True):
        _, job = start_request("archive")
    task = Task.objects.get(job=job)
    body = {"records_found": 1, "records_erased": 1, field: 2147483648}
    response = admin.post(f"/api/v1/staff/tasks/{task.pk}/complete", body, format="json")
    message = "Ensure this value is less than or equal to 2147483647."
    assert (response.status_code, response.json()) == (
        400,
        {"detail": f"{field}: {message}", "errors": {field: [message]}},
    )
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/staff/tasks/99999999999999999999",
        "/api/v1/staff/tasks/9223372036854775808/complete",
        f"{STAFF}/00000000-0000-0000-0000-000000000000/jobs/9223372036854775808/retry",
    ],
)
def test_an_id_beyond_bigint_in_the_path_answers_404(admin, path) -> None:
    response = admin.get(path) if path.count("/") == 5 else admin.post(path)
    assert (response.status_code, response.json()) == (404, {"detail": "Not found.", "errors": {}})


# --- 5. a deadlock-aborted completion check is retried --------------------------------------------


def test_a_completion_check_aborted_by_a_deadlock_is_retried(
    monkeypatch, django_capture_on_commit_callbacks
) -> None:
    request = RequestFactory(status=Status.IN_PROGRESS)
    real = fanout.request_check_finished
    calls: list[str] = []

    def deadlock_once(*, request_id: str) -> None:
        calls.append(request_id)
        if len(calls) == 1:
            raise OperationalError("deadlock detected") from psycopg.errors.DeadlockDetected()
        real(request_id=request_id)

    monkeypatch.setattr(fanout, "request_check_finished", deadlock_once)
    with django_capture_on_commit_callbacks(execute=True):
        check_request.delay(str(request.pk))
    request.refresh_from_db()
    assert len(calls) == 2
    # Nothing left to run: the retried check closed the request (its package built after commit).
    assert request.status == Status.COMPLETED


def test_a_completion_check_failing_otherwise_is_not_retried(monkeypatch) -> None:
    request = RequestFactory(status=Status.IN_PROGRESS)
    calls: list[str] = []

    def broken(*, request_id: str) -> None:
        calls.append(request_id)
        raise OperationalError("the server closed the connection")

    monkeypatch.setattr(fanout, "request_check_finished", broken)
    result = check_request.delay(str(request.pk))
    assert (result.failed(), len(calls)) == (True, 1)


# --- 6. an internationalised domain without an IDNA form ------------------------------------------


def test_a_domain_that_cannot_be_idna_encoded_is_refused_at_create(api) -> None:
    email = "a@" + "ä" * 60 + ".de"
    response = api.post(CREATE, {"type": "access", "email": email, "jurisdiction": "DE"})
    message = "We cannot deliver e-mail to this address: its domain has no valid international form."
    assert (response.status_code, response.json()) == (
        400,
        {"detail": f"email: {message}", "errors": {"email": [message]}},
    )
    assert DataSubjectRequest.objects.count() == 0


def test_an_internationalised_domain_that_encodes_is_accepted(api, smtp) -> None:
    response = api.post(CREATE, {"type": "access", "email": "jane@bücher.example", "jurisdiction": "DE"})
    assert response.status_code == 201


# --- JSON for every error, in every mode ----------------------------------------------------------


@override_settings(DEBUG=True)
def test_a_path_segment_that_is_not_a_uuid_answers_json_404_even_in_debug(api) -> None:
    response = api.post(f"{CREATE}/not-a-uuid/verify", {"code": "123456"})
    assert response["Content-Type"] == "application/json"
    assert (response.status_code, response.json()) == (404, {"detail": "Not found.", "errors": {}})


def test_an_unknown_api_path_answers_json_404(api) -> None:
    response = api.get("/api/v2/nothing")
    assert (response.status_code, response.json()) == (404, {"detail": "Not found.", "errors": {}})


def test_a_method_the_operation_does_not_have_answers_json_405_with_allow(api) -> None:
    response = api.get(CREATE)
    assert (response.status_code, response.json()) == (
        405,
        {"detail": 'Method "GET" not allowed.', "errors": {}},
    )
    assert response["Allow"] == "POST, OPTIONS"


def test_an_unsupported_content_type_answers_json_415(api) -> None:
    response = api.post(CREATE, data="type=access", content_type="text/plain")
    assert (response.status_code, response.json()) == (
        415,
        {"detail": 'Unsupported media type "text/plain" in request.', "errors": {}},
    )


def test_a_body_over_the_upload_limit_answers_json_413(api, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    body = {"type": "access", "email": "a@example.com", "details": "x" * (1024 * 1024 + 1)}
    response = api.post(CREATE, body, format="json")
    assert (response.status_code, response.json()) == (
        413,
        {"detail": "The request is too large: at most 1 MB can be sent.", "errors": {}},
    )


def test_a_throttled_call_answers_json_429_with_retry_after(api, settings) -> None:
    settings.DSR_RATE_LIMITS = {**settings.DSR_RATE_LIMITS, "verify:ip": "1/hour"}
    url = f"{CREATE}/{RequestFactory().pk}/verify"
    first, second = api.post(url, {"code": "12ab"}), api.post(url, {"code": "12ab"})
    assert (first.status_code, second.status_code) == (400, 429)
    assert second.json()["errors"] == {}
    assert second.json()["detail"].startswith("Request was throttled.")
    assert int(second["Retry-After"]) > 0


def test_an_unknown_type_lists_the_valid_ones(api) -> None:
    response = api.post(CREATE, {"type": "teleport", "email": "jane@example.com", "jurisdiction": "DE"})
    assert response.json()["errors"] == {
        "type": [
            '"teleport" is not a valid choice. Valid types: access, erasure, correction, opt_out, marketing.'
        ]
    }


@override_settings(DEBUG=True)
def test_an_unhandled_exception_answers_json_500_even_in_debug(api, monkeypatch) -> None:
    def boom(**kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("dsr.api.views.request_create", boom)
    api.raise_request_exception = False
    response = api.post(CREATE, {"type": "access", "email": "jane@example.com", "jurisdiction": "DE"})
    assert (response.status_code, response.json()) == (
        500,
        {"detail": "Server error. The failure was logged; try again later.", "errors": {}},
    )


def test_a_form_encoded_body_answers_415_where_the_operation_takes_json(admin) -> None:
    request = RequestFactory(status=Status.AWAITING_APPROVAL)
    response = admin.post(f"{STAFF}/{request.pk}/cancel", {"note": "x"}, format="multipart")
    assert response.status_code == 415
    request.refresh_from_db()
    assert request.status == Status.AWAITING_APPROVAL


def test_a_note_longer_than_its_limit_is_refused_even_when_trimming_would_shorten_it(admin) -> None:
    request = RequestFactory(status=Status.AWAITING_APPROVAL)
    response = admin.post(f"{STAFF}/{request.pk}/notes", {"body": "\n" + "*" * 10000}, format="json")
    message = "Ensure this field has no more than 10000 characters."
    assert (response.status_code, response.json()) == (
        400,
        {"detail": f"body: {message}", "errors": {"body": [message]}},
    )
    assert request.notes.count() == 0
