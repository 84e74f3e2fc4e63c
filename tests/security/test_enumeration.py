"""No enumeration: the public API answers a known and an unknown e-mail address the same way —
the same status, the same body apart from ids and timestamps, and no measurable timing difference."""

from __future__ import annotations

import statistics
import time

import pytest
from rest_framework.test import APIClient

from dsr.workflow.models import Status
from dsr.workflow.transitions import request_transition
from tests.security.conftest import create

pytestmark = pytest.mark.django_db

KNOWN = "known.person@example.com"
VARYING = {"id", "reference", "received_at", "due_at"}  # new for every request


@pytest.fixture
def known(api: APIClient) -> str:
    """A person we know: an earlier request of theirs is on record."""
    request_id = create(api, KNOWN).json()["id"]
    request_transition(
        request_id=request_id, to=Status.CANCELLED, actor="staff:agent", event="request.cancelled"
    )
    return KNOWN


def without_varying(body: dict) -> dict:
    return {key: value for key, value in body.items() if key not in VARYING}


def test_a_known_and_an_unknown_address_get_the_same_status_and_body_apart_from_ids_and_timestamps(
    api: APIClient, known: str
):
    for_known = create(api, known)
    for_unknown = create(api, "never.seen@example.com")

    assert (for_known.status_code, for_unknown.status_code) == (201, 201)
    assert set(for_known.json()) == set(for_unknown.json()) == VARYING | {"status"}
    assert (
        without_varying(for_known.json())
        == without_varying(for_unknown.json())
        == {"status": "pending_verification"}
    )
    assert for_known["Content-Type"] == for_unknown["Content-Type"]


def test_a_wrong_code_gets_the_same_answer_for_a_known_and_an_unknown_address(api: APIClient, known: str):
    answers = []
    for email in (known, "nobody.here@example.com"):
        request_id = create(api, email).json()["id"]
        answers.append(api.post(f"/api/v1/requests/{request_id}/verify", {"code": "000000"}, format="json"))
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()


def test_creating_a_request_takes_the_same_time_for_a_known_and_an_unknown_address(
    api: APIClient, known: str, rates
):
    """Medians of interleaved samples, so load on the machine affects both sides alike. Nothing
    looks the address up (request_create), so the bound is loose: it catches a lookup in another
    system (tens of milliseconds and more), not scheduler noise."""
    rates(create_ip="100000/hour", create_email="100000/hour")
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    for n in range(24):
        for kind, email in (("known", known), ("unknown", f"unknown.{n}@example.com")):
            started = time.perf_counter()
            answer = create(api, email)
            timings[kind].append(time.perf_counter() - started)
            assert answer.status_code == 201
    known_median = statistics.median(timings["known"][4:])  # the first ones warm caches
    unknown_median = statistics.median(timings["unknown"][4:])
    assert abs(known_median - unknown_median) < max(0.02, 0.5 * min(known_median, unknown_median)), timings
