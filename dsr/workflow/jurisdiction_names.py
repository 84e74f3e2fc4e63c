"""Jurisdiction names in the active language.

The rule table (``dsr/workflow/jurisdictions.yaml``) is the one source of the codes and their
English names; those names are the msgids that ``locale/*/django.po`` translate. ``MSGIDS`` exists
only so that ``makemessages`` extracts them (it does not read YAML); a test keeps it equal to the
rule table's names.
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

from dsr.workflow import deadlines

MSGIDS = (
    gettext_noop("Austria"),
    gettext_noop("Belgium"),
    gettext_noop("Bulgaria"),
    gettext_noop("Brazil"),
    gettext_noop("Canada"),
    gettext_noop("Quebec (Canada)"),
    gettext_noop("Switzerland"),
    gettext_noop("Cyprus"),
    gettext_noop("Czechia"),
    gettext_noop("Germany"),
    gettext_noop("Denmark"),
    gettext_noop("Estonia"),
    gettext_noop("Spain"),
    gettext_noop("Finland"),
    gettext_noop("France"),
    gettext_noop("United Kingdom"),
    gettext_noop("Greece"),
    gettext_noop("Croatia"),
    gettext_noop("Hungary"),
    gettext_noop("Ireland"),
    gettext_noop("Iceland"),
    gettext_noop("Italy"),
    gettext_noop("Liechtenstein"),
    gettext_noop("Lithuania"),
    gettext_noop("Luxembourg"),
    gettext_noop("Latvia"),
    gettext_noop("Malta"),
    gettext_noop("Netherlands"),
    gettext_noop("Norway"),
    gettext_noop("Poland"),
    gettext_noop("Portugal"),
    gettext_noop("Romania"),
    gettext_noop("Sweden"),
    gettext_noop("Slovenia"),
    gettext_noop("Slovakia"),
    gettext_noop("California"),
    gettext_noop("Colorado"),
    gettext_noop("Connecticut"),
    gettext_noop("Delaware"),
    gettext_noop("Iowa"),
    gettext_noop("Indiana"),
    gettext_noop("Kentucky"),
    gettext_noop("Maryland"),
    gettext_noop("Minnesota"),
    gettext_noop("Montana"),
    gettext_noop("Nebraska"),
    gettext_noop("New Hampshire"),
    gettext_noop("New Jersey"),
    gettext_noop("Oregon"),
    gettext_noop("Rhode Island"),
    gettext_noop("Tennessee"),
    gettext_noop("Texas"),
    gettext_noop("Utah"),
    gettext_noop("Virginia"),
)


def jurisdiction_name(code: str) -> str:
    """The jurisdiction's name from the rule table, translated; an unknown code is returned as is."""
    try:
        name = deadlines.default_rules().jurisdiction(code).name
    except deadlines.UnknownJurisdiction:
        return code
    return gettext(name)
