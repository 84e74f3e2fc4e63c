"""Legal deadlines for data-subject requests, driven by ``jurisdictions.yaml``.

Pure Python: importable without Django settings. The rules (regimes, rights, periods, citations,
timezones, holiday calendars) live in ``jurisdictions.yaml`` next to this module so that counsel can
review and change them without touching code; this module only does the arithmetic.

Conventions (see also the header of ``jurisdictions.yaml``):

* The clock starts at ``received_at`` (receipt), never at verification.
* The receipt day is the *local* date of ``received_at`` in the jurisdiction's timezone (the
  jurisdiction's own ``timezone`` if the YAML gives one, else its regime's). 23:30 UTC on 31 January
  is 1 February in Berlin (GDPR) but still 31 January in Los Angeles (CCPA).
* Day periods exclude the receipt day: "45 calendar days" from 1 January is 15 February. Business days
  skip Saturdays, Sundays and the holidays of the regime's calendar, taken from the maintained
  ``holidays`` package (country, subdivision and which holidays count are named in the YAML). When a
  calendar cannot answer (a subdivision or year the package does not know) the calendar's
  ``fallback`` (US federal) is used, and failing that weekends only; the explanation says so. A
  business-day deadline therefore never fails.
* Month periods follow Regulation (EEC, Euratom) No 1182/71 Art. 3(2)(c) with the regime's
  ``month_convention``: ``same_date_next_month`` (default; the period ends on the same date in the
  last month, else on the last day of that month: 31 Jan -> 28/29 Feb) or ``day_after_receipt``
  (counting starts the day after receipt).
* A deadline is the end of the due day (23:59:59.999999) in the same timezone, returned in UTC.
* An extension in the same unit as the response period is counted from receipt as one period ("one
  month plus two further months" is three months from receipt: 31 Jan -> 30 Apr, not 28 Feb + 2 months
  = 28 Apr); in another unit it runs from the original due date. Its notice must be given no later
  than the original response deadline, and only once.
* A regime with an ``effective`` date applies only to requests received on or after that date.
* Due dates falling on a weekend or holiday are not moved (the earlier, safer date is kept).
"""

from __future__ import annotations

import calendar as _calendar
import dataclasses
import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as _holidays
import yaml

__all__ = [
    "DEFAULT_RULES_PATH",
    "MONTH_CONVENTIONS",
    "REQUEST_TYPES",
    "SAME_CLOCK_AS",
    "AgentRule",
    "Calendar",
    "CalendarNotCovered",
    "Deadline",
    "DeadlineError",
    "ExtensionNotAllowed",
    "Jurisdiction",
    "JurisdictionInfo",
    "NotInForce",
    "OptOutSignalRule",
    "Period",
    "Quota",
    "Regime",
    "RightRule",
    "Rules",
    "RulesError",
    "Schedule",
    "UnknownJurisdiction",
    "UnsupportedRequestType",
    "default_rules",
    "extend",
    "load_rules",
    "local_date",
    "regime_for",
    "rights_for",
    "schedule_for",
    "supported_jurisdictions",
]

DEFAULT_RULES_PATH = Path(__file__).with_name("jurisdictions.yaml")

#: Request types a regime may grant. ``appeal`` is the US-state appeal of a denial.
REQUEST_TYPES: tuple[str, ...] = ("access", "erasure", "correction", "opt_out", "appeal")
#: Request types with no row of their own in the rule table: they run on another right's clock.
#: An objection to direct marketing (GDPR Art. 21(3); an opt-out of targeted advertising in the US
#: states) follows the regime's opt-out rule. Every lookup maps through this, so callers pass the
#: request's own type.
SAME_CLOCK_AS: Mapping[str, str] = MappingProxyType({"marketing": "opt_out"})
MONTH_CONVENTIONS: tuple[str, ...] = ("same_date_next_month", "day_after_receipt")

PeriodUnit = Literal["months", "calendar_days", "business_days"]
DeadlineKind = Literal["acknowledge", "respond", "respond_extended"]

_END_OF_DAY = time(23, 59, 59, 999999)
_CODE_RE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
_PERIOD_RE = re.compile(r"^\s*(\d+)\s+(months?|calendar\s+days?|business\s+days?)\s*$", re.IGNORECASE)
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


# --------------------------------------------------------------------------------------------------
# Errors


class DeadlineError(Exception):
    """Base class for every error raised by this module."""


class UnknownJurisdiction(DeadlineError, LookupError):
    """The jurisdiction code is not (yet) covered by the rules."""


class UnsupportedRequestType(DeadlineError, ValueError):
    """The request type is unknown, or the jurisdiction's regime does not grant that right."""


class ExtensionNotAllowed(DeadlineError):
    """The response period cannot be extended (no such rule, too late, or already extended)."""


