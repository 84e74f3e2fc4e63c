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
  skip Saturdays, Sundays and the holidays of the regime's calendar.
* Month periods follow the regime's ``month_convention``: ``same_date_next_month`` (default; 31 Jan ->
  28/29 Feb) or ``day_after_receipt`` (counting starts the day after receipt). A target date that does
  not exist is clamped to the last day of the month.
* A deadline is the end of the due day (23:59:59.999999) in the same timezone, returned in UTC.
* An extension runs from the original due date; its notice must be given no later than the original
  response deadline, and only once.
* Due dates falling on a weekend or holiday are not moved (the earlier, safer date is kept).
"""

from __future__ import annotations

import calendar as _calendar
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

import yaml

__all__ = [
    "DEFAULT_RULES_PATH",
    "MONTH_CONVENTIONS",
    "REQUEST_TYPES",
    "Calendar",
    "CalendarNotCovered",
    "Deadline",
    "DeadlineError",
    "ExtensionNotAllowed",
    "Jurisdiction",
    "JurisdictionInfo",
    "Period",
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
    "regime_for",
    "rights_for",
    "schedule_for",
    "supported_jurisdictions",
]

DEFAULT_RULES_PATH = Path(__file__).with_name("jurisdictions.yaml")

#: Request types a regime may grant. ``appeal`` is the US-state appeal of a denial.
REQUEST_TYPES: tuple[str, ...] = ("access", "erasure", "correction", "opt_out", "appeal")
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
    """Business days were needed on a date for which the holiday calendar has no data."""


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


@dataclass(frozen=True, kw_only=True)
class Calendar:
    """A named business-day calendar: explicit holiday dates for a range of years."""

    key: str
    name: str
    first_year: int
    last_year: int
    holidays: frozenset[date]

    def is_business_day(self, day: date) -> bool:
        if not self.first_year <= day.year <= self.last_year:
            raise CalendarNotCovered(
                f"calendar {self.key!r} ({self.name}) has holiday data for {self.first_year}-"
                f"{self.last_year} only, but {day.isoformat()} is needed; add that year to jurisdictions.yaml"
            )
        return day.weekday() < 5 and day not in self.holidays


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

    @property
    def rights(self) -> tuple[str, ...]:
        """Request types this regime grants, in the canonical ``REQUEST_TYPES`` order."""
        return tuple(rule.request_type for rule in self.rules)

    @property
    def citations(self) -> Mapping[str, str]:
        """Request type -> citation of the right itself."""
        return MappingProxyType({rule.request_type: rule.citation for rule in self.rules})

    def rule(self, request_type: str) -> RightRule:
        for rule in self.rules:
            if rule.request_type == request_type:
                return rule
        if request_type not in REQUEST_TYPES:
            raise UnsupportedRequestType(
                f"unknown request type {request_type!r}; expected one of {', '.join(REQUEST_TYPES)}"
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


def _parse_calendar(key: str, raw: object) -> Calendar:
    where = f"calendars.{key}"
    block = _mapping(raw, where)
    years = block.get("years")
    if not (isinstance(years, list) and len(years) == 2 and all(isinstance(y, int) for y in years)):
        raise _fail(f"{where}.years", "must be [first_year, last_year]")
    first, last = years
    if first > last:
        raise _fail(f"{where}.years", "first year is after last year")
    holidays: set[date] = set()
    for raw_day in _mapping(block.get("holidays"), f"{where}.holidays"):
        try:
            day = raw_day if isinstance(raw_day, date) else date.fromisoformat(str(raw_day))
        except ValueError as exc:
            raise _fail(f"{where}.holidays.{raw_day}", "not an ISO date") from exc
        if not first <= day.year <= last:
            raise _fail(f"{where}.holidays.{day.isoformat()}", f"outside the covered years {first}-{last}")
        holidays.add(day)
    return Calendar(
        key=key,
        name=_text(block.get("name"), f"{where}.name"),
        first_year=first,
        last_year=last,
        holidays=frozenset(holidays),
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
    return Regime(
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
    calendars = {
        str(key): _parse_calendar(str(key), value)
        for key, value in _mapping(root.get("calendars") or {}, "calendars").items()
    }
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


def regime_for(jurisdiction: str, *, rules: Rules | None = None) -> Regime:
    """The regime that applies to a person living in ``jurisdiction`` (e.g. ``"DE"``, ``"US-CA"``)."""
    rules = rules or default_rules()
    return rules.regimes[rules.jurisdiction(jurisdiction).regime]


def rights_for(jurisdiction: str, *, rules: Rules | None = None) -> tuple[str, ...]:
    """Request types the portal may offer to a person living in ``jurisdiction``."""
    return regime_for(jurisdiction, rules=rules).rights


# --------------------------------------------------------------------------------------------------
# Date arithmetic


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def _add_business_days(day: date, amount: int, calendar: Calendar | None) -> date:
    if calendar is None:  # guarded by validation; kept for type narrowing
        raise RulesError("invalid rules: business days need a calendar")
    counted = 0
    while counted < amount:
        day += timedelta(days=1)
        if calendar.is_business_day(day):
            counted += 1
    return day


def _add(day: date, period: Period, regime: Regime, *, from_receipt: bool) -> date:
    if period.unit == "months":
        if from_receipt and regime.convention == "day_after_receipt":
            day += timedelta(days=1)
        return _add_months(day, period.amount)
    if period.unit == "calendar_days":
        return day + timedelta(days=period.amount)
    return _add_business_days(day, period.amount, regime.calendar)


def _end_of_day_utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, _END_OF_DAY, tzinfo=zone).astimezone(UTC)


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime (got a naive one)")


def _from_receipt_phrase(period: Period, regime: Regime, received_on: date) -> str:
    if period.unit == "months" and regime.convention == "day_after_receipt":
        return f"{period.describe()} counted from the day after receipt on {received_on.isoformat()}"
    phrase = f"{period.describe()} from receipt on {received_on.isoformat()}"
    if period.unit == "business_days" and regime.calendar is not None:
        phrase += f" (weekends and {regime.calendar.name} excluded)"
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
    :class:`UnsupportedRequestType` when the regime does not grant that right, and
    :class:`CalendarNotCovered` when business days fall outside the holiday data.
    """
    _require_aware(received_at, "received_at")
    rules = rules or default_rules()
    place = rules.jurisdiction(jurisdiction)
    regime = rules.regimes[place.regime]
    rule = regime.rule(request_type)
    timezone = place.timezone or regime.timezone
    zone = ZoneInfo(timezone)
    received_on = received_at.astimezone(zone).date()

    acknowledge = None
    if rule.acknowledge is not None and rule.acknowledge_citation is not None:
        acknowledge = _deadline(
            due_on=_add(received_on, rule.acknowledge, regime, from_receipt=True),
            zone=zone,
            kind="acknowledge",
            citation=rule.acknowledge_citation,
            why=_from_receipt_phrase(rule.acknowledge, regime, received_on),
        )
    respond = _deadline(
        due_on=_add(received_on, rule.respond, regime, from_receipt=True),
        zone=zone,
        kind="respond",
        citation=rule.respond_citation,
        why=_from_receipt_phrase(rule.respond, regime, received_on),
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
    return _deadline(
        due_on=_add(original_due, period, regime, from_receipt=False),
        zone=ZoneInfo(schedule.timezone),
        kind="respond_extended",
        citation=citation,
        why=f"extended by {period.describe()} from the original due date {original_due.isoformat()}",
    )
