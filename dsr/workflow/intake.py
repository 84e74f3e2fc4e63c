"""Intake: creating a request (portal, API, staff, import), verifying the person's e-mail address,
and expiring requests never verified in time."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from connectors.types import normalise_email, normalise_phone
from dsr.errors import RequestInputError
from dsr.identity import crypto
from dsr.identity.blind_index import email_blind_index
from dsr.identity.models import Purpose
from dsr.identity.services import challenge_check, challenge_issue
from dsr.notifications.models import EmailKind
from dsr.notifications.outbox import email_queue
from dsr.workflow import deadlines
from dsr.workflow.inputs import email_problem
from dsr.workflow.models import (
    UNVERIFIED_TYPES,
    AuthorizedAgent,
    Channel,
    DataSubjectRequest,
    RequestType,
    Status,
)
from dsr.workflow.transitions import request_transition

log = logging.getLogger(__name__)


AGENT_PERMISSION_MAX_BYTES = 5 * 1024 * 1024
# Signed-permission files: sniffed from their first bytes, never trusted from the upload's name.
_PERMISSION_TYPES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def not_in_force_message(exc: deadlines.NotInForce) -> str:
    """What a person from a state whose law is not yet in force is told (portal and API)."""
    return gettext(
        "The privacy law of %(place)s (%(law)s) applies to requests received from %(effective)s. "
        "It was not yet in force on %(received)s, so we cannot take this request under it."
    ) % {
        "place": exc.name,
        "law": exc.law,
        "effective": exc.effective.isoformat(),
        "received": exc.on.isoformat(),
    }


def request_regime(*, jurisdiction: str, received_at: datetime) -> deadlines.Regime:
    """The regime whose law applies to a request from ``jurisdiction`` received at ``received_at``.

    A law not yet in force on the (local) day of receipt does not apply. Raises
    ``RequestInputError`` on the ``jurisdiction`` field for an unknown code or such a law.
    """
    try:
        on = deadlines.local_date(jurisdiction, received_at)
        return deadlines.regime_for(jurisdiction, on=on)
    except deadlines.UnknownJurisdiction:
        raise RequestInputError(
            {"jurisdiction": f"'{jurisdiction}' is not a supported jurisdiction code."}
        ) from None
    except deadlines.NotInForce as exc:
        raise RequestInputError({"jurisdiction": not_in_force_message(exc)}) from None


def request_types_for(jurisdiction: str) -> tuple[str, ...]:
    """Request types a person living in ``jurisdiction`` may file, in ``RequestType`` order.

    Raises ``deadlines.UnknownJurisdiction`` for an unsupported code.
    """
    regime = deadlines.regime_for(jurisdiction)
    return tuple(t for t in RequestType.values if regime.grants(t))


@dataclass(frozen=True)
class AgentInput:
    """An authorized agent (11 CCR §7063): who they are and the person's signed permission."""

    name: str
    email: str
    permission: File


def _permission_content_type(head: bytes) -> str | None:
    for magic, content_type in _PERMISSION_TYPES:
        if head.startswith(magic):
            return content_type
    return None


def _agent_read_permission(agent: AgentInput) -> tuple[bytes, str]:
    if not agent.name.strip():
        raise RequestInputError({"agent_name": gettext("Enter the agent's name.")})
    if not agent.email.strip():
        raise RequestInputError({"agent_email": gettext("Enter the agent's e-mail address.")})
    if agent.permission.size is None or agent.permission.size > AGENT_PERMISSION_MAX_BYTES:
        raise RequestInputError({"agent_permission": gettext("The permission file must be 5 MB or smaller.")})
    data = agent.permission.read(AGENT_PERMISSION_MAX_BYTES + 1)
    if len(data) > AGENT_PERMISSION_MAX_BYTES:
        raise RequestInputError({"agent_permission": gettext("The permission file must be 5 MB or smaller.")})
    content_type = _permission_content_type(data[:8])
    if content_type is None:
        raise RequestInputError(
            {"agent_permission": gettext("The permission file must be a PDF, PNG or JPEG.")}
        )
    return data, content_type


