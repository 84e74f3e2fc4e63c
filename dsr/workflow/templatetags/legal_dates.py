"""``{{ r.due_at|legal_date:r|date:"DATE_FORMAT" }}``: a legal date in the jurisdiction's calendar.

Used by every surface that shows a due, acknowledgement or extension date (dashboard, portal,
e-mails, reports, the access package), so that staff and the person read the same day as the rule
table counts (see ``dsr.workflow.deadlines.legal_date``).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django import template
from django.utils.translation import pgettext

from dsr.workflow import deadlines

register = template.Library()


@register.filter
def legal_date(value: datetime | None, where: Any) -> date | None:
    """The calendar date of ``value`` in the jurisdiction of ``where`` (a request or a code).

    An empty value stays empty; a jurisdiction the rules no longer know falls back to the UTC date
    rather than breaking the page.
    """
    if value is None or value == "":
        return None
    code = where if isinstance(where, str) else getattr(where, "jurisdiction", "")
    try:
        return deadlines.legal_date(jurisdiction=code, at=value)
    except deadlines.UnknownJurisdiction:
        return value.date()


_GDPR = re.compile(r"(?<!UK )\bGDPR\b")


@register.filter
def law_names(citation: str) -> str:
    """A rule-table citation ("GDPR Art. 12(3)") with the law's name as the reader's language
    writes it ("DSGVO Art. 12(3)", "RGPD Art. 12(3)"); UK GDPR keeps its name."""
    name = pgettext("abbreviation of the General Data Protection Regulation", "GDPR")
    return _GDPR.sub(name, str(citation))
