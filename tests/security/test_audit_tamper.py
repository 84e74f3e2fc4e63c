"""Editing or deleting an audit event, even straight in the database, is detected by verify_audit."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from dsr.audit.models import AuditEvent
from dsr.workflow.decisions import request_deny
from dsr.workflow.intake import request_create
from dsr.workflow.models import Status
from dsr.workflow.transitions import request_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    """A real request's trail: received, verified, denied."""
    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: None)
    request = request_create(type="erasure", email="audited@example.com", jurisdiction="US-CA")
    request_transition(
        request_id=request.pk, to=Status.AWAITING_APPROVAL, actor="subject", event="request.verified"
    )
    request_deny(request_id=request.pk, actor="staff:bob", reason="exempt", message="A legal hold applies.")
    call_command("verify_audit")  # intact before anyone touches it
    return list(AuditEvent.objects.order_by("id").values_list("id", flat=True))


def verify() -> str:
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    return str(failure.value)


def test_an_event_edited_in_the_database_is_named_by_verify_audit(history: list[int]):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor = 'staff:alice' WHERE id = %s", [history[2]])
    assert verify() == (
        f"Audit chain broken at event #{history[2]}: content does not match its hash (the event was "
        "edited) (2 events verified before it)."
    )


def test_an_event_whose_data_is_rewritten_with_a_recomputed_hash_breaks_the_next_link(history: list[int]):
    from dsr.audit.services import _event_digest

    event = AuditEvent.objects.get(id=history[1])
    event.data = {**event.data, "to": "in_progress"}
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET data = %s, hash = %s WHERE id = %s",
            [__import__("json").dumps(event.data), _event_digest(event), history[1]],
        )
    assert verify().startswith(f"Audit chain broken at event #{history[2]}: previous-hash link broken")


def test_an_event_deleted_in_the_database_is_named_by_verify_audit(history: list[int]):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [history[1]])
    assert verify() == (
        f"Audit chain broken at event #{history[2]}: previous-hash link broken (an event was removed or "
        "inserted) (1 events verified before it)."
    )


def test_the_last_event_deleted_in_the_database_is_detected_through_the_head(history: list[int]):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [history[-1]])
    assert verify() == (
        "Audit chain broken at the end of the chain: the chain's last events were removed "
        "(2 events verified before it)."
    )


def test_a_whole_chain_recomputed_without_the_audit_key_does_not_verify(history: list[int]):
    """An attacker with database access but not DSR_AUDIT_KEY rewrites an event and every later
    link and the head with plain SHA-256 (or any key of their own): verification still fails."""
    import hashlib
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    from dsr.audit.models import AuditHead

    prev = "0" * 64
    with connection.cursor() as cursor:
        for event in AuditEvent.objects.order_by("id"):
            data = {**event.data, "forged": True} if event.id == history[1] else event.data
            body = json.dumps(
                [
                    prev,
                    event.created_at.isoformat(),
                    event.actor,
                    event.action,
                    str(event.request_id or ""),
                    data,
                ],
                sort_keys=True,
                separators=(",", ":"),
                cls=DjangoJSONEncoder,
            )
            forged = hashlib.sha256(body.encode()).hexdigest()
            cursor.execute(
                "UPDATE audit_auditevent SET data = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [json.dumps(data), prev, forged, event.id],
            )
            prev = forged
    AuditHead.objects.filter(id=1).update(last_hash=prev)
    assert verify().startswith(f"Audit chain broken at event #{history[0]}: content does not match its hash")