def request_create(
    *,
    type: str,
    email: str,
    jurisdiction: str,
    full_name: str = "",
    phone: str = "",
    language: str = "en",
    channel: str = Channel.API,
    details: str = "",
    gpc_signalled: bool = False,
    agent: AgentInput | None = None,
    received_at: datetime | None = None,
    external_id: str | None = None,
    is_test: bool = False,
    verified_by: str = "",
    actor: str = "subject",
) -> DataSubjectRequest:
    """Record a new request, start its legal clock and e-mail a verification code.

    The response must not reveal whether the e-mail is known anywhere (no enumeration), so
    nothing here looks the person up in any system.

    Opt-outs of sale/sharing and of direct marketing (``UNVERIFIED_TYPES``) are not verifiable
    requests (11 CCR §7026(d); GDPR Art. 21(3)): no code is sent, the request goes to work at
    once and is acknowledged by e-mail. ``gpc_signalled`` records that the browser sent the
    Global Privacy Control signal (11 CCR §7025). An ``agent`` files for the person with their
    signed permission (11 CCR §7063); the code still goes to the person.

    Staff intake (the backlog import, test requests) also comes through here:

    * ``received_at`` is the original receipt (the legal clock started then, 11 CCR §7021(b),
      GDPR Art. 12(3)); it must not lie in the future. Default: now.
    * ``external_id`` is the request's id in the tool it came from (unique: a re-import finds it).
    * ``verified_by`` names the staff member (an admin: ``request.import_verified``) who attests
      that the person was already verified elsewhere; no code is sent and the attestation is
      audited as ``request.verified_by_staff``. CCPA still requires that verification
      (11 CCR §7060); this records who answers for it.
    * ``is_test`` marks a test request: there is no person to verify or e-mail, so it waits for
      approval at once (``request.test_accepted``); its connectors run in dry-run mode.
    * ``actor`` is who filed it, for the audit log.
    """
    if problem := email_problem(email):
        raise RequestInputError({"email": problem})
    jurisdiction = jurisdiction.strip().upper()
    now = timezone.now()
    if received_at is None:
        received_at = now
    elif received_at.tzinfo is None or received_at > now:
        raise RequestInputError({"received_at": "The date of receipt must be a past, timezone-aware time."})
    regime = request_regime(jurisdiction=jurisdiction, received_at=received_at)
    if type not in RequestType.values or not regime.grants(type):
        raise RequestInputError(
            {"type": f"The law of {jurisdiction} does not grant a right of {type} requests."}
        )
    if type == RequestType.CORRECTION and not details.strip():
        raise RequestInputError({"details": gettext("Tell us what is wrong and how it should read.")})
    permission = _agent_read_permission(agent) if agent is not None else None
    external_id = (external_id or "").strip() or None
    schedule = deadlines.schedule_for(jurisdiction=jurisdiction, request_type=type, received_at=received_at)
    with transaction.atomic():
        request = DataSubjectRequest.objects.create(
            type=type,
            jurisdiction=jurisdiction,
            regime=regime.code,
            channel=channel,
            language=language,
            email=normalise_email(email),
            email_index=email_blind_index(email),
            full_name=full_name.strip(),
            phone=normalise_phone(phone) if phone else "",
            received_at=received_at,
            ack_due_at=schedule.acknowledge.due_at if schedule.acknowledge else None,
            due_at=schedule.respond.due_at,
            due_explanation=schedule.respond.explanation,
            details=details.strip(),
            gpc_signalled=gpc_signalled,
            external_id=external_id,
            is_test=is_test,
        )
        from dsr.audit.services import audit_record

        received: dict[str, Any] = {
            "type": type,
            "jurisdiction": jurisdiction,
            "channel": channel,
            "due_at": request.due_at,
            "gpc": gpc_signalled,
            "agent": agent is not None,
        }
        if external_id is not None:
            received.update(external_id=external_id, received_at=received_at)
        if is_test:
            received["test"] = True
        audit_record(actor=actor, action="request.received", request_id=request.pk, data=received)
        if agent is not None and permission is not None:
            data, content_type = permission
            path = default_storage.save(
                f"agent-permissions/{request.pk}.bin", ContentFile(crypto.encrypt_bytes(data))
            )
            AuthorizedAgent.objects.create(
                request=request,
                name=agent.name.strip(),
                email=normalise_email(agent.email),
                permission_path=path,
                permission_content_type=content_type,
                permission_size=len(data),
            )
        if type in UNVERIFIED_TYPES:
            request = request_transition(
                request_id=request.pk,
                to=Status.IN_PROGRESS,
                actor="subject",
                event="request.accepted_without_verification",
                data={"rule": "11 CCR §7026(d)" if type == RequestType.OPT_OUT else "GDPR Art. 21(3)"},
                fields={"approved_at": received_at},
            )
        elif verified_by or is_test:
            request = _request_accept_for_staff(request=request, verified_by=verified_by, actor=actor)
        else:
            issued = challenge_issue(request_id=request.pk, purpose=Purpose.VERIFY)
            # Sent by the worker after commit through the outbox, never inside this web request.
            email_queue(request=request, kind=EmailKind.VERIFY_CODE, issued=issued)
    return request


