"""Issuing and checking one-time codes.

Rules (issue 2, DESIGN.md): at least 6 digits, stored only as an HMAC, 15-minute lifetime, locked
after 5 wrong attempts, compared in constant time, resend reuses the same request (a new code
replaces the old one), and the code hash is erased once used.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dsr.identity.models import Purpose, VerificationChallenge

CODE_DIGITS = 6


class VerificationError(Exception):
    """Base class; ``message`` is safe to show to the person."""

    message = "The code could not be checked."


class CodeInvalid(VerificationError):
    def __init__(self, remaining: int) -> None:
        super().__init__()
        self.remaining = remaining
        self.message = (
            f"That code is not correct. {remaining} attempt{'s' if remaining != 1 else ''} left."
            if remaining
            else "That code is not correct. No attempts left: request a new code."
        )


class CodeExpired(VerificationError):
    message = "That code has expired. Request a new code."


class CodeLocked(VerificationError):
    message = "Too many wrong codes. Request a new code."


class NoActiveCode(VerificationError):
    message = "There is no code waiting for this request. Request a new code."


class ResendRefused(VerificationError):
    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


def _hash(challenge_id: int, code: str) -> str:
    key = hashlib.sha256(f"dsr-code:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


@dataclass(frozen=True)
class IssuedCode:
    challenge: VerificationChallenge
    code: str  # plaintext, only ever handed to the e-mail being sent


@transaction.atomic
def challenge_issue(
    *, request_id: uuid.UUID | str, purpose: str = Purpose.VERIFY, resend: bool = False
) -> IssuedCode:
    """Create the request's challenge for ``purpose`` or replace its code with a new one.

    A resend is refused (``ResendRefused``) when it comes too soon after the last one or past the
    resend limit; a new code resets the attempt counter and the lock.
    """
    now = timezone.now()
    challenge = (
        VerificationChallenge.objects.select_for_update()
        .filter(request_id=uuid.UUID(str(request_id)), purpose=purpose)
        .first()
    )
    if challenge is None:
        challenge = VerificationChallenge.objects.create(
            request_id=request_id, purpose=purpose, expires_at=now, last_sent_at=now, sends=0
        )
    elif resend:
        if challenge.sends >= settings.DSR_CODE_MAX_RESENDS + 1:
            raise ResendRefused("Too many codes were sent for this request. Please contact us.")
        wait = challenge.last_sent_at + settings.DSR_CODE_RESEND_INTERVAL - now
        if wait.total_seconds() > 0:
            raise ResendRefused(
                f"Please wait {int(wait.total_seconds()) + 1} seconds before asking for a new code."
            )
    code = _new_code()
    challenge.code_hash = _hash(challenge.pk, code)
    challenge.expires_at = now + settings.DSR_CODE_TTL
    challenge.attempts = 0
    challenge.locked_at = None
    challenge.consumed_at = None
    challenge.sends += 1
    challenge.last_sent_at = now
    challenge.save()
    return IssuedCode(challenge=challenge, code=code)


def challenge_check(*, request_id: uuid.UUID | str, code: str, purpose: str = Purpose.VERIFY) -> None:
    """Accept ``code`` or raise a ``VerificationError`` subclass.

    A wrong attempt is committed before the error is raised, so the count survives any outer
    rollback. On success the code hash is erased (verification data purged after use).
    """
    now = timezone.now()
    with transaction.atomic():
        challenge = (
            VerificationChallenge.objects.select_for_update()
            .filter(request_id=uuid.UUID(str(request_id)), purpose=purpose)
            .first()
        )
        if challenge is None or challenge.consumed_at is not None or not challenge.code_hash:
            raise NoActiveCode()
        if challenge.locked_at is not None:
            raise CodeLocked()
        if challenge.expires_at <= now:
            raise CodeExpired()
        expected = challenge.code_hash
        given = _hash(challenge.pk, code.strip())
        if hmac.compare_digest(expected, given):
            challenge.consumed_at = now
            challenge.code_hash = ""
            challenge.save(update_fields=["consumed_at", "code_hash"])
            return
        challenge.attempts += 1
        remaining = max(settings.DSR_CODE_MAX_ATTEMPTS - challenge.attempts, 0)
        if remaining == 0:
            challenge.locked_at = now
        challenge.save(update_fields=["attempts", "locked_at"])
    if remaining == 0:
        raise CodeLocked()
    raise CodeInvalid(remaining)


def challenge_code_sending(*, challenge_id: int, sends: int) -> bool:
    """The code e-mail of the challenge's ``sends``-th code is about to go out: its lifetime
    (``DSR_CODE_TTL``) starts now, so a code that waited in the outbox through an SMTP outage
    still works once it arrives. False when that code is no longer the challenge's current one
    (a newer code replaced it, it was used, or it is locked): then the e-mail is not sent."""
    return bool(
        VerificationChallenge.objects.filter(
            pk=challenge_id, sends=sends, consumed_at__isnull=True, locked_at__isnull=True
        ).update(expires_at=timezone.now() + settings.DSR_CODE_TTL)
    )
