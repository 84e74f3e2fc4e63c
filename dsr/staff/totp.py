"""Two-factor authentication for staff: time-based one-time passwords (RFC 6238, HOTP RFC 4226).

A small implementation on ``hmac`` rather than a dependency: HMAC-SHA1, 30-second steps, 6 digits
(what every authenticator app uses by default), one step of clock drift accepted either side, and a
code accepted at most once (the last accepted step is stored).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from typing import Any
from urllib.parse import quote, urlencode

from django.db import transaction
from django.utils import timezone

from dsr.audit.services import audit_record
from dsr.staff.models import TotpDevice

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
ISSUER = "DSR Hub"


def hotp(key: bytes, counter: int, *, digits: int = DIGITS) -> str:
    """RFC 4226 §5.3: dynamic truncation of HMAC-SHA1(key, counter)."""
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def secret_new() -> str:
    """A 160-bit secret in base32, as authenticator apps expect it (RFC 4226 §4 recommends 160 bits)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    padded = secret.upper() + "=" * (-len(secret) % 8)
    return base64.b32decode(padded)


def step_at(when: float) -> int:
    return int(when // STEP_SECONDS)


def code_at(secret: str, when: float) -> str:
    """The code an authenticator shows at unix time ``when`` (used by tests and enrolment)."""
    return hotp(_key(secret), step_at(when))


def provisioning_uri(*, secret: str, username: str) -> str:
    """The ``otpauth://`` URI an authenticator app imports (typed in, or pasted)."""
    label = quote(f"{ISSUER}:{username}")
    query = urlencode(
        {"secret": secret, "issuer": ISSUER, "algorithm": "SHA1", "digits": DIGITS, "period": 30}
    )
    return f"otpauth://totp/{label}?{query}"


def matching_step(secret: str, code: str, *, now: float, after: int) -> int | None:
    """The time step whose code equals ``code`` (within the drift window and later than ``after``)."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    key = _key(secret)
    current = step_at(now)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Compare every candidate (constant work whatever matches).
        if hmac.compare_digest(hotp(key, step), code) and step > after:
            found = step
    return found


# --- services ---------------------------------------------------------------------------------


def totp_device_for(*, user: Any) -> TotpDevice | None:
    """The user's confirmed device, or None while two-factor authentication is not set up."""
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


@transaction.atomic
def totp_enrol_start(*, user: Any) -> TotpDevice:
    """Create (or keep) an unconfirmed device with a fresh secret for enrolment."""
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is not None and device.confirmed_at is not None:
        return device
    if device is None:
        return TotpDevice.objects.create(user=user, secret=secret_new())
    return device


@transaction.atomic
def totp_verify(*, user: Any, code: str, now: float | None = None) -> bool:
    """Check ``code`` against the user's device and remember the step, so a code works once.

    An unconfirmed device becomes confirmed by its first correct code (end of enrolment).
    """
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is None:
        return False
    step = matching_step(device.secret, code, now=time.time() if now is None else now, after=device.last_step)
    if step is None:
        return False
    device.last_step = step
    fields = ["last_step"]
    if device.confirmed_at is None:
        device.confirmed_at = timezone.now()
        fields.append("confirmed_at")
        audit_record(
            actor=f"staff:{user.get_username()}",
            action="staff.totp_enrolled",
            data={"username": user.get_username()},
        )
    device.save(update_fields=fields)
    return True


@transaction.atomic
def totp_reset(*, user: Any, actor: str) -> None:
    """Remove the user's device: the next login enrols a new one (a lost phone)."""
    TotpDevice.objects.filter(user=user).delete()
    audit_record(actor=actor, action="staff.totp_reset", data={"username": user.get_username()})
