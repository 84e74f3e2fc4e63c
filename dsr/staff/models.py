from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

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


class TotpDevice(models.Model):
    """A staff member's authenticator (RFC 6238 TOTP). The shared secret is encrypted at rest.

    ``confirmed_at`` is set once the person typed a correct code during enrolment; until then the
    device does not count. ``last_step`` is the last time step accepted, so that a code cannot be
    replayed within its validity window.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp")
    secret = EncryptedTextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"TOTP of {self.user}"
