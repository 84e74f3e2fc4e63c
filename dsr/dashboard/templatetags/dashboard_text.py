"""Readable renderings for the dashboard: an audit event's data as key/value pairs, not a dict."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def _readable(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_readable(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(_readable(v) for v in value) or "—"
    return str(value)


@register.filter
def data_items(data: Any) -> list[tuple[str, str]]:
    """``{"job": 4, "systems": ["crm", "shop"]}`` as ``[("job", "4"), ("systems", "crm, shop")]``."""
    if not isinstance(data, dict):
        return [("value", _readable(data))] if data not in (None, "", [], {}) else []
    return [(str(key).replace("_", " "), _readable(value)) for key, value in data.items()]
