import json
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from connectors import registry
from connectors.errors import ConfigError
from dsr.systems.inventory import INVENTORY_FIELDS, NEVER_DISCLOSE_KINDS, InventoryError, inventory_clean
from dsr.systems.models import System
from dsr.systems.services import split_secrets, system_save, system_secrets, validate_config


class SystemForm(forms.ModelForm):
    secrets_json = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            'Secret fields as JSON, e.g. {"token": {"env": "DSR_SECRET_HUBSPOT_TOKEN"}}. '
            "Empty keeps the stored ones."
        ),
    )
    #: What clean() decided to store: the complete secret fields, or None to keep the stored ones.
    secrets_to_store: dict[str, Any] | None = None

    class Meta:
        model = System
        fields = [
            "key",
            "name",
            "connector",
            "config",
            "enabled",
            "erase_after",
            "description",
            *INVENTORY_FIELDS,
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            data.update(inventory_clean({f: data[f] for f in INVENTORY_FIELDS if f in data}))
        except InventoryError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        connector, config = data.get("connector"), data.get("config") or {}
        if not connector:
            return data
        try:
            registry.get(connector)
        except registry.RegistryError as exc:
            self.add_error("connector", str(exc))
            return data
        secrets: dict[str, Any] = {}
        raw = data.get("secrets_json")
        if raw:
            try:
                secrets = json.loads(raw)
            except json.JSONDecodeError as exc:
                self.add_error("secrets_json", f"not valid JSON: {exc.msg}")
                return data
            if not isinstance(secrets, dict):
                self.add_error("secrets_json", "must be a JSON object")
                return data
        elif self.instance.pk:
            try:
                secrets = system_secrets(system=System.objects.get(pk=self.instance.pk))
            except ConfigError as exc:
                self.add_error("secrets_json", str(exc))
                return data
        plain, inline_secrets = split_secrets(connector_key=connector, config=config)
        secrets.update(inline_secrets)
        try:
            validate_config(connector_key=connector, config={**plain, **secrets})
        except ConfigError as exc:
            self.add_error("config", str(exc))
        data["config"] = plain
        self.secrets_to_store = secrets
        # Also on the instance, so that a bare form.save() keeps them; the admin saves through
        # system_save (SystemAdmin.save_model), which seals and audits.
        self.instance.secrets = json.dumps(secrets, sort_keys=True) if secrets else ""
        return data


@admin.register(System)
class SystemAdmin(admin.ModelAdmin):
    form = SystemForm
    list_display = ["key", "name", "connector", "enabled"]
    list_filter = ["connector", "enabled"]
    filter_horizontal = ["erase_after"]
    fieldsets = [
        (None, {"fields": ["key", "name", "connector", "config", "secrets_json", "enabled", "erase_after"]}),
        (
            _("Record of processing (the access package's cover letter, GDPR Art. 15)"),
            {
                "fields": [
                    "description",
                    "purposes",
                    "data_categories",
                    "legal_basis",
                    "recipients",
                    "retention",
                    "source",
                    "automated_decisions",
                ]
            },
        ),
        (_("Vendor"), {"fields": ["vendor", "dpa_status", "region"]}),
        (
            _("Redaction before packaging"),
            {
                "fields": ["never_disclose", "third_party_fields"],
                "description": format_lazy(
                    _(
                        "Never-disclose fields are replaced by a notice and listed as held, not "
                        "disclosed (11 CCR §7024(d)); kinds: {kinds}. Third-party fields hold other "
                        "people's data and are replaced (GDPR Art. 15(4))."
                    ),
                    kinds=", ".join(NEVER_DISCLOSE_KINDS),
                ),
            },
        ),
    ]

    def save_model(
        self, request: HttpRequest, obj: System, form: "forms.ModelForm[Any]", change: bool
    ) -> None:
        # One way to write a system (dsr.systems.services.system_save): sealed secrets, audited.
        system_save(
            system=obj,
            actor=f"admin:{request.user.get_username()}",
            source="admin",
            secrets=getattr(form, "secrets_to_store", None),
            erase_after=[s.key for s in form.cleaned_data.get("erase_after") or []],
        )

    def save_related(
        self, request: HttpRequest, form: "forms.ModelForm[Any]", formsets: Any, change: bool
    ) -> None:
        # erase_after was written by system_save; only inline formsets (none today) remain.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Jobs refer to systems; disable a system instead of deleting its history.
        return False
