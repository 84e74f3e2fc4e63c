"""The inventory of systems that hold personal data, each bound to a connector configuration."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from dsr.identity.fields import BoundEncryptedTextField
from dsr.systems.binding import TAMPERED_MESSAGE, secrets_binding
from dsr.systems.inventory import DPA_STATUSES


class System(models.Model):
    key = models.SlugField(
        max_length=64, unique=True, help_text=_("Stable identifier used in files and the API.")
    )
    name = models.CharField(max_length=200)
    connector = models.CharField(max_length=64, help_text=_("Registered connector key, e.g. 'sql'."))
    # Non-secret configuration; secret fields live in `secrets` (encrypted) or name an env variable.
    config = models.JSONField(default=dict, blank=True)
    # Sealed with key, connector and config as associated data (dsr/systems/binding.py): a row whose
    # config was changed outside DSR Hub cannot open its secrets. Write through dsr.systems.services.
    secrets = BoundEncryptedTextField(
        blank=True,
        default="",
        binding="encryption_binding",
        tampered_message=TAMPERED_MESSAGE,
        help_text=_("JSON of secret fields, encrypted at rest."),
    )
    enabled = models.BooleanField(default=True)
    # Declared erasure ordering: this system's erasure starts only after these systems' erasures
    # succeeded (e.g. the warehouse after the CRM that syncs into it).
    erase_after = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="erased_before")
    description = models.TextField(blank=True)

    # The record of processing (GDPR Art. 30) the access package's cover letter is generated from:
    # Art. 15(1)(a)-(h) and 15(2), and the categories of 11 CCR §7024. See dsr/systems/inventory.py.
    purposes = models.JSONField(
        default=list, blank=True, help_text=_('Why the data is processed, e.g. ["Order fulfilment"].')
    )
    data_categories = models.JSONField(
        default=list, blank=True, help_text=_('Categories of personal data, e.g. ["Contact details"].')
    )
    legal_basis = models.CharField(
        max_length=300, blank=True, help_text=_("e.g. 'Contract (GDPR Art. 6(1)(b))'.")
    )
    recipients = models.JSONField(
        default=list,
        blank=True,
        help_text=_(
            'Who receives the data: [{"name": "Parcel Co", "country": "US", "safeguard": '
            '"Standard contractual clauses"}]. A country outside the EEA needs a safeguard.'
        ),
    )
    retention = models.TextField(blank=True, help_text=_("How long the data is kept, or the criteria."))
    source = models.TextField(
        blank=True, help_text=_("Where the data comes from when not from the person; empty: from them.")
    )
    vendor = models.CharField(
        max_length=200, blank=True, help_text=_("The processor operating the system; empty: in-house.")
    )
    dpa_status = models.CharField(
        max_length=20,
        default="in_house",
        choices=[(k, v) for k, v in DPA_STATUSES.items()],
        help_text=_("Status of the data processing agreement with the vendor."),
    )
    region = models.CharField(max_length=100, blank=True, help_text=_("Where the data is hosted."))
    automated_decisions = models.TextField(
        blank=True,
        help_text=_("Automated decisions or profiling (GDPR Art. 22), their logic and effects; empty: none."),
    )
    # Redaction before packaging. never_disclose: {"customers": {"ssn": "ssn"}} (11 CCR §7024(d));
    # third_party_fields: {"orders": ["gift_recipient"]}, another person's data (GDPR Art. 15(4)).
    never_disclose = models.JSONField(
        default=dict,
        blank=True,
        help_text=_('Fields held but never disclosed: {"table": {"field": "kind"}}.'),
    )
    third_party_fields = models.JSONField(
        default=dict, blank=True, help_text=_("Fields holding other people's data: {'table': ['field']}.")
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def from_db(cls, db: str | None, field_names: Collection[str], values: Collection[Any]) -> System:
        instance = super().from_db(db, field_names, values)
        if not {"key", "connector", "config"} & instance.get_deferred_fields():
            # What the secrets are opened against: the row as stored, not as later edited in memory.
            instance._loaded_binding = instance.encryption_binding()  # type: ignore[attr-defined]
        return instance

    def encryption_binding(self) -> bytes:
        """The associated data the secrets are sealed with (see dsr.systems.binding)."""
        return secrets_binding(key=self.key, connector=self.connector, config=self.config or {})
