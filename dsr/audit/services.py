"""Writing and verifying the audit chain."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from dsr.audit.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def _digest(*, prev_hash: str, created_at: str, actor: str, action: str, request_id: str, data: Any) -> str:
    body = json.dumps(
        [prev_hash, created_at, actor, action, request_id, data],
        sort_keys=True,
        separators=(",", ":"),
        cls=DjangoJSONEncoder,
    )
    # Keyed (HMAC-SHA256 under DSR_AUDIT_KEY), so a chain rewritten by someone who can write to the
    # database but does not hold the application's key fails verification.
    key = base64.b64decode(settings.DSR_AUDIT_KEY)
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def _event_digest(event: AuditEvent) -> str:
    return _digest(
        prev_hash=event.prev_hash,
        created_at=event.created_at.isoformat(),
        actor=event.actor,
        action=event.action,
        request_id=str(event.request_id or ""),
        data=event.data,
    )


# LOCK ORDER (SECURITY.md and docs/reliability.md, "Lock order"). Every transaction that writes takes
# its row locks in this order and never the other way round:
#   1. the request row (``DataSubjectRequest ... select_for_update()``), when it touches a request;
#   2. rows that belong to the request: its jobs, tasks, assignment, notes;
#   3. the audit head (``AuditHead`` id 1), in ``audit_record``, always the LAST lock taken.
# The head is held until commit and every write appends to the chain, so a transaction that took the
# head and then waited for a request or job row would deadlock with one that holds that row and
# waits for the head. Hence: call ``audit_record`` after the transaction's other writes, and lock
# the request row explicitly (an insert with a foreign key to it locks it implicitly, too late).


def audit_record(
    *, actor: str, action: str, request_id: uuid.UUID | None = None, data: dict[str, Any] | None = None
) -> AuditEvent:
    """Append one event to the chain. Runs inside the caller's transaction when there is one.

    Takes the audit head's lock, the last lock of the transaction (LOCK ORDER above): the caller
    locks the request row, and writes everything else, before calling this.
    """
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(id=1)
        # Round-trip through JSON so the stored data hashes the same when read back.
        clean = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))
        event = AuditEvent(
            created_at=timezone.now(),
            actor=actor,
            action=action,
            request_id=request_id,
            data=clean,
            prev_hash=head.last_hash,
        )
        event.hash = _event_digest(event)
        event.save(force_insert=True)
        head.last_hash = event.hash
        head.save(update_fields=["last_hash"])
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""


def audit_verify_chain(*, batch_size: int = 2000) -> ChainReport:
    """Walk the chain in id order; return the first event whose link or content does not verify.

    A deleted event shows up as the next event's ``prev_hash`` not matching; an edited event as its
    own hash not matching its content; a removed tail as the head not matching the last event.
    """
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        events = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not events:
            break
        for event in events:
            if event.prev_hash != prev:
                return ChainReport(
                    False, checked, event.id, "previous-hash link broken (an event was removed or inserted)"
                )
            if _event_digest(event) != event.hash:
                return ChainReport(
                    False, checked, event.id, "content does not match its hash (the event was edited)"
                )
            prev = event.hash
            checked += 1
            last_id = event.id
    head = AuditHead.objects.filter(id=1).first()
    if head is not None and head.last_hash != prev:
        return ChainReport(False, checked, None, "the chain's last events were removed")
    return ChainReport(True, checked)
