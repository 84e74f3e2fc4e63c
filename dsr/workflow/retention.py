"""Data minimisation of our own records (GDPR Art. 5(1)(c) and (e); 11 CCR §7101).

Three purges, run together by the periodic task ``purge_personal_data`` (dsr/workflow/tasks.py):

1. ``challenges_purge``: verification challenges once they cannot matter any more (used, or their
   request no longer waits for that code). Codes are stored as HMACs and erased on use already;
   this removes the rows and their counters.
2. ``requests_purge_identity``: ``DSR_IDENTITY_RETENTION`` after a request closed, its identity goes
   (e-mail, name, phone, what the person wrote, the denial letter's text, the authorized agent and
   their signed permission). What 11 CCR §7101(a) requires a business to keep for 24 months stays:
   the date of the request, its type, the manner of submission (channel), the date and nature of
   the response (status, closing date, per-system counts) and the basis of a denial (reason code),
   tied to the person only through the keyed blind index of the e-mail — pseudonymised: it cannot
   be reversed without ``DSR_BLIND_INDEX_KEY``, yet it still recognises a repeat request.
3. ``requests_delete_records``: ``DSR_RECORD_RETENTION`` (24 months by default) after closing the
   record itself is deleted, with its jobs. The audit chain keeps its events (ids and outcomes
   only, never identity values), so it still verifies.

Each function handles a bounded batch and is safe to run at any time on any machine.
"""

from __future__ import annotations

import functools
import logging

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dsr.audit.services import audit_record
from dsr.identity.models import Purpose, VerificationChallenge
from dsr.workflow.models import TERMINAL_STATUSES, AuthorizedAgent, DataSubjectRequest, Status

log = logging.getLogger(__name__)

# The identity columns emptied by the purge (EncryptedTextField: "" is stored as "").
IDENTITY_FIELDS = {"email": "", "full_name": "", "phone": "", "details": "", "deny_message": ""}


def challenges_purge(*, batch_size: int = 1000) -> int:
    """Delete challenges that are used, or whose request no longer waits for that code.

    A verification challenge is kept while its request is still pending verification (its send
    and attempt counters are the brakes on guessing); a download challenge until a package lifetime
    after it expired. Returns the number deleted.
    """
    now = timezone.now()
    stale = (
        Q(consumed_at__isnull=False)
        | (Q(purpose=Purpose.VERIFY) & ~Q(request__status=Status.PENDING_VERIFICATION))
        | (Q(purpose=Purpose.DOWNLOAD) & Q(expires_at__lt=now - settings.DSR_PACKAGE_TTL))
    )
    ids = list(VerificationChallenge.objects.filter(stale).values_list("pk", flat=True)[:batch_size])
    deleted, _ = VerificationChallenge.objects.filter(pk__in=ids).delete()
    return deleted


def requests_purge_identity(*, batch_size: int = 200) -> int:
    """Purge the identity of requests closed more than ``DSR_IDENTITY_RETENTION`` ago.

    Keeps the §7101(a) record fields and the blind index (see the module docstring); sets
    ``identity_purged_at`` and writes a ``request.identity_purged`` audit event. Returns the number
    of requests purged.
    """
    cutoff = timezone.now() - settings.DSR_IDENTITY_RETENTION
    ids = list(
        DataSubjectRequest.objects.filter(
            status__in=TERMINAL_STATUSES, closed_at__lt=cutoff, identity_purged_at__isnull=True
        ).values_list("pk", flat=True)[:batch_size]
    )
    for request_id in ids:
        with transaction.atomic():
            request = DataSubjectRequest.objects.select_for_update().get(pk=request_id)
            if request.identity_purged_at is not None:
                continue
            now = timezone.now()
            for name, empty in IDENTITY_FIELDS.items():
                setattr(request, name, empty)
            request.identity_purged_at = now
            request.save(update_fields=[*IDENTITY_FIELDS, "identity_purged_at", "updated_at"])
            agent = AuthorizedAgent.objects.filter(request_id=request_id).first()
            if agent is not None:
                path = agent.permission_path
                agent.delete()
                transaction.on_commit(functools.partial(default_storage.delete, path), robust=True)
            VerificationChallenge.objects.filter(request_id=request_id).delete()
            audit_record(
                actor="system",
                action="request.identity_purged",
                request_id=request_id,
                data={"retention_days": settings.DSR_IDENTITY_RETENTION.days},
            )
    return len(ids)


def requests_delete_records(*, batch_size: int = 200) -> int:
    """Delete the records of requests closed more than ``DSR_RECORD_RETENTION`` ago (§7101(a): 24
    months). Their audit events stay (ids only). Returns the number of requests deleted."""
    cutoff = timezone.now() - settings.DSR_RECORD_RETENTION
    ids = list(
        DataSubjectRequest.objects.filter(status__in=TERMINAL_STATUSES, closed_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:batch_size]
    )
    for request_id in ids:
        with transaction.atomic():
            agent_paths = list(
                AuthorizedAgent.objects.filter(request_id=request_id).values_list(
                    "permission_path", flat=True
                )
            )
            deleted, _ = DataSubjectRequest.objects.filter(pk=request_id, closed_at__lt=cutoff).delete()
            if not deleted:
                continue
            for path in agent_paths:
                transaction.on_commit(functools.partial(default_storage.delete, path), robust=True)
            audit_record(
                actor="system",
                action="request.record_deleted",
                request_id=request_id,
                data={"retention_days": settings.DSR_RECORD_RETENTION.days},
            )
    return len(ids)


def personal_data_purge() -> dict[str, int]:
    """Run the three purges once; returns how many rows each handled (for the task's log)."""
    return {
        "challenges": challenges_purge(),
        "identities": requests_purge_identity(),
        "records": requests_delete_records(),
    }
