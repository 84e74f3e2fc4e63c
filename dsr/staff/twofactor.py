"""Two-factor authentication for staff, on django-otp: an authenticator app (TOTP, RFC 6238) and
static backup codes.

The one place that says whether a signed-in user passed the second factor is ``user_verified``:
django-otp's ``OTPMiddleware`` records the device a session was verified with, and the dashboard,
the staff API (session authentication) and the Django admin all ask it.
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any
from urllib.parse import quote, urlencode

import django_otp
import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from dsr.audit.services import audit_record
from dsr.staff.actors import staff_actor
from dsr.staff.models import StaffTOTPDevice

BACKUP_CODE_COUNT = 10
DEVICE_NAME = "authenticator"
BACKUP_DEVICE_NAME = "backup codes"


def secret_new() -> str:
    """A 160-bit secret in base32, as authenticator apps expect it (RFC 4226 §4 recommends 160 bits)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    return base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))


def code_at(secret: str, when: float) -> str:
    """The code an authenticator shows at unix time ``when`` (tests, the demo command)."""
    generator = TOTP(_key(secret), step=30, t0=0, digits=6)
    generator.time = when
    return str(generator.token()).zfill(6)


def provisioning_uri(*, device: StaffTOTPDevice) -> str:
    """The ``otpauth://`` URI an authenticator app imports (scanned as a QR code, or pasted)."""
    issuer = settings.OTP_TOTP_ISSUER
    label = quote(f"{issuer}:{device.user.get_username()}")
    query = urlencode(
        {
            "secret": device.secret,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        }
    )
    return f"otpauth://totp/{label}?{query}"


def qr_svg(uri: str) -> SafeString:
    """The URI as an inline SVG QR code, rendered here (no network, no script: the CSP allows it)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff", title="QR code")
    # segno writes the markup from the QR matrix; the only text in it is our fixed title.
    return mark_safe(svg)  # noqa: S308  # nosec B308 B703


def user_verified(user: Any) -> bool:
    """True when ``user`` is signed in and this session passed the second factor."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified is not None and is_verified())


def totp_device_for(*, user: Any) -> StaffTOTPDevice | None:
    """The user's confirmed authenticator, or None while two-factor authentication is not set up."""
    return StaffTOTPDevice.objects.filter(user=user, confirmed=True).first()


@transaction.atomic
def totp_enrol_start(*, user: Any) -> StaffTOTPDevice:
    """The user's device: the confirmed one, or an unconfirmed one with a fresh secret to enrol."""
    device = (
        StaffTOTPDevice.objects.select_for_update().filter(user=user).order_by("-confirmed", "pk").first()
    )
    if device is None:
        device = StaffTOTPDevice.objects.create(
            user=user, name=DEVICE_NAME, secret=secret_new(), confirmed=False
        )
    return device


@transaction.atomic
def totp_confirm(*, user: Any, code: str) -> StaffTOTPDevice | None:
    """End of enrolment: the first correct code confirms the unconfirmed device (None: wrong code)."""
    device = StaffTOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None or not device.verify_token(code):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record(
        actor=staff_actor(user),
        action="staff.totp_enrolled",
        data={"username": user.get_username()},
    )
    return device


@transaction.atomic
def backup_codes_create(*, user: Any) -> list[str]:
    """Replace the user's backup codes with ``BACKUP_CODE_COUNT`` new ones; each works once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    audit_record(
        actor=staff_actor(user),
        action="staff.backup_codes_created",
        data={"username": user.get_username()},
    )
    return codes


def backup_codes_left(*, user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def second_factor_check(*, user: Any, code: str) -> Any:
    """The confirmed device that accepts ``code`` — six digits: the authenticator; anything else: a
    backup code — or None. A matched code is spent: TOTP remembers its time step, a backup code is
    deleted. Wrong codes slow the device down (django-otp's throttling).
    """
    code = "".join(code.split()).lower()
    if not code:
        return None
    devices: Any
    if code.isdigit() and len(code) == 6:
        devices = StaffTOTPDevice.objects.select_for_update().filter(user=user, confirmed=True)
    else:
        devices = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True)
    for device in devices:
        if device.verify_token(code):
            return device
    return None


def session_mark_verified(*, request: HttpRequest, device: Any) -> None:
    """Record in the session that it passed the second factor with ``device`` (django-otp's login)."""
    django_otp.login(request, device)


@transaction.atomic
def totp_reset(*, user: Any, actor: str) -> None:
    """Remove the user's authenticator and backup codes: the next sign-in enrols anew (a lost phone)."""
    StaffTOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(actor=actor, action="staff.totp_reset", data={"username": user.get_username()})


def demo_code(*, device: StaffTOTPDevice) -> tuple[str, int]:
    """The current code of ``device`` and the seconds it stays valid (the demo's helper command)."""
    now = time.time()
    return code_at(device.secret, now), device.step - int(now) % device.step
