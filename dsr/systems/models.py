"""The inventory of systems that hold personal data, each bound to a connector configuration."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from dsr.identity.fields import EncryptedTextField


class System(models.Model):
    key = models.SlugField(
        max_length=64, unique=True, help_text=_("Stable identifier used in files and the API.")
    )
    name = models.CharField(max_length=200)
    connector = models.CharField(max_length=64, help_text=_("Registered connector key, e.g. 'sql'."))
    # Non-secret configuration; secret fields live in `secrets` (encrypted) or name an env variable.
    config = models.JSONField(default=dict, blank=True)
    secrets = EncryptedTextField(
        blank=True, default="", help_text=_("JSON of secret fields, encrypted at rest.")
    )
    enabled = models.BooleanField(default=True)
    # Declared erasure ordering: this system's erasure starts only after these systems' erasures
    # succeeded (e.g. the warehouse after the CRM that syncs into it).
    erase_after = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="erased_before")
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name