class RulesError(DeadlineError, ValueError):
    """The rules file is invalid; the message names the offending key."""


class CalendarNotCovered(DeadlineError):
    """A holiday calendar cannot answer for a date (unknown subdivision or year).

    Raised by :meth:`Calendar.holidays_in` only; :func:`schedule_for` catches it and falls back to
    the calendar's ``fallback`` (then to weekends only), so intake never fails on it.
    """


class NotInForce(DeadlineError):
    """The jurisdiction's law was not yet in force on the date of receipt."""

    def __init__(self, *, jurisdiction: str, name: str, law: str, effective: date, on: date) -> None:
        self.jurisdiction = jurisdiction
        self.name = name
        self.law = law
        self.effective = effective
        self.on = on
        super().__init__(
            f"the privacy law of {name} ({law}) applies to requests received from "
            f"{effective.isoformat()}; this request was received on {on.isoformat()}, before it took effect"
        )


# --------------------------------------------------------------------------------------------------
# Rule data


@dataclass(frozen=True, kw_only=True)
class Period:
    """A legal period such as ``1 month``, ``45 calendar days`` or ``10 business days``."""

    amount: int
    unit: PeriodUnit

    def describe(self) -> str:
        if self.unit == "months":
            word = _NUMBER_WORDS[self.amount] if self.amount < len(_NUMBER_WORDS) else str(self.amount)
            return f"{word} month" if self.amount == 1 else f"{word} months"
        label = "calendar" if self.unit == "calendar_days" else "business"
        return f"{self.amount} {label} day" if self.amount == 1 else f"{self.amount} {label} days"


@functools.lru_cache(maxsize=512)
def _holidays_for(
    country: str, subdivision: str | None, categories: tuple[str, ...], year: int
) -> Mapping[date, str]:
    """The ``holidays`` package's holidays of one country/subdivision and year (cached)."""
    try:
        found = _holidays.country_holidays(
            country, subdiv=subdivision, years=year, categories=categories or None
        )
    except (NotImplementedError, KeyError, ValueError) as exc:
        raise CalendarNotCovered(
            f"the holidays package does not know {country}/{subdivision}: {exc}"
        ) from exc
    if not found.start_year <= year <= found.end_year:
        raise CalendarNotCovered(
            f"the holidays package covers {country} for {found.start_year}-{found.end_year} only"
        )
    return MappingProxyType(dict(found.items()))


@dataclass(frozen=True, kw_only=True)
class Calendar:
    """A named business-day calendar backed by the ``holidays`` package.

    ``country``/``subdivision`` name the holiday list (e.g. ``US``/``CA``), ``categories`` the
    package's categories to count (default: public), ``exclude`` holiday names the law does not
    count. ``fallback`` is the calendar used when this one cannot answer.
    """

    key: str
    name: str
    country: str
    subdivision: str | None = None
    categories: tuple[str, ...] = ()
    exclude: frozenset[str] = frozenset()
    fallback: Calendar | None = None
    note: str = ""

    def holidays_in(self, year: int) -> Mapping[date, str]:
        """Counted holidays of ``year``: date -> name. Raises :class:`CalendarNotCovered`."""
        found = _holidays_for(self.country, self.subdivision, self.categories, year)
        return MappingProxyType(
            {
                day: name
                for day, name in found.items()
                # The package joins two holidays on one day with "; ": the day still counts if
                # any of them is not excluded.
                if any(part.strip() not in self.exclude for part in name.split(";"))
            }
        )

    def is_business_day(self, day: date) -> bool:
        """Monday-Friday and not a counted holiday. Raises :class:`CalendarNotCovered`."""
        return day.weekday() < 5 and day not in self.holidays_in(day.year)


