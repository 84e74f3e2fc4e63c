"""The record of processing kept per system: what the access package's cover letter is made of.

GDPR Art. 15(1)(a)-(h) and 15(2) ask for purposes, categories, recipients (third countries with
their safeguards), retention, source and automated decisions; 11 CCR §7024 asks for categories and
forbids disclosing certain fields (§7024(d)). ``inventory_clean`` validates these fields the same
way for the admin and for the systems YAML file.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _

#: The fields of ``System`` that make up the inventory, in the order the cover letter uses.
INVENTORY_FIELDS = (
    "purposes",
    "data_categories",
    "legal_basis",
    "recipients",
    "retention",
    "source",
    "vendor",
    "dpa_status",
    "region",
    "automated_decisions",
    "never_disclose",
    "third_party_fields",
)

#: EU member states plus Iceland, Liechtenstein and Norway (EEA Agreement): a recipient elsewhere
#: is in a "third country" (GDPR Art. 15(1)(c), 15(2), Chapter V).
EEA_COUNTRIES = frozenset(
    {
        *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"),
        *("IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"),
        *("IS", "LI", "NO"),
    }
)

#: Kinds of field that must never be disclosed, only said to be held (11 CCR §7024(d)); ``secret``
#: covers other credentials a business would not hand out either.
NEVER_DISCLOSE_KINDS = {
    "ssn": _("Social Security number"),
    "government_id": _("driver's licence or other government-issued identification number"),
    "financial_account": _("financial account number"),
    "health_insurance_id": _("health insurance or medical identification number"),
    "password": _("account password"),
    "security_qa": _("security questions and answers"),
    "biometric": _("unique biometric data"),
    "secret": _("security credential"),
}

DPA_STATUSES = {
    "in_house": _("operated by us, no processor"),
    "signed": _("data processing agreement signed (GDPR Art. 28)"),
    "pending": _("data processing agreement in negotiation"),
    "missing": _("no data processing agreement"),
}

_COUNTRY_RE = re.compile(r"[A-Z]{2}")
_IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.\- ]{0,127}")


class InventoryError(ValueError):
    """An inventory field is invalid; ``field`` names it and the message says why."""

    def __init__(self, field: str, message: str, *, item: int | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.item = item  # index of the list entry at fault, when there is one


def _text_list(field: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InventoryError(field, "must be a list of non-empty texts")
    return [v.strip() for v in value]


def _text(field: str, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InventoryError(field, "must be text")
    return value.strip()


def _recipients(value: Any) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InventoryError("recipients", "must be a list of {name, country, safeguard}")
    cleaned = []
    for index, item in enumerate(value):
        where = f"recipient {index + 1}"

        def fail(message: str, index: int = index) -> InventoryError:
            return InventoryError("recipients", message, item=index)

        if not isinstance(item, dict):
            raise fail(f"{where} must be a mapping with name, country and safeguard")
        unknown = set(item) - {"name", "country", "safeguard", "purpose", "__line__"}
        if unknown:
            raise fail(f"{where} has unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise fail(f"{where} needs a 'name'")
        country = item.get("country")
        if not isinstance(country, str) or not _COUNTRY_RE.fullmatch(country.strip().upper()):
            raise fail(f"{where} ({name}) needs a 'country': an ISO 3166 code such as DE or US")
        country = country.strip().upper()
        safeguard = _text("recipients", item.get("safeguard"))
        if country not in EEA_COUNTRIES and not safeguard:
            # Art. 15(2): the person is told which safeguard covers a transfer out of the EEA.
            raise fail(
                f"{where} ({name}) is in {country}, outside the EEA: give the transfer 'safeguard' "
                "(e.g. adequacy decision, standard contractual clauses; GDPR Art. 45-46)"
            )
        entry = {"name": name.strip(), "country": country, "safeguard": safeguard}
        purpose = _text("recipients", item.get("purpose"))
        if purpose:
            entry["purpose"] = purpose
        cleaned.append(entry)
    return cleaned


def _field_name(field: str, category: str, name: Any) -> str:
    if not isinstance(name, str) or not _IDENTIFIER_RE.fullmatch(name):
        raise InventoryError(field, f"{category}: {name!r} is not a field name")
    return name


def _never_disclose(value: Any) -> dict[str, dict[str, str]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InventoryError("never_disclose", "must map a table/category to {field: kind}")
    cleaned: dict[str, dict[str, str]] = {}
    kinds = ", ".join(NEVER_DISCLOSE_KINDS)
    for category, fields in value.items():
        category = _field_name("never_disclose", "category", category)
        if not isinstance(fields, dict) or not fields:
            raise InventoryError("never_disclose", f"{category}: must map each field to its kind ({kinds})")
        cleaned[category] = {}
        for name, kind in fields.items():
            name = _field_name("never_disclose", category, name)
            if kind not in NEVER_DISCLOSE_KINDS:
                raise InventoryError(
                    "never_disclose", f"{category}.{name}: unknown kind {kind!r}; use one of {kinds}"
                )
            cleaned[category][name] = kind
    return cleaned


def _third_party(value: Any) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InventoryError("third_party_fields", "must map a table/category to a list of fields")
    cleaned: dict[str, list[str]] = {}
    for category, fields in value.items():
        category = _field_name("third_party_fields", "category", category)
        if not isinstance(fields, list) or not fields:
            raise InventoryError("third_party_fields", f"{category}: must be a non-empty list of fields")
        cleaned[category] = [_field_name("third_party_fields", category, name) for name in fields]
    return cleaned


def inventory_clean(values: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise the inventory fields of ``values``; raise ``InventoryError``.

    Returns every inventory field, normalised (texts stripped, country codes upper-case); a field
    missing from ``values`` gets its empty default, so a systems file is the whole truth.
    """
    cleaned: dict[str, Any] = {}
    for field in INVENTORY_FIELDS:
        value = values.get(field)
        if field in ("purposes", "data_categories"):
            cleaned[field] = _text_list(field, value)
        elif field == "recipients":
            cleaned[field] = _recipients(value)
        elif field == "never_disclose":
            cleaned[field] = _never_disclose(value)
        elif field == "third_party_fields":
            cleaned[field] = _third_party(value)
        elif field == "dpa_status":
            text = _text(field, value) or "in_house"
            if text not in DPA_STATUSES:
                raise InventoryError(field, f"must be one of {', '.join(DPA_STATUSES)}")
            cleaned[field] = text
        else:
            cleaned[field] = _text(field, value)
    overlap = {
        (category, name)
        for category, fields in cleaned.get("never_disclose", {}).items()
        for name in fields
        if name in cleaned.get("third_party_fields", {}).get(category, [])
    }
    if overlap:
        category, name = sorted(overlap)[0]
        raise InventoryError("third_party_fields", f"{category}.{name} is already in never_disclose")
    return cleaned
