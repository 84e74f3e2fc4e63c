import json
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from connectors import registry
from connectors.errors import ConfigError
from dsr.systems.models import System
from dsr.systems.services import split_secrets, validate_config


class SystemForm(forms.ModelForm):
    secrets_json = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            'Secret fields as JSON, e.g. {"token": {"env": "HUBSPOT_TOKEN"}}. Empty keeps the stored ones.'
        ),
    )

    class Meta:
        model = System
        fields = ["key", "name", "connector", "config", "enabled", "erase_after", "description"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
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
        elif self.instance.pk and self.instance.secrets:
            secrets = json.loads(self.instance.secrets)
        plain, inline_secrets = split_secrets(connector_key=connector, config=config)
        secrets.update(inline_secrets)
        try:
            validate_config(connector_key=connector, config={**plain, **secrets})
        except ConfigError as exc:
            self.add_error("config", str(exc))
        data["config"] = plain
        self.instance.secrets = json.dumps(secrets, sort_keys=True) if secrets else ""
        return data


@admin.register(System)
class SystemAdmin(admin.ModelAdmin):
    form = SystemForm
    list_display = ["key", "name", "connector", "enabled"]
    list_filter = ["connector", "enabled"]
    filter_horizontal = ["erase_after"]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Jobs refer to systems; disable a system instead of deleting its history.
        return False