@dataclass(frozen=True, kw_only=True)
class RightRule:
    """What a regime says about one request type: the right's citation and its clock."""

    request_type: str
    citation: str
    respond: Period
    respond_citation: str
    acknowledge: Period | None = None
    acknowledge_citation: str | None = None
    extension: Period | None = None
    extension_citation: str | None = None
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class Quota:
    """How many requests are free (VA: twice a year; CT: once). Data only: nothing applies it.

    ``count`` ``None`` means no fixed number (e.g. GDPR Art. 12(5): free unless manifestly unfounded
    or excessive). Staff, not the code, decide on a fee or refusal.
    """

    count: int | None
    window: Period | None
    rights: tuple[str, ...]
    citation: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class AgentRule:
    """For which rights an authorized agent may act (e.g. CO: opt-out only). Data only."""

    rights: tuple[str, ...]
    citation: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class OptOutSignalRule:
    """Whether a universal opt-out signal (GPC) must be honoured, and from when. Data only."""

    required: bool
    required_from: date | None
    citation: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class Regime:
    """A legal regime (GDPR, CCPA, ...) as configured in the rules file."""

    code: str
    name: str
    law: str
    timezone: str
    convention: str
    calendar: Calendar | None
    rules: tuple[RightRule, ...]
    note: str = ""
    effective: date | None = None
    """First day of receipt the law applies to; ``None``: in force for any date in the table."""
    effective_citation: str = ""
    quota: Quota | None = None
    agents: AgentRule | None = None
    opt_out_signals: OptOutSignalRule | None = None

    def in_force_on(self, day: date) -> bool:
        return self.effective is None or day >= self.effective

    @property
    def rights(self) -> tuple[str, ...]:
        """Request types this regime grants, in the canonical ``REQUEST_TYPES`` order."""
        return tuple(rule.request_type for rule in self.rules)

    @property
    def citations(self) -> Mapping[str, str]:
        """Request type -> citation of the right itself."""
        return MappingProxyType({rule.request_type: rule.citation for rule in self.rules})

    def grants(self, request_type: str) -> bool:
        """True when a request of ``request_type`` (its own type, e.g. ``marketing``) may be filed."""
        return SAME_CLOCK_AS.get(request_type, request_type) in self.rights

    def rule(self, request_type: str) -> RightRule:
        """The rule a request of ``request_type`` follows (mapped through :data:`SAME_CLOCK_AS`)."""
        clock = SAME_CLOCK_AS.get(request_type, request_type)
        for rule in self.rules:
            if rule.request_type == clock:
                return rule
        if clock not in REQUEST_TYPES:
            known = (*REQUEST_TYPES, *SAME_CLOCK_AS)
            raise UnsupportedRequestType(
                f"unknown request type {request_type!r}; expected one of {', '.join(known)}"
            )
        raise UnsupportedRequestType(
            f"{self.name} ({self.code}) grants no {request_type!r} right; it grants: {', '.join(self.rights)}"
        )


@dataclass(frozen=True, kw_only=True)
class Jurisdiction:
    code: str
    name: str
    regime: str
    timezone: str | None = None


class JurisdictionInfo(NamedTuple):
    """One row of ``supported_jurisdictions()``: suitable for a form's choices."""

    code: str
    name: str
    regime: str


@dataclass(frozen=True, kw_only=True, eq=False)
class Rules:
    """The validated content of a rules file."""

    source: str
    calendars: Mapping[str, Calendar]
    regimes: Mapping[str, Regime]
    jurisdictions: Mapping[str, Jurisdiction]

    def jurisdiction(self, code: str) -> Jurisdiction:
        normalised = code.strip().upper() if isinstance(code, str) else ""
        found = self.jurisdictions.get(normalised)
        if found is None:
            # Echo the input only when it looks like a code: never reflect arbitrary user input.
            shown = repr(normalised) if _CODE_RE.match(normalised) else "(not an ISO 3166 code)"
            raise UnknownJurisdiction(
                f"unknown jurisdiction {shown}: expected a supported ISO 3166 country or US subdivision "
                f"code such as 'DE' or 'US-CA' (see supported_jurisdictions())"
            )
        return found


# --------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, kw_only=True)
class Deadline:
    due_at: datetime
    """End of the local due day, as an aware UTC datetime."""
    kind: DeadlineKind
    citation: str
    explanation: str
    """E.g. ``due 2027-01-28: GDPR Art. 12(3), one month from receipt on 2026-12-28``."""
    due_on: date
    """The local due date (in the schedule's timezone), as shown in the explanation."""


@dataclass(frozen=True, kw_only=True)
class Schedule:
    regime: str
    jurisdiction: str
    request_type: str
    received_at: datetime
    """Receipt instant, in UTC."""
    received_on: date
    """Receipt day: the local date of ``received_at`` in ``timezone``."""
    timezone: str
    acknowledge: Deadline | None
    respond: Deadline
    can_extend: bool
    respond_period: Period | None = None
    """The response period the rule gave (an extension in the same unit is added to it)."""
    extension: Period | None = None
    extension_citation: str | None = None
    extension_notice_by: datetime | None = None
    """Latest instant (UTC) at which an extension notice may be given; ``None`` if no extension."""
    notes: tuple[str, ...] = field(default=())
    """Open points for counsel attached to the rules used (empty for settled rules)."""


# --------------------------------------------------------------------------------------------------
# Loading and validation


def _fail(key: str, problem: str) -> RulesError:
    return RulesError(f"invalid rules: {key}: {problem}")


