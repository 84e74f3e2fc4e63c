"""Sending e-mails to data subjects through the outbox (``OutboundEmail``).

A service that wants an e-mail sent calls :func:`email_queue` inside its transaction: the row
commits with the change that caused it, and after commit the worker is asked to send it
(:func:`email_deliver`, a Celery task with the row id only). The web request never talks to
the SMTP server. The worker claims the row with a conditional UPDATE (one sender at a time),
renders the e-mail from the request, sends it and records the outcome: ``sent``; ``pending`` with
a later ``next_attempt_at`` after a transient error (bounded, exponential backoff with jitter); or
``failed`` with the reason, in the audit log and on the request's page in the dashboard. The
reconciler (:func:`emails_reconcile`, Celery beat) sends what a broker outage, a dead worker or an
SMTP failure left behind.
"""

from __future__ import annotations

import json
import logging
import random
import smtplib
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from dsr.identity import crypto
from dsr.notifications.models import CODE_KINDS, EmailKind, EmailStatus, OutboundEmail

if TYPE_CHECKING:
    from dsr.identity.services import IssuedCode
    from dsr.workflow.models import DataSubjectRequest

log = logging.getLogger(__name__)


class PermanentEmailError(Exception):
    """This e-mail cannot be delivered by trying again (the address or the server refuses it)."""


def email_queue(*, request: DataSubjectRequest, kind: str, issued: IssuedCode | None = None) -> OutboundEmail:
    """Record an e-mail to the request's person and have the worker send it after commit.

    ``issued`` is the one-time code of a code e-mail: it is kept encrypted until sent.
    """
    if (kind in CODE_KINDS) != (issued is not None):
        raise ValueError(f"a {kind} e-mail {'needs' if kind in CODE_KINDS else 'takes no'} code")
    email = OutboundEmail.objects.create(
        request=request,
        kind=kind,
        payload=crypto.encrypt(json.dumps({"code": issued.code})) if issued is not None else "",
        challenge=issued.challenge if issued is not None else None,
        challenge_sends=issued.challenge.sends if issued is not None else None,
    )
    email_id = email.pk
    transaction.on_commit(lambda: email_enqueue(email_id=email_id))
    return email


