from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    VIEWER = "viewer", _("Viewer (read, identities masked)")
    AGENT = "agent", _("Agent (process requests)")
    APPROVER = "approver", _("Approver (approve, deny, extend)")
    ADMIN = "admin", _("Administrator")


class StaffProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(max_length=10, choices=Role.choices)

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"
