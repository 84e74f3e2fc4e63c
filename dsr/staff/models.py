from __future__ import annotations

import base64
import time
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from dsr.identity.fields import EncryptedTextField


class Role(models.TextChoices):
    VIEWER = "viewer", _("Viewer (read, identities masked)")
    AGENT = "agent", _("Agent (process requests)")
    APPROVER = "approver", _("Approver (approve, deny, extend)")
    ADMIN = "admin", _("Administrator")


class StaffProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(max_length=10, choices=Role.choices)
    # IANA zone the dashboard shows times in (received, audit events); empty: DSR_STAFF_TIME_ZONE.
    time_zone = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class StaffTOTPDevice(TimestampMixin, ThrottlingMixin, Device):
    """A staff member's authenticator (RFC 6238 TOTP) as a django-otp device.

    django-otp's own ``TOTPDevice`` keeps its key in clear; this device keeps the base32 secret
    encrypted at rest (``EncryptedTextField``, the identities' AES-GCM key ring) and otherwise
    behaves like it: 30-second steps, 6 digits, one step of drift either side, a code accepted at
    most once (``last_t``), and django-otp's throttling after wrong codes. ``confirmed`` becomes true
    once the person typed a correct code during enrolment; until then the device does not count.
    """

    secret = EncryptedTextField()
    step: models.PositiveSmallIntegerField[int, int] = models.PositiveSmallIntegerField(default=30)
    t0: models.BigIntegerField[int, int] = models.BigIntegerField(default=0)
    digits: models.PositiveSmallIntegerField[int, int] = models.PositiveSmallIntegerField(default=6)
    tolerance: models.PositiveSmallIntegerField[int, int] = models.PositiveSmallIntegerField(default=1)
    drift: models.SmallIntegerField[int, int] = models.SmallIntegerField(default=0)
    last_t: models.BigIntegerField[int, int] = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = "TOTP device"

    @property
    def bin_key(self) -> bytes:
        padded = self.secret.upper() + "=" * (-len(self.secret) % 8)
        return base64.b32decode(padded)

    def totp(self, when: float | None = None) -> TOTP:
        generator = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
        generator.time = time.time() if when is None else when
        return generator

    def verify_token(self, token: Any) -> bool:
        allowed, _reason = self.verify_is_allowed()
        if not allowed:
            return False
        text = "".join(str(token).split())
        verified = False
        if len(text) == self.digits and text.isdigit():
            generator = self.totp()
            verified = generator.verify(int(text), self.tolerance, self.last_t + 1)
            if verified:
                self.last_t = generator.t()
                self.drift = generator.drift
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
        if not verified:
            self.throttle_increment(commit=True)
        return verified

    def get_throttle_factor(self) -> int:
        return int(getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1))