def email_enqueue(*, email_id: int) -> bool:
    """Hand the e-mail to the broker. Returns False when the broker is unreachable: the row stays
    pending (``enqueued_at`` unset) and the reconciler sends it later."""
    from dsr.notifications.tasks import send_email

    # Marked before publishing: the worker may take it (and fail, which clears the mark) at once.
    OutboundEmail.objects.filter(pk=email_id, status=EmailStatus.PENDING).update(enqueued_at=timezone.now())
    try:
        send_email.delay(email_id)
    except Exception:  # the broker is down (kombu's OperationalError, a refused connection, ...)
        OutboundEmail.objects.filter(pk=email_id, status=EmailStatus.PENDING).update(enqueued_at=None)
        log.warning("e-mail %s stays pending (broker unreachable); the reconciler sends it", email_id)
        return False
    return True


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with jitter: about base, 2 x base, 4 x base ... up to the maximum."""
    base, ceiling = settings.DSR_EMAIL_BACKOFF_BASE, settings.DSR_EMAIL_BACKOFF_MAX
    delay = min(ceiling, base * (2 ** max(attempt - 1, 0)))
    return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 - jitter, not security  # nosec B311


def _claim(email_id: int) -> OutboundEmail | None:
    """Take the e-mail if it is due (or its sender died mid-send); None when another has it."""
    now = timezone.now()
    due = Q(status=EmailStatus.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    abandoned = Q(status=EmailStatus.SENDING, lease_expires_at__lt=now)
    won = (
        OutboundEmail.objects.filter(pk=email_id)
        .filter(due | abandoned)
        .update(
            status=EmailStatus.SENDING,
            attempts=F("attempts") + 1,
            lease_expires_at=now + settings.DSR_EMAIL_LEASE,
            updated_at=now,
        )
    )
    if not won:
        return None
    return OutboundEmail.objects.select_related("request").get(pk=email_id)


def _finish(email: OutboundEmail, **values: object) -> bool:
    """Store an outcome only while this sender still holds the e-mail."""
    values.setdefault("updated_at", timezone.now())
    values.setdefault("lease_expires_at", None)
    held = OutboundEmail.objects.filter(pk=email.pk, status=EmailStatus.SENDING, attempts=email.attempts)
    return bool(held.update(**values))


def _send(email: OutboundEmail) -> None:
    """Render and send; raises on failure (``PermanentEmailError`` for what retrying cannot fix)."""
    from dsr.notifications import services

    request = email.request
    if email.kind in CODE_KINDS:
        code = json.loads(crypto.decrypt(email.payload))["code"]
        purpose = "verify" if email.kind == EmailKind.VERIFY_CODE else "download"
        services.email_send_code(request=request, code=code, purpose=purpose)
    elif email.kind == EmailKind.STATUS_LINK:
        services.email_send_status_link(request=request)
    else:
        services.email_send_status(request=request, kind=email.kind)


def _permanent(exc: BaseException) -> bool:
    if isinstance(exc, PermanentEmailError | UnicodeError):  # e.g. a domain IDNA cannot encode
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):  # 5xx: no such mailbox, domain, ...
        return all(int(code) >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPDataError):  # 5xx: this message is refused
        return 500 <= exc.smtp_code < 600
    # Anything else (a refused connection, a timeout, 4xx, a sign-in or sender the server refuses,
    # which an operator can fix) is retried, within DSR_EMAIL_MAX_ATTEMPTS.
    return False


def _readable(exc: BaseException, request: DataSubjectRequest) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if request.email:
        text = text.replace(request.email, "[address]")  # staff see the masked address elsewhere
    return text[:1000]


def _not_needed(email: OutboundEmail) -> str:
    """Why this e-mail must not go out any more, or "" to send it."""
    from dsr.identity.services import challenge_code_sending

    if not email.request.email:
        return "the request's identity was purged"
    if email.kind in CODE_KINDS:
        if email.challenge_id is None or email.challenge_sends is None:
            return "the code was used or removed"
        if not challenge_code_sending(challenge_id=email.challenge_id, sends=email.challenge_sends):
            return "a newer code replaced this one, or it was used"
    return ""


def email_deliver(*, email_id: int) -> str:
    """Claim, send and record one e-mail. Returns its status afterwards ("" when not claimed)."""
    from dsr.audit.services import audit_record

    email = _claim(email_id)
    if email is None:
        return ""
    reason = _not_needed(email)
    if reason:
        _finish(email, status=EmailStatus.CANCELLED, payload="", last_error=reason)
        return EmailStatus.CANCELLED
    try:
        _send(email)
    except Exception as exc:
        message = _readable(exc, email.request)
        if _permanent(exc) or email.attempts >= settings.DSR_EMAIL_MAX_ATTEMPTS:
            final = message if _permanent(exc) else f"gave up after {email.attempts} attempts: {message}"
            with transaction.atomic():
                if _finish(email, status=EmailStatus.FAILED, payload="", last_error=final):
                    audit_record(
                        actor="worker",
                        action="email.failed",
                        request_id=email.request_id,
                        data={"email": email.pk, "kind": email.kind, "error": final},
                    )
            log.error("e-mail %s (%s) failed: %s", email.pk, email.kind, final)
            return EmailStatus.FAILED
        delay = backoff_seconds(email.attempts)
        _finish(
            email,
            status=EmailStatus.PENDING,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
            enqueued_at=None,  # the reconciler sends it once due
            last_error=message,
        )
        log.warning(
            "e-mail %s (%s): %s; attempt %s in %.0fs",
            email.pk,
            email.kind,
            message,
            email.attempts + 1,
            delay,
        )
        return EmailStatus.PENDING
    with transaction.atomic():
        if _finish(email, status=EmailStatus.SENT, payload="", last_error="", sent_at=timezone.now()):
            audit_record(
                actor="worker",
                action="email.sent",
                request_id=email.request_id,
                data={"email": email.pk, "kind": email.kind, "attempts": email.attempts},
            )
    return EmailStatus.SENT


def emails_reconcile(*, batch_size: int = 200) -> dict[str, int]:
    """Enqueue the e-mails left behind: pending and due but never (or long ago) handed to the
    broker, and those whose sender died mid-send (lease expired). Safe to run at any time."""
    now = timezone.now()
    stale = now - settings.DSR_EMAIL_REQUEUE_AFTER
    lost = Q(status=EmailStatus.SENDING, lease_expires_at__lt=now) | (
        Q(status=EmailStatus.PENDING)
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        & (Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale))
    )
    ids = list(OutboundEmail.objects.filter(lost).order_by("id").values_list("pk", flat=True)[:batch_size])
    enqueued = sum(1 for email_id in ids if email_enqueue(email_id=email_id))
    return {"found": len(ids), "enqueued": enqueued}
