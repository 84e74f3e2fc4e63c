"""What the portal says about each right and each jurisdiction, in plain, translatable words.

Which rights a jurisdiction grants and by when they are answered come from the rule table
(``dsr/workflow/jurisdictions.yaml``) through ``request_types_for`` and ``deadlines``; this module
only words them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from dsr.workflow import deadlines
from dsr.workflow.intake import request_types_for
from dsr.workflow.jurisdiction_names import jurisdiction_name
from dsr.workflow.models import UNVERIFIED_TYPES, RequestType

# The country list folds the US states into one entry (the state is chosen in a second list).
UNITED_STATES = _("United States")


@dataclass(frozen=True)
class RightText:
    title: Promise
    summary: Promise
    next_steps: Promise


RIGHTS: dict[str, RightText] = {
    RequestType.ACCESS: RightText(
        title=_("See my data"),
        summary=_("Get a copy of the personal data we hold about you, and learn how we use it."),
        next_steps=_(
            "We e-mail you a code to confirm that the address is yours. Then we collect your data "
            "from every system that holds it and e-mail you a secure link to download it."
        ),
    ),
    RequestType.ERASURE: RightText(
        title=_("Delete my data"),
        summary=_("Ask us to delete the personal data we hold about you."),
        next_steps=_(
            "We e-mail you a code to confirm that the address is yours. Then we delete your data "
            "from every system, except what the law obliges us to keep, and tell you what we did."
        ),
    ),
    RequestType.CORRECTION: RightText(
        title=_("Correct my data"),
        summary=_("Tell us which of your details are wrong or incomplete, and how they should read."),
        next_steps=_(
            "We e-mail you a code to confirm that the address is yours. Then we correct your data "
            "in every system that holds it and tell you when it is done."
        ),
    ),
    RequestType.OPT_OUT: RightText(
        title=_("Stop the sale or sharing of my data"),
        summary=_("Tell us not to sell your personal data or share it for targeted advertising."),
        next_steps=_(
            "We do not need to check who you are for this. We stop selling or sharing your data "
            "and pass your choice on to the companies we shared it with."
        ),
    ),
    RequestType.MARKETING: RightText(
        title=_("Manage marketing preferences"),
        summary=_("Stop receiving marketing e-mails and other direct marketing from us."),
        next_steps=_(
            "We do not need to check who you are for this. We stop all direct marketing to you, "
            "in every system that sends it."
        ),
    ),
}


def collation_key(text: str, language: str) -> tuple[str, str]:
    """A sort key that orders names as a reader of ``language`` expects: accents and case count
    only to break ties, so "Österreich" sorts with the O's and "Écosse" with the E's, not after Z.

    Pure Python on purpose (Unicode decomposition + casefold): ``locale.strxfrm`` depends on the
    process-wide locale and on which locales the host has installed, and PyICU needs ICU built
    into the image. Spanish keeps "ñ" as its own letter after "n" (RAE alphabet).
    """
    folded = text.casefold()
    if language.startswith("es"):
        folded = folded.replace("ñ", "n\U0010ffff")
    base = "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))
    return (base, folded)


def _sorted_names(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    language = get_language() or "en"
    return sorted(pairs, key=lambda item: collation_key(item[1], language))


def country_choices() -> list[tuple[str, str]]:
    """Countries (US states folded into "United States", chosen in the state list; other
    subdivisions with a law of their own, such as Quebec, listed as places of their own), sorted by
    their name in the active language with that language's alphabetical order (see
    ``collation_key``)."""
    codes = {"US" if j.code.startswith("US-") else j.code for j in deadlines.supported_jurisdictions()}
    return _sorted_names(
        (code, str(UNITED_STATES) if code == "US" else jurisdiction_name(code)) for code in codes
    )


def state_choices() -> list[tuple[str, str]]:
    states = [j.code for j in deadlines.supported_jurisdictions() if j.code.startswith("US-")]
    return _sorted_names((code, jurisdiction_name(code)) for code in states)


def period_text(period: deadlines.Period) -> str:
    n = period.amount
    if period.unit == "months":
        return ngettext("%(n)s month", "%(n)s months", n) % {"n": n}
    if period.unit == "business_days":
        return ngettext("%(n)s business day", "%(n)s business days", n) % {"n": n}
    return ngettext("%(n)s day", "%(n)s days", n) % {"n": n}


@dataclass(frozen=True)
class RightOffer:
    """One right as offered on the portal: its words and, if asked today, its due dates."""

    type: str
    text: RightText
    due_on: date
    period: str
    citation: str
    acknowledge_period: str | None
    needs_verification: bool


def rights_offered(jurisdiction: str, *, now: datetime | None = None) -> list[RightOffer]:
    """The rights a person living in ``jurisdiction`` may use, with the due date of a request made now."""
    now = now or timezone.now()
    regime = deadlines.regime_for(jurisdiction)
    offers = []
    for request_type in request_types_for(jurisdiction):
        rule = regime.rule(request_type)
        schedule = deadlines.schedule_for(
            jurisdiction=jurisdiction, request_type=request_type, received_at=now
        )
        offers.append(
            RightOffer(
                type=request_type,
                text=RIGHTS[request_type],
                due_on=schedule.respond.due_on,
                period=period_text(rule.respond),
                citation=rule.respond_citation,
                acknowledge_period=period_text(rule.acknowledge) if rule.acknowledge else None,
                needs_verification=request_type not in UNVERIFIED_TYPES,
            )
        )
    return offers


def suggest_country(accept_language: str) -> str:
    """A country suggested from the browser's languages (``de-AT`` -> ``AT``), or ``""``."""
    supported = {code for code, _name in country_choices()}
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip()
        if "-" in tag:
            region = tag.split("-")[-1].upper()
            if region in supported:
                return region
    return ""
