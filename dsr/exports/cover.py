"""The context of the access package's cover letter (index.html) and README, from the inventory.

GDPR Art. 15(1) lists what must accompany the data: (a) purposes, (b) categories, (c) recipients,
in particular in third countries, with the Art. 46 safeguards (15(2)), (d) retention, (e) the rights
to rectification, erasure, restriction and objection, (f) the right to complain to a supervisory
authority, (g) the source, (h) automated decisions (Art. 22). For CCPA requests (and the US state
laws modelled on it) the letter gives the categories, sources, purposes and recipients
(Cal. Civ. Code §1798.110) and lists the fields held but never disclosed (11 CCR §7024(d)).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from dsr.exports.spool import HTML_ROWS_PER_TABLE, SystemData
from dsr.systems.inventory import DPA_STATUSES, EEA_COUNTRIES, NEVER_DISCLOSE_KINDS

if TYPE_CHECKING:
    from dsr.workflow.models import DataSubjectRequest


@dataclass(frozen=True)
class RecipientView:
    name: str
    country: str
    safeguard: str
    purpose: str
    third_country: bool


@dataclass(frozen=True)
class TableView:
    category: str
    count: int
    csv_path: str
    columns: list[str]
    rows: list[list[str]]

    @property
    def truncated(self) -> bool:
        return self.count > len(self.rows)


@dataclass(frozen=True)
class WithheldView:
    system: str
    table: str
    field: str
    kind: str
    label: str
    count: int


@dataclass
class SystemView:
    key: str
    name: str
    description: str
    purposes: list[str]
    data_categories: list[str]
    legal_basis: str
    recipients: list[RecipientView]
    retention: str
    source: str
    vendor: str
    dpa_status: str
    dpa_label: str
    region: str
    automated_decisions: str
    tables: list[TableView] = field(default_factory=list)
    withheld: list[WithheldView] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(t.count for t in self.tables)

    @property
    def anchor(self) -> str:
        return f"system-{self.key}"


def is_ccpa_family(regime: str) -> bool:
    """CCPA/CPRA and the US state laws: categories and §7024(d) wording instead of GDPR articles."""
    return regime == "CCPA" or regime.startswith("US_")


def _system_view(item: SystemData, tables_html: dict[tuple[str, str], dict[str, Any]]) -> SystemView:
    system = item.system
    view = SystemView(
        key=system.key,
        name=system.name,
        description=system.description,
        purposes=list(system.purposes or []),
        data_categories=list(system.data_categories or []),
        legal_basis=system.legal_basis,
        recipients=[
            RecipientView(
                name=r["name"],
                country=r["country"],
                safeguard=r.get("safeguard", ""),
                purpose=r.get("purpose", ""),
                third_country=r["country"] not in EEA_COUNTRIES,
            )
            for r in system.recipients or []
        ],
        retention=system.retention,
        source=system.source,
        vendor=system.vendor,
        dpa_status=system.dpa_status,
        dpa_label=str(DPA_STATUSES.get(system.dpa_status, system.dpa_status)),
        region=system.region,
        automated_decisions=system.automated_decisions,
    )
    for table in item.tables:
        shown = tables_html[(system.key, table.category)]
        view.tables.append(
            TableView(
                category=table.category,
                count=table.count,
                csv_path=table.csv_path,
                columns=shown["columns"],
                rows=shown["rows"],
            )
        )
    for w in item.withheld:
        label = _("another person's data") if w.kind == "third_party" else str(NEVER_DISCLOSE_KINDS[w.kind])
        view.withheld.append(
            WithheldView(
                system=system.name, table=w.category, field=w.field, kind=w.kind, label=label, count=w.count
            )
        )
    return view


def cover_context(
    *,
    request: DataSubjectRequest,
    systems: list[SystemData],
    tables_html: dict[tuple[str, str], dict[str, Any]],
    generated_at: datetime,
) -> dict[str, Any]:
    """Everything ``exports/index.html`` and ``exports/README.txt`` need."""
    views = [_system_view(item, tables_html) for item in systems]
    with_data = [v for v in views if v.records]
    withheld = [w for v in views for w in v.withheld]
    # The privacy team's contact (DSR_PRIVACY_CONTACT_EMAIL, required in production); in development
    # the sender address stands in.
    contact = settings.DSR_PRIVACY_CONTACT_EMAIL or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return {
        "request": request,
        "controller": settings.DSR_CONTROLLER_NAME,
        "contact_email": contact,
        "contact_address": settings.DSR_PRIVACY_CONTACT_ADDRESS,
        "privacy_policy_url": settings.DSR_PRIVACY_POLICY_URL,
        "generated_at": generated_at,
        "ccpa": is_ccpa_family(request.regime),
        "systems": views,
        "systems_with_data": with_data,
        "systems_without_data": [v for v in views if not v.records],
        "total": sum(v.records for v in views),
        "held_not_disclosed": [w for w in withheld if w.kind != "third_party"],
        "third_party_removed": [w for w in withheld if w.kind == "third_party"],
        "third_country_recipients": [(v, r) for v in with_data for r in v.recipients if r.third_country],
        "html_rows_per_table": HTML_ROWS_PER_TABLE,
        "gdpr": gdpr_abbreviation(request.regime),
        "portability_citation": portability_citation(request.regime),
        # Only the files that are in the zip are listed: no csv/ without a table to put in it.
        "has_csv": any(item.tables for item in systems),
    }


def gdpr_abbreviation(regime: str) -> str:
    """The GDPR's name in citations, as readers of the language know it: DSGVO in German, RGPD in
    French and Spanish (UK GDPR for the UK regime, which is not translated)."""
    if regime == "UK_GDPR":
        return "UK GDPR"
    return pgettext("abbreviation of the General Data Protection Regulation", "GDPR")


def portability_citation(regime: str) -> str:
    """The provision that makes data.json a portable copy, in the request's own regime."""
    if regime == "CCPA":
        return "Cal. Civ. Code §1798.100(d)"
    if regime == "LGPD":
        return "LGPD Art. 18(V)"
    if is_ccpa_family(regime):
        from dsr.workflow import deadlines

        found = deadlines.default_rules().regimes.get(regime)
        return found.law if found is not None else ""
    return f"{gdpr_abbreviation(regime)} Art. 20"
