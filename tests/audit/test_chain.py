"""The hash-chained audit log and ``manage.py verify_audit``."""

from __future__ import annotations

import uuid
from datetime import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from dsr.audit.models import AuditEvent, AuditHead
from dsr.audit.services import GENESIS, _event_digest, audit_record, audit_verify_chain

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_events() -> list[AuditEvent]:
    request_id = uuid.uuid4()
    return [
        audit_record(
            actor="subject", action="request.received", request_id=request_id, data={"type": "access"}
        ),
        audit_record(
            actor="staff:alice",
            action="request.approved",
            request_id=request_id,
            data={"from": "awaiting_approval", "to": "in_progress", "at": datetime(2026, 1, 2, 3, 4, 5)},  # noqa: DTZ001 - any JSON-able value
        ),
        audit_record(actor="worker", action="request.completed", request_id=request_id, data={"jobs": {}}),
    ]


def _verify_audit() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def test_each_event_links_to_the_previous_one_and_the_head_holds_the_last_hash(three_events):
    first, second, third = three_events
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert AuditHead.objects.get(id=1).last_hash == third.hash


def test_an_intact_chain_verifies_and_the_command_says_how_many_events_it_checked(three_events):
    assert audit_verify_chain().ok is True
    assert _verify_audit() == "Audit chain intact: 3 events verified.\n"


def test_an_empty_log_verifies():
    assert _verify_audit() == "Audit chain intact: 0 events verified.\n"


def test_events_cannot_be_changed_or_deleted_through_the_orm(three_events):
    event = three_events[0]
    event.actor = "someone else"
    with pytest.raises(RuntimeError, match="append-only"):
        event.save()
    with pytest.raises(RuntimeError, match="append-only"):
        event.delete()


def test_editing_one_events_data_with_raw_sql_makes_verify_audit_fail_naming_that_event(three_events):
    edited = three_events[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET data = %s::jsonb WHERE id = %s",
            ['{"from": "awaiting_approval", "to": "denied"}', edited.id],
        )
    with pytest.raises(CommandError) as caught:
        _verify_audit()
    assert str(caught.value) == (
        f"Audit chain broken at event #{edited.id}: content does not match its hash (the event was edited) "
        "(1 events verified before it)."
    )


def test_editing_an_events_actor_with_raw_sql_is_detected(three_events):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET actor = 'staff:mallory' WHERE id = %s", [three_events[0].id]
        )
    report = audit_verify_chain()
    assert (report.ok, report.broken_at, report.checked) == (False, three_events[0].id, 0)


def test_deleting_an_event_in_the_middle_with_raw_sql_is_detected_at_the_next_event(three_events):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [three_events[1].id])
    with pytest.raises(CommandError) as caught:
        _verify_audit()
    assert str(caught.value) == (
        f"Audit chain broken at event #{three_events[2].id}: previous-hash link broken "
        "(an event was removed or inserted) (1 events verified before it)."
    )


def test_deleting_the_last_event_with_raw_sql_is_detected_by_the_head(three_events):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [three_events[2].id])
    with pytest.raises(CommandError) as caught:
        _verify_audit()
    assert str(caught.value) == (
        "Audit chain broken at the end of the chain: the chain's last events were removed "
        "(2 events verified before it)."
    )


def test_a_rewritten_event_with_a_recomputed_own_hash_still_breaks_the_next_link(three_events):
    forged = AuditEvent.objects.get(id=three_events[0].id)
    forged.data = {"type": "erasure"}
    new_hash = _event_digest(forged)
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE audit_auditevent SET data = '{"type": "erasure"}', hash = %s WHERE id = %s""",
            [new_hash, forged.id],
        )
    report = audit_verify_chain()
    assert (report.ok, report.broken_at, report.checked) == (False, three_events[1].id, 1)


def test_verification_walks_the_chain_in_batches(three_events):
    assert audit_verify_chain(batch_size=1) == audit_verify_chain()
    assert audit_verify_chain(batch_size=1).checked == 3


def test_events_with_unicode_numbers_and_nested_data_read_back_with_the_same_hash():
    audit_record(
        actor="staff:zoë",
        action="systems.applied",
        data={"file": "/etc/dsr/systèmes.yaml", "ratio": 0.1, "big": 10**15, "nested": [{"b": 2, "a": None}]},
    )
    assert _verify_audit() == "Audit chain intact: 1 events verified.\n"