def _mapping(value: object, key: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise _fail(key, "must be a mapping")
    return value


def _text(value: object, key: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise _fail(key, "must be a non-empty string")
    return " ".join(value.split())


def _timezone(value: object, key: str) -> str:
    name = _text(value, key)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _fail(key, f"unknown timezone {name!r}") from exc
    return name


def _period(value: object, key: str) -> Period:
    match = _PERIOD_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise _fail(key, "must look like '1 month', '45 calendar days' or '10 business days'")
    amount = int(match.group(1))
    if amount <= 0:
        raise _fail(key, "must be a positive period")
    word = match.group(2).lower()
    unit: PeriodUnit = "business_days"
    if word.startswith("month"):
        unit = "months"
    elif word.startswith("calendar"):
        unit = "calendar_days"
    return Period(amount=amount, unit=unit)


def _clock(value: object, key: str) -> tuple[Period, str, str] | None:
    """A ``{period, citation, note?}`` block, or ``None`` when the YAML says null."""
    if value is None:
        return None
    block = _mapping(value, key)
    unknown = set(block) - {"period", "citation", "note"}
    if unknown:
        raise _fail(f"{key}.{sorted(map(str, unknown))[0]}", "unknown key")
    return (
        _period(block.get("period"), f"{key}.period"),
        _text(block.get("citation"), f"{key}.citation"),
        _text(block.get("note"), f"{key}.note", required=False),
    )


def _date(value: object, key: str) -> date:
    if isinstance(value, datetime):
        raise _fail(key, "must be a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise _fail(key, "must be an ISO date (YYYY-MM-DD)") from exc


def _names(value: object, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(key, "must be a list of names")
    return tuple(v.strip() for v in value)


def _parse_calendar(key: str, raw: object) -> tuple[Calendar, str | None]:
    """A calendar and the key of its fallback (resolved once every calendar is parsed)."""
    where = f"calendars.{key}"
    block = _mapping(raw, where)
    unknown = set(block) - {
        "name",
        "country",
        "subdivision",
        "categories",
        "exclude",
        "fallback",
        "source",
        "note",
    }
    if unknown:
        raise _fail(f"{where}.{sorted(map(str, unknown))[0]}", "unknown key")
    country = _text(block.get("country"), f"{where}.country")
    if not re.match(r"^[A-Z]{2}$", country):
        raise _fail(f"{where}.country", "must be an upper-case ISO 3166-1 alpha-2 code")
    subdivision = block.get("subdivision")
    if subdivision is not None:
        subdivision = _text(subdivision, f"{where}.subdivision")
    fallback = block.get("fallback")
    if fallback is not None:
        fallback = _text(fallback, f"{where}.fallback")
    calendar = Calendar(
        key=key,
        name=_text(block.get("name"), f"{where}.name"),
        country=country,
        subdivision=subdivision,
        categories=_names(block.get("categories"), f"{where}.categories"),
        exclude=frozenset(_names(block.get("exclude"), f"{where}.exclude")),
        note=_text(block.get("note"), f"{where}.note", required=False),
    )
    return calendar, fallback


def _resolve_calendars(parsed: Mapping[str, tuple[Calendar, str | None]]) -> dict[str, Calendar]:
    calendars = {key: calendar for key, (calendar, _fallback) in parsed.items()}
    for key, (calendar, fallback) in parsed.items():
        if fallback is None:
            continue
        if fallback not in calendars or fallback == key:
            raise _fail(f"calendars.{key}.fallback", f"unknown calendar {fallback!r}")
        if parsed[fallback][1] is not None:
            raise _fail(f"calendars.{key}.fallback", "a fallback calendar must not have a fallback itself")
        calendars[key] = dataclasses.replace(calendar, fallback=calendars[fallback])
    return calendars


def _rights_list(value: object, key: str, granted: tuple[str, ...]) -> tuple[str, ...]:
    names = _names(value, key)
    for name in names:
        if name not in granted:
            raise _fail(key, f"{name!r} is not a right this regime grants ({', '.join(granted)})")
    return tuple(sorted(names, key=REQUEST_TYPES.index))


def _parse_quota(value: object, key: str, granted: tuple[str, ...]) -> Quota | None:
    if value is None:
        return None
    block = _mapping(value, key)
    unknown = set(block) - {"count", "per", "rights", "citation", "note"}
    if unknown:
        raise _fail(f"{key}.{sorted(map(str, unknown))[0]}", "unknown key")
    count = block.get("count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise _fail(f"{key}.count", "must be a positive number of free requests, or null")
    per = block.get("per")
    return Quota(
        count=count,
        window=_period(per, f"{key}.per") if per is not None else None,
        rights=_rights_list(block.get("rights"), f"{key}.rights", granted),
        citation=_text(block.get("citation"), f"{key}.citation"),
        note=_text(block.get("note"), f"{key}.note", required=False),
    )


def _parse_agents(value: object, key: str, granted: tuple[str, ...]) -> AgentRule | None:
    if value is None:
        return None
    block = _mapping(value, key)
    unknown = set(block) - {"rights", "citation", "note"}
    if unknown:
        raise _fail(f"{key}.{sorted(map(str, unknown))[0]}", "unknown key")
    return AgentRule(
        rights=_rights_list(block.get("rights"), f"{key}.rights", granted),
        citation=_text(block.get("citation"), f"{key}.citation"),
        note=_text(block.get("note"), f"{key}.note", required=False),
    )


def _parse_signals(value: object, key: str) -> OptOutSignalRule | None:
    if value is None:
        return None
    block = _mapping(value, key)
    unknown = set(block) - {"required", "from", "citation", "note"}
    if unknown:
        raise _fail(f"{key}.{sorted(map(str, unknown))[0]}", "unknown key")
    required = block.get("required")
    if not isinstance(required, bool):
        raise _fail(f"{key}.required", "must be true or false")
    start = block.get("from")
    return OptOutSignalRule(
        required=required,
        required_from=_date(start, f"{key}.from") if start is not None else None,
        citation=_text(block.get("citation"), f"{key}.citation"),
        note=_text(block.get("note"), f"{key}.note", required=False),
    )


def _parse_regime(code: str, raw: object, calendars: Mapping[str, Calendar]) -> Regime:
    where = f"regimes.{code}"
    block = _mapping(raw, where)
    convention = block.get("month_convention", "same_date_next_month")
    if convention not in MONTH_CONVENTIONS:
        raise _fail(f"{where}.month_convention", f"must be one of {', '.join(MONTH_CONVENTIONS)}")
    calendar_key = block.get("calendar")
    calendar: Calendar | None = None
    if calendar_key is not None:
        if calendar_key not in calendars:
            raise _fail(f"{where}.calendar", f"unknown calendar {calendar_key!r}")
        calendar = calendars[calendar_key]
    defaults = _mapping(block.get("defaults") or {}, f"{where}.defaults")
    rights = _mapping(block.get("rights"), f"{where}.rights")
    if not rights:
        raise _fail(f"{where}.rights", "a regime must grant at least one right")
    rules: list[RightRule] = []
    for request_type in rights:
        rkey = f"{where}.rights.{request_type}"
        if request_type not in REQUEST_TYPES:
            raise _fail(rkey, f"unknown request type; expected one of {', '.join(REQUEST_TYPES)}")
        merged = {**defaults, **_mapping(rights[request_type], rkey)}
        unknown = set(merged) - {"citation", "acknowledge", "respond", "extend", "note"}
        if unknown:
            raise _fail(f"{rkey}.{sorted(map(str, unknown))[0]}", "unknown key")
        respond = _clock(merged.get("respond"), f"{rkey}.respond")
        if respond is None:
            raise _fail(f"{rkey}.respond", "a response deadline is required")
        acknowledge = _clock(merged.get("acknowledge"), f"{rkey}.acknowledge")
        extension = _clock(merged.get("extend"), f"{rkey}.extend")
        for clock, name in ((respond, "respond"), (acknowledge, "acknowledge"), (extension, "extend")):
            if clock is not None and clock[0].unit == "business_days" and calendar is None:
                raise _fail(f"{rkey}.{name}.period", "business days need a `calendar` on the regime")
        notes = [_text(merged.get("note"), f"{rkey}.note", required=False)]
        notes += [clock[2] for clock in (respond, acknowledge, extension) if clock is not None]
        rules.append(
            RightRule(
                request_type=request_type,
                citation=_text(merged.get("citation"), f"{rkey}.citation"),
                respond=respond[0],
                respond_citation=respond[1],
                acknowledge=acknowledge[0] if acknowledge else None,
                acknowledge_citation=acknowledge[1] if acknowledge else None,
                extension=extension[0] if extension else None,
                extension_citation=extension[1] if extension else None,
                note=" ".join(n for n in notes if n),
            )
        )
    rules.sort(key=lambda r: REQUEST_TYPES.index(r.request_type))
    granted = tuple(r.request_type for r in rules)
    unknown = set(block) - {
        "name", "law", "timezone", "month_convention", "calendar", "note", "defaults", "rights",
        "effective", "free_requests", "agents", "opt_out_signals",
    }  # fmt: skip
    if unknown:
        raise _fail(f"{where}.{sorted(map(str, unknown))[0]}", "unknown key")
    effective: date | None = None
    effective_citation = ""
    if block.get("effective") is not None:
        effective_block = _mapping(block.get("effective"), f"{where}.effective")
        effective = _date(effective_block.get("date"), f"{where}.effective.date")
        effective_citation = _text(effective_block.get("citation"), f"{where}.effective.citation")
    return Regime(
        effective=effective,
        effective_citation=effective_citation,
        quota=_parse_quota(block.get("free_requests"), f"{where}.free_requests", granted),
        agents=_parse_agents(block.get("agents"), f"{where}.agents", granted),
        opt_out_signals=_parse_signals(block.get("opt_out_signals"), f"{where}.opt_out_signals"),
        code=code,
        name=_text(block.get("name"), f"{where}.name"),
        law=_text(block.get("law"), f"{where}.law"),
        timezone=_timezone(block.get("timezone"), f"{where}.timezone"),
        convention=convention,
        calendar=calendar,
        rules=tuple(rules),
        note=_text(block.get("note"), f"{where}.note", required=False),
    )


def load_rules(path: str | os.PathLike[str] | None = None) -> Rules:
    """Read and validate a rules file (default: ``jurisdictions.yaml`` next to this module).

    Not cached: use :func:`default_rules` for the cached default. Raises :class:`RulesError` naming
    the offending key when the file is invalid.
    """
    source = Path(path) if path is not None else DEFAULT_RULES_PATH
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RulesError(f"invalid rules: {source.name} is not valid YAML: {exc}") from exc
    root = _mapping(raw, "(top level)")
    calendars = _resolve_calendars(
        {
            str(key): _parse_calendar(str(key), value)
            for key, value in _mapping(root.get("calendars") or {}, "calendars").items()
        }
    )
    regimes = {
        str(key): _parse_regime(str(key), value, calendars)
        for key, value in _mapping(root.get("regimes"), "regimes").items()
    }
    jurisdictions: dict[str, Jurisdiction] = {}
    for raw_code, value in _mapping(root.get("jurisdictions"), "jurisdictions").items():
        code = str(raw_code)
        where = f"jurisdictions.{code}"
        if not _CODE_RE.match(code):
            raise _fail(where, "not an upper-case ISO 3166 code (quote NO, which YAML reads as false)")
        block = _mapping(value, where)
        regime = block.get("regime")
        if regime not in regimes:
            defined = ", ".join(sorted(regimes))
            raise _fail(f"{where}.regime", f"unknown regime {regime!r}; defined: {defined}")
        timezone = block.get("timezone")
        jurisdictions[code] = Jurisdiction(
            code=code,
            name=_text(block.get("name"), f"{where}.name"),
            regime=str(regime),
            timezone=_timezone(timezone, f"{where}.timezone") if timezone is not None else None,
        )
    if not jurisdictions:
        raise _fail("jurisdictions", "at least one jurisdiction is required")
    return Rules(
        source=str(source),
        calendars=MappingProxyType(calendars),
        regimes=MappingProxyType(regimes),
        jurisdictions=MappingProxyType(jurisdictions),
    )


@functools.cache
def default_rules() -> Rules:
    """The bundled rules, loaded and validated once per process."""
    return load_rules()


# --------------------------------------------------------------------------------------------------
# Lookups


def zone_for(jurisdiction: str, *, rules: Rules | None = None) -> ZoneInfo:
    """The time zone whose calendar the rule table counts a jurisdiction's days in.

    The jurisdiction's own ``timezone`` if the rules give one, else its regime's. Raises
    :class:`UnknownJurisdiction` for a code the rules do not know.
    """
    rules = rules or default_rules()
    place = rules.jurisdiction(jurisdiction)
    return ZoneInfo(place.timezone or rules.regimes[place.regime].timezone)


def legal_date(*, jurisdiction: str, at: datetime, rules: Rules | None = None) -> date:
    """The calendar date of the instant ``at`` in ``jurisdiction``, as the rule table counts days.

    A deadline is stored as the end of its local due day in UTC (23:59:59 in Los Angeles is
    07:59:59 UTC the next day), so showing ``due_at`` in UTC names the wrong day: every legal date
    shown to anyone (due, acknowledgement, extension) goes through this function.
    """
    _require_aware(at, "at")
    return at.astimezone(zone_for(jurisdiction, rules=rules)).date()


def supported_jurisdictions(*, rules: Rules | None = None) -> tuple[JurisdictionInfo, ...]:
    """``(code, name, regime)`` for every supported jurisdiction, sorted by code."""
    rules = rules or default_rules()
    return tuple(
        JurisdictionInfo(code=j.code, name=j.name, regime=j.regime)
        for j in sorted(rules.jurisdictions.values(), key=lambda j: j.code)
    )


def regime_for(jurisdiction: str, *, on: date | None = None, rules: Rules | None = None) -> Regime:
    """The regime that applies to a person living in ``jurisdiction`` (e.g. ``"DE"``, ``"US-CA"``).

    With ``on`` (the local date of receipt), raises :class:`NotInForce` when the regime's law took
    effect after that date: a law not yet in force does not apply. Without ``on``, no date check.
    """
    rules = rules or default_rules()
    place = rules.jurisdiction(jurisdiction)
    regime = rules.regimes[place.regime]
    if on is not None and not regime.in_force_on(on) and regime.effective is not None:
        raise NotInForce(
            jurisdiction=place.code, name=place.name, law=regime.name, effective=regime.effective, on=on
        )
    return regime


def local_date(jurisdiction: str, instant: datetime, *, rules: Rules | None = None) -> date:
    """The local date of ``instant`` in the jurisdiction's timezone (the day its deadlines count)."""
    _require_aware(instant, "instant")
    rules = rules or default_rules()
    place = rules.jurisdiction(jurisdiction)
    return instant.astimezone(ZoneInfo(place.timezone or rules.regimes[place.regime].timezone)).date()


def rights_for(jurisdiction: str, *, on: date | None = None, rules: Rules | None = None) -> tuple[str, ...]:
    """Request types the portal may offer to a person living in ``jurisdiction``."""
    return regime_for(jurisdiction, on=on, rules=rules).rights


# --------------------------------------------------------------------------------------------------
# Date arithmetic


def _add_months(day: date, months: int) -> date:
    """Regulation 1182/71 Art. 3(2)(c): the same date ``months`` later, else that month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


class _Counted(NamedTuple):
    due_on: date
    calendar_phrase: str
    """How business days were counted, e.g. ``weekends and California state holidays excluded``."""


def _count_business_days(day: date, amount: int, calendar: Calendar) -> date:
    counted = 0
    while counted < amount:
        day += timedelta(days=1)
        if calendar.is_business_day(day):
            counted += 1
    return day


def _add_business_days(day: date, amount: int, calendar: Calendar | None) -> _Counted:
    """``amount`` business days after ``day``; never fails: falls back to the calendar's
    ``fallback`` and then to weekends only, and the phrase says which was used and why."""
    if calendar is None:  # guarded by validation; kept for type narrowing
        raise RulesError("invalid rules: business days need a calendar")
    try:
        return _Counted(_count_business_days(day, amount, calendar), f"weekends and {calendar.name} excluded")
    except CalendarNotCovered:
        missing = f"{calendar.name} could not be determined for these dates"
    if calendar.fallback is not None:
        try:
            due = _count_business_days(day, amount, calendar.fallback)
        except CalendarNotCovered:
            missing += f", nor {calendar.fallback.name}"
        else:
            return _Counted(
                due,
                f"weekends and {calendar.fallback.name} excluded; {missing}, "
                f"so {calendar.fallback.name} were used",
            )
    weekdays = _count_business_days(day, amount, _WEEKENDS_ONLY)
    return _Counted(weekdays, f"weekends excluded; {missing}, so no holidays were counted")


class _WeekendsOnly(Calendar):
    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5


_WEEKENDS_ONLY = _WeekendsOnly(key="weekends-only", name="weekends only", country="ZZ")


def _add(day: date, period: Period, regime: Regime, *, from_receipt: bool) -> _Counted:
    if period.unit == "months":
        if from_receipt and regime.convention == "day_after_receipt":
            day += timedelta(days=1)
        return _Counted(_add_months(day, period.amount), "")
    if period.unit == "calendar_days":
        return _Counted(day + timedelta(days=period.amount), "")
    return _add_business_days(day, period.amount, regime.calendar)


def _end_of_day_utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, _END_OF_DAY, tzinfo=zone).astimezone(UTC)


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime (got a naive one)")


def _from_receipt_phrase(period: Period, regime: Regime, received_on: date, counted: _Counted) -> str:
    if period.unit == "months" and regime.convention == "day_after_receipt":
        return f"{period.describe()} counted from the day after receipt on {received_on.isoformat()}"
    phrase = f"{period.describe()} from receipt on {received_on.isoformat()}"
    if counted.calendar_phrase:
        phrase += f" ({counted.calendar_phrase})"
    return phrase


def _deadline(*, due_on: date, zone: ZoneInfo, kind: DeadlineKind, citation: str, why: str) -> Deadline:
    return Deadline(
        due_at=_end_of_day_utc(due_on, zone),
        kind=kind,
        citation=citation,
        explanation=f"due {due_on.isoformat()}: {citation}, {why}",
        due_on=due_on,
    )


# --------------------------------------------------------------------------------------------------
# Public computations


def schedule_for(
    *, jurisdiction: str, request_type: str, received_at: datetime, rules: Rules | None = None
) -> Schedule:
    """Acknowledgement and response deadlines for a request received at ``received_at``.

    Raises ``ValueError`` for a naive ``received_at``, :class:`UnknownJurisdiction`,
    :class:`NotInForce` when the law took effect after the (local) day of receipt, and
    :class:`UnsupportedRequestType` when the regime does not grant that right. Business days never
    fail: an unanswerable holiday calendar falls back to the federal one (see the explanation).
    """
    _require_aware(received_at, "received_at")
    rules = rules or default_rules()
    place = rules.jurisdiction(jurisdiction)
    timezone = place.timezone or rules.regimes[place.regime].timezone
    zone = ZoneInfo(timezone)
    received_on = received_at.astimezone(zone).date()
    regime = regime_for(place.code, on=received_on, rules=rules)
    rule = regime.rule(request_type)

    acknowledge = None
    if rule.acknowledge is not None and rule.acknowledge_citation is not None:
        counted = _add(received_on, rule.acknowledge, regime, from_receipt=True)
        acknowledge = _deadline(
            due_on=counted.due_on,
            zone=zone,
            kind="acknowledge",
            citation=rule.acknowledge_citation,
            why=_from_receipt_phrase(rule.acknowledge, regime, received_on, counted),
        )
    counted = _add(received_on, rule.respond, regime, from_receipt=True)
    respond = _deadline(
        due_on=counted.due_on,
        zone=zone,
        kind="respond",
        citation=rule.respond_citation,
        why=_from_receipt_phrase(rule.respond, regime, received_on, counted),
    )
    can_extend = rule.extension is not None
    return Schedule(
        regime=regime.code,
        jurisdiction=place.code,
        request_type=request_type,
        received_at=received_at.astimezone(UTC),
        received_on=received_on,
        timezone=timezone,
        acknowledge=acknowledge,
        respond=respond,
        respond_period=rule.respond,
        can_extend=can_extend,
        extension=rule.extension,
        extension_citation=rule.extension_citation,
        extension_notice_by=respond.due_at if can_extend else None,
        notes=tuple(n for n in (regime.note, rule.note) if n),
    )


def extend(
    *,
    schedule: Schedule,
    extended_at: datetime,
    already_extended: bool = False,
    rules: Rules | None = None,
) -> Deadline:
    """The extended response deadline, when the extension notice is given at ``extended_at``.

    An extension in the response period's unit is counted from receipt as one period
    (Regulation 1182/71 Art. 3(2)(c)): GDPR "one month + two further months" from 31 January is
    30 April, three months from receipt, not two months added to a due date already shortened to
    the end of February. An extension in another unit runs from the original due date.

    Raises :class:`ExtensionNotAllowed` with a readable reason when the regime allows no extension
    for this request type, when the request was already extended, or when ``extended_at`` is after
    the original response deadline (the notice must be given inside the first period).
    """
    _require_aware(extended_at, "extended_at")
    rules = rules or default_rules()
    regime = rules.regimes[schedule.regime]
    period, citation = schedule.extension, schedule.extension_citation
    if not schedule.can_extend or period is None or citation is None:
        raise ExtensionNotAllowed(
            f"{regime.name} allows no extension of the response period for {schedule.request_type} "
            f"requests ({schedule.respond.citation}); the response is due "
            f"{schedule.respond.due_on.isoformat()}"
        )
    if already_extended:
        raise ExtensionNotAllowed(
            f"the response period may be extended only once ({citation}); this request was already extended"
        )
    if extended_at < schedule.received_at:
        raise ValueError("extended_at is before the request was received")
    if extended_at > schedule.respond.due_at:
        zone = ZoneInfo(schedule.timezone)
        raise ExtensionNotAllowed(
            f"the extension notice had to be given by the original response deadline "
            f"{schedule.respond.due_on.isoformat()} ({citation}); it was given on "
            f"{extended_at.astimezone(zone).date().isoformat()}"
        )
    original_due = schedule.respond.due_on
    first = schedule.respond_period or regime.rule(schedule.request_type).respond
    if first.unit == period.unit:
        total = Period(amount=first.amount + period.amount, unit=period.unit)
        counted = _add(schedule.received_on, total, regime, from_receipt=True)
        counted_from = _from_receipt_phrase(total, regime, schedule.received_on, counted)
        why = f"extended by {period.describe()}: {counted_from} (originally due {original_due.isoformat()})"
    else:
        counted = _add(original_due, period, regime, from_receipt=False)
        why = f"extended by {period.describe()} from the original due date {original_due.isoformat()}"
        if counted.calendar_phrase:
            why += f" ({counted.calendar_phrase})"
    return _deadline(
        due_on=counted.due_on,
        zone=ZoneInfo(schedule.timezone),
        kind="respond_extended",
        citation=citation,
        why=why,
    )