def _request_accept_for_staff(
    *, request: DataSubjectRequest, verified_by: str, actor: str
) -> DataSubjectRequest:
    """Move a staff-entered request past verification: attested by ``verified_by``, or a test
    request (nobody to verify). It then follows the normal path (approval unless auto-approved)."""
    target = Status.IN_PROGRESS if request.type in settings.DSR_AUTO_APPROVE else Status.AWAITING_APPROVAL
    now = timezone.now()
    fields: dict[str, Any] = {"approved_at": now} if target == Status.IN_PROGRESS else {}
    if verified_by:
        fields["verified_at"] = now
        return request_transition(
            request_id=request.pk,
            to=target,
            actor=verified_by,
            event="request.verified_by_staff",
            data={"external_id": request.external_id, "test": request.is_test},
            fields=fields,
        )
    return request_transition(
        request_id=request.pk,
        to=target,
        actor=actor,
        event="request.test_accepted",
        data={"rule": "test request: no person to verify; connectors run in dry-run mode"},
        fields=fields,
    )


def request_resend_code(*, request_id: uuid.UUID | str) -> None:
    """Send a new code for the same request. Silently does nothing once the request is verified."""
    request = DataSubjectRequest.objects.filter(pk=request_id).first()
    if request is None or request.status != Status.PENDING_VERIFICATION:
        return
    with transaction.atomic():
        issued = challenge_issue(request_id=request.pk, purpose=Purpose.VERIFY, resend=True)
        email_queue(request=request, kind=EmailKind.VERIFY_CODE, issued=issued)


def request_verify(*, request_id: uuid.UUID | str, code: str) -> DataSubjectRequest:
    """Check the code; on success move the request on (to approval, or straight to work)."""
    challenge_check(request_id=request_id, code=code, purpose=Purpose.VERIFY)
    request = DataSubjectRequest.objects.get(pk=request_id)
    target = Status.IN_PROGRESS if request.type in settings.DSR_AUTO_APPROVE else Status.AWAITING_APPROVAL
    now = timezone.now()
    fields: dict[str, Any] = {"verified_at": now}
    if target == Status.IN_PROGRESS:
        fields["approved_at"] = now
    return request_transition(
        request_id=request_id, to=target, actor="subject", event="request.verified", fields=fields
    )


# --- housekeeping -------------------------------------------------------------------------------


def requests_expire_unverified(*, batch_size: int = 500) -> int:
    """Expire requests never verified in time and purge their identity data (minimisation)."""
    cutoff = timezone.now() - settings.DSR_UNVERIFIED_EXPIRY
    # An imported backlog request (it has an ``external_id``) may have been received long ago; its
    # person gets the code only now, so its verification window runs from the import.
    late = Q(external_id__isnull=True, received_at__lt=cutoff) | Q(
        external_id__isnull=False, created_at__lt=cutoff
    )
    ids = list(
        DataSubjectRequest.objects.filter(late, status=Status.PENDING_VERIFICATION).values_list(
            "pk", flat=True
        )[:batch_size]
    )
    for request_id in ids:
        request_transition(
            request_id=request_id,
            to=Status.EXPIRED,
            actor="system",
            event="request.expired",
            fields={"email": "", "full_name": "", "phone": "", "identity_purged_at": timezone.now()},
        )
        from dsr.identity.models import VerificationChallenge

        VerificationChallenge.objects.filter(request_id=request_id).delete()
    return len(ids)
