"""Legal deadlines: dsr/workflow/deadlines.py with the bundled jurisdictions.yaml.

Pure unit tests: run with ``pytest -p no:django``. Every expected date is written out by hand.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from dsr.workflow.deadlines import (
    DEFAULT_RULES_PATH,
    ExtensionNotAllowed,
    Rules,
    RulesError,
    Schedule,
    UnknownJurisdiction,
    UnsupportedRequestType,
    extend,
    load_rules,
    regime_for,
    rights_for,
    schedule_for,
    supported_jurisdictions,
)

BERLIN = ZoneInfo("Europe/Berlin")
BRUSSELS = ZoneInfo("Europe/Brussels")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
CHICAGO = ZoneInfo("America/Chicago")

EU_27 = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
}  # fmt: skip
EEA_EFTA = {"IS", "LI", "NO"}


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0, *, tz: ZoneInfo) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def end_of_day_utc(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, 999999, tzinfo=tz).astimezone(UTC)


def gdpr_access(received_at: datetime, jurisdiction: str = "DE") -> Schedule:
    return schedule_for(jurisdiction=jurisdiction, request_type="access", received_at=received_at)


def rules_with(tmp_path: Path, change: Any) -> Path:
    """Write a copy of the bundled rules, edited by ``change(data)``, and return its path."""
    data = yaml.safe_load(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# --- GDPR: one calendar month -------------------------------------------------------------------


def test_gdpr_request_is_due_one_month_later_on_the_same_date_with_an_exact_explanation() -> None:
    schedule = gdpr_access(at(2026, 12, 28, tz=BERLIN))

    assert schedule.regime == "GDPR"
    assert schedule.acknowledge is None
    assert schedule.respond.kind == "respond"
    assert schedule.respond.citation == "GDPR Art. 12(3)"
    assert schedule.respond.explanation == (
        "due 2027-01-28: GDPR Art. 12(3), one month from receipt on 2026-12-28"
    )
    assert schedule.respond.due_on == date(2027, 1, 28)


def test_gdpr_deadline_is_the_end_of_the_due_day_in_brussels_returned_in_utc() -> None:
    schedule = gdpr_access(at(2026, 12, 28, tz=BERLIN))

    assert schedule.respond.due_at == datetime(2027, 1, 28, 22, 59, 59, 999999, tzinfo=UTC)
    assert schedule.respond.due_at.tzinfo == UTC


@pytest.mark.parametrize(
    ("received", "due"),
    [
        pytest.param(date(2027, 1, 31), date(2027, 2, 28), id="31-jan-to-28-feb"),
        pytest.param(date(2028, 1, 31), date(2028, 2, 29), id="31-jan-to-29-feb-in-a-leap-year"),
        pytest.param(date(2028, 1, 29), date(2028, 2, 29), id="29-jan-to-29-feb-in-a-leap-year"),
        pytest.param(date(2026, 3, 31), date(2026, 4, 30), id="31-mar-to-30-apr"),
        pytest.param(date(2026, 12, 31), date(2027, 1, 31), id="31-dec-to-31-jan-across-the-year"),
        pytest.param(date(2027, 2, 28), date(2027, 3, 28), id="28-feb-to-28-mar-not-month-end"),
    ],
)
def test_a_month_ends_on_the_same_date_or_is_clamped_to_the_last_day_of_a_shorter_month(
    received: date, due: date
) -> None:
    schedule = gdpr_access(at(received.year, received.month, received.day, tz=BRUSSELS))

    assert schedule.respond.due_on == due


def test_gdpr_can_be_extended_by_two_further_months_three_months_from_receipt() -> None:
    schedule = gdpr_access(at(2026, 12, 28, tz=BERLIN))

    extended = extend(schedule=schedule, extended_at=at(2027, 1, 10, tz=BERLIN))

    assert schedule.can_extend is True
    assert schedule.extension_notice_by == schedule.respond.due_at
    assert extended.kind == "respond_extended"
    assert extended.due_on == date(2027, 3, 28)
    assert extended.due_at == datetime(2027, 3, 28, 21, 59, 59, 999999, tzinfo=UTC)  # CEST from 28 March
    assert extended.explanation == (
        "due 2027-03-28: GDPR Art. 12(3), extended by two months: three months from receipt on "
        "2026-12-28 (originally due 2027-01-28)"
    )


def test_gdpr_extension_after_a_clamped_month_end_counts_three_months_from_receipt() -> None:
    # Regulation 1182/71 Art. 3(2)(c): received 31 Jan -> due 28 Feb -> extended to 30 Apr, three
    # months from receipt, not 28 Apr (two months added to a due date already shortened to 28 Feb).
    schedule = gdpr_access(at(2027, 1, 31, tz=BERLIN))

    extended = extend(schedule=schedule, extended_at=at(2027, 2, 2, tz=BERLIN))

    assert extended.due_on == date(2027, 4, 30)
    assert extended.explanation == (
        "due 2027-04-30: GDPR Art. 12(3), extended by two months: three months from receipt on "
        "2027-01-31 (originally due 2027-02-28)"
    )


def test_gdpr_extension_notice_on_the_last_minute_of_month_one_is_still_in_time() -> None:
    schedule = gdpr_access(at(2026, 12, 28, tz=BERLIN))

    extended = extend(schedule=schedule, extended_at=at(2027, 1, 28, 23, 59, tz=BERLIN))

    assert extended.due_on == date(2027, 3, 28)


def test_gdpr_extension_notice_after_month_one_is_refused_with_the_missed_date() -> None:
    schedule = gdpr_access(at(2026, 12, 28, tz=BERLIN))

    with pytest.raises(ExtensionNotAllowed) as refused:
        extend(schedule=schedule, extended_at=at(2027, 1, 29, 0, 1, tz=BERLIN))

    assert str(refused.value) == (
        "the extension notice had to be given by the original response deadline 2027-01-28 "
        "(GDPR Art. 12(3)); it was given on 2027-01-29"
    )


def test_a_request_cannot_be_extended_twice() -> None:
    schedule = gdpr_access(at(2026, 12, 28, tz=BERLIN))

    with pytest.raises(ExtensionNotAllowed, match="extended only once"):
        extend(schedule=schedule, extended_at=at(2027, 1, 10, tz=BERLIN), already_extended=True)


def test_uk_requests_follow_uk_gdpr_in_london_time() -> None:
    schedule = gdpr_access(at(2026, 5, 31, 23, 30, tz=ZoneInfo("Europe/London")), jurisdiction="GB")

    assert schedule.regime == "UK_GDPR"
    assert schedule.respond.explanation == (
        "due 2026-06-30: UK GDPR Art. 12(3), one month from receipt on 2026-05-31"
    )
    assert schedule.respond.due_at == datetime(2026, 6, 30, 22, 59, 59, 999999, tzinfo=UTC)


# --- the day_after_receipt convention (configurable per regime in the YAML) ----------------------


@pytest.fixture
def day_after_receipt_rules(tmp_path: Path) -> Rules:
    def change(data: dict[str, Any]) -> None:
        data["regimes"]["GDPR"]["month_convention"] = "day_after_receipt"

    return load_rules(rules_with(tmp_path, change))


def test_day_after_receipt_convention_starts_counting_the_day_after_receipt(
    day_after_receipt_rules: Rules,
) -> None:
    schedule = schedule_for(
        jurisdiction="FR",
        request_type="access",
        received_at=at(2026, 12, 28, tz=BRUSSELS),
        rules=day_after_receipt_rules,
    )

    assert schedule.respond.explanation == (
        "due 2027-01-29: GDPR Art. 12(3), one month counted from the day after receipt on 2026-12-28"
    )


@pytest.mark.parametrize(
    ("received", "due"),
    [
        pytest.param(date(2027, 1, 30), date(2027, 2, 28), id="30-jan-counts-from-31-jan-to-28-feb"),
        pytest.param(date(2027, 1, 31), date(2027, 3, 1), id="31-jan-counts-from-1-feb-to-1-mar"),
    ],
)
def test_day_after_receipt_convention_clamps_month_ends_too(
    day_after_receipt_rules: Rules, received: date, due: date
) -> None:
    schedule = schedule_for(
        jurisdiction="FR",
        request_type="erasure",
        received_at=at(received.year, received.month, received.day, tz=BRUSSELS),
        rules=day_after_receipt_rules,
    )

    assert schedule.respond.due_on == due


# --- the receipt day is the local date in the jurisdiction's timezone ---------------------------


def test_late_evening_utc_on_the_31st_is_already_the_1st_in_berlin() -> None:
    received_at = datetime(2027, 1, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 February in Berlin

    schedule = gdpr_access(received_at, jurisdiction="DE")

    assert schedule.received_on == date(2027, 2, 1)
    assert schedule.respond.due_on == date(2027, 3, 1)


def test_late_evening_utc_on_the_31st_is_still_the_31st_in_los_angeles() -> None:
    received_at = datetime(2027, 1, 31, 23, 30, tzinfo=UTC)  # 15:30 on 31 January in Los Angeles

    schedule = schedule_for(jurisdiction="US-CA", request_type="access", received_at=received_at)

    assert schedule.received_on == date(2027, 1, 31)
    assert schedule.respond.due_on == date(2027, 3, 17)
    assert schedule.received_at == received_at


def test_a_country_east_of_brussels_reads_the_receipt_day_in_its_own_timezone() -> None:
    received_at = datetime(2027, 1, 30, 22, 30, tzinfo=UTC)  # 00:30 on 31 Jan in Helsinki, 23:30 in Brussels

    schedule = gdpr_access(received_at, jurisdiction="FI")

    assert schedule.timezone == "Europe/Helsinki"
    assert schedule.received_on == date(2027, 1, 31)
    assert schedule.respond.due_at == end_of_day_utc(date(2027, 2, 28), ZoneInfo("Europe/Helsinki"))


def test_received_at_in_any_timezone_is_accepted_and_stored_in_utc() -> None:
    received_at = datetime(2026, 12, 28, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 00:00 UTC, 01:00 Brussels

    schedule = gdpr_access(received_at)

    assert schedule.received_at == datetime(2026, 12, 28, 0, 0, tzinfo=UTC)
    assert schedule.received_on == date(2026, 12, 28)


def test_a_naive_received_at_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule_for(jurisdiction="DE", request_type="access", received_at=datetime(2026, 12, 28, 12, 0))  # noqa: DTZ001 - naive on purpose


def test_a_naive_extended_at_is_refused() -> None:
    schedule = gdpr_access(at(2026, 12, 28, tz=BERLIN))

    with pytest.raises(ValueError, match="timezone-aware"):
        extend(schedule=schedule, extended_at=datetime(2027, 1, 10, 12, 0))  # noqa: DTZ001 - naive on purpose


# --- CCPA: 10 business days to confirm, 45 calendar days to respond, +45 once -------------------


def test_ccpa_confirmation_skips_thanksgiving_the_day_after_and_weekends() -> None:
    # Friday 20 Nov 2026; Thursday 26 and Friday 27 Nov are California state holidays.
    schedule = schedule_for(
        jurisdiction="US-CA", request_type="erasure", received_at=at(2026, 11, 20, 16, tz=LOS_ANGELES)
    )

    assert schedule.acknowledge is not None
    assert schedule.acknowledge.kind == "acknowledge"
    assert schedule.acknowledge.explanation == (
        "due 2026-12-08: 11 CCR §7021(a), 10 business days from receipt on 2026-11-20 "
        "(weekends and California state holidays excluded)"
    )
    assert schedule.acknowledge.due_at == datetime(2026, 12, 9, 7, 59, 59, 999999, tzinfo=UTC)


def test_ccpa_request_received_on_a_saturday_confirms_on_the_same_day_as_one_from_friday() -> None:
    schedule = schedule_for(
        jurisdiction="US-CA", request_type="access", received_at=at(2026, 11, 21, 10, tz=LOS_ANGELES)
    )

    assert schedule.acknowledge is not None
    assert schedule.acknowledge.due_on == date(2026, 12, 8)


def test_ccpa_business_days_skip_california_only_holidays_such_as_cesar_chavez_day() -> None:
    # Received Monday 30 March 2026; Tuesday 31 March is Cesar Chavez Day (not a federal holiday).
    schedule = schedule_for(
        jurisdiction="US-CA", request_type="correction", received_at=at(2026, 3, 30, tz=LOS_ANGELES)
    )

    assert schedule.acknowledge is not None
    assert schedule.acknowledge.due_on == date(2026, 4, 14)


def test_ccpa_response_is_due_45_calendar_days_after_receipt_even_on_a_sunday() -> None:
    schedule = schedule_for(
        jurisdiction="US-CA", request_type="access", received_at=at(2026, 1, 1, 10, tz=LOS_ANGELES)
    )

    assert schedule.respond.explanation == (
        "due 2026-02-15: 11 CCR §7021(b), 45 calendar days from receipt on 2026-01-01"
    )
    assert schedule.respond.due_at == datetime(2026, 2, 16, 7, 59, 59, 999999, tzinfo=UTC)


def test_ccpa_response_can_be_extended_once_by_45_days_to_90_days_in_total() -> None:
    schedule = schedule_for(
        jurisdiction="US-CA", request_type="erasure", received_at=at(2026, 1, 1, 10, tz=LOS_ANGELES)
    )

    extended = extend(schedule=schedule, extended_at=at(2026, 2, 10, tz=LOS_ANGELES))

    assert extended.due_on == date(2026, 4, 1)
    assert extended.due_at == datetime(2026, 4, 2, 6, 59, 59, 999999, tzinfo=UTC)  # PDT by then
    assert extended.citation == "Cal. Civ. Code §1798.130(a)(2)"
    assert extended.explanation == (
        "due 2026-04-01: Cal. Civ. Code §1798.130(a)(2), extended by 45 calendar days: "
        "90 calendar days from receipt on 2026-01-01 (originally due 2026-02-15)"
    )


def test_ccpa_extension_notice_after_the_first_45_days_is_refused() -> None:
    schedule = schedule_for(
        jurisdiction="US-CA", request_type="erasure", received_at=at(2026, 1, 1, 10, tz=LOS_ANGELES)
    )

    with pytest.raises(ExtensionNotAllowed, match="original response deadline 2026-02-15"):
        extend(schedule=schedule, extended_at=at(2026, 2, 16, 0, 5, tz=LOS_ANGELES))


def test_ccpa_opt_out_is_due_in_15_business_days_with_no_confirmation_step() -> None:
    schedule = schedule_for(
        jurisdiction="US-CA", request_type="opt_out", received_at=at(2026, 11, 20, 16, tz=LOS_ANGELES)
    )

    assert schedule.acknowledge is None
    assert schedule.can_extend is False
    assert schedule.respond.explanation == (
        "due 2026-12-15: 11 CCR §7026(f), 15 business days from receipt on 2026-11-20 "
        "(weekends and California state holidays excluded)"
    )


def test_ccpa_opt_out_cannot_be_extended() -> None:
    schedule = schedule_for(
        jurisdiction="US-CA", request_type="opt_out", received_at=at(2026, 11, 20, tz=LOS_ANGELES)
    )

    with pytest.raises(ExtensionNotAllowed, match="allows no extension"):
        extend(schedule=schedule, extended_at=at(2026, 11, 23, tz=LOS_ANGELES))


# --- other US states, LGPD ----------------------------------------------------------------------


@pytest.mark.parametrize("jurisdiction", ["US-VA", "US-CO", "US-CT", "US-TX", "US-UT", "US-OR", "US-MN"])
def test_us_state_requests_are_due_in_45_days_extendable_once_by_45(jurisdiction: str) -> None:
    received_at = datetime(2026, 1, 1, 18, 0, tzinfo=UTC)  # 1 January in every US timezone

    schedule = schedule_for(jurisdiction=jurisdiction, request_type="access", received_at=received_at)
    extended = extend(schedule=schedule, extended_at=received_at + timedelta(days=30))

    assert schedule.acknowledge is None
    assert schedule.respond.due_on == date(2026, 2, 15)
    assert extended.due_on == date(2026, 4, 1)


def test_iowa_requests_are_due_in_90_days_with_no_extension() -> None:
    schedule = schedule_for(
        jurisdiction="US-IA", request_type="erasure", received_at=at(2026, 3, 2, tz=CHICAGO)
    )

    assert schedule.respond.explanation == (
        "due 2026-05-31: Iowa Code §715D.4, 90 calendar days from receipt on 2026-03-02"
    )
    assert schedule.can_extend is False
    assert schedule.extension_notice_by is None
    with pytest.raises(ExtensionNotAllowed) as refused:
        extend(schedule=schedule, extended_at=at(2026, 3, 10, tz=CHICAGO))
    assert str(refused.value) == (
        "Iowa Consumer Data Protection Act allows no extension of the response period for erasure "
        "requests (Iowa Code §715D.4); the response is due 2026-05-31"
    )


def test_virginia_appeals_are_decided_within_60_days() -> None:
    schedule = schedule_for(
        jurisdiction="US-VA",
        request_type="appeal",
        received_at=at(2026, 3, 2, tz=ZoneInfo("America/New_York")),
    )

    assert schedule.respond.due_on == date(2026, 5, 1)
    assert schedule.respond.citation == "Va. Code §59.1-577(C)"
    assert schedule.can_extend is False


def test_colorado_appeals_take_45_days_extendable_by_60() -> None:
    denver = ZoneInfo("America/Denver")
    schedule = schedule_for(
        jurisdiction="US-CO", request_type="appeal", received_at=at(2026, 3, 2, tz=denver)
    )

    extended = extend(schedule=schedule, extended_at=at(2026, 3, 20, tz=denver))

    assert schedule.respond.due_on == date(2026, 4, 16)
    assert extended.due_on == date(2026, 6, 15)


def test_lgpd_access_is_due_in_15_days_in_sao_paulo_time_without_extension() -> None:
    schedule = schedule_for(
        jurisdiction="BR", request_type="access", received_at=at(2026, 7, 10, tz=SAO_PAULO)
    )

    assert schedule.regime == "LGPD"
    assert schedule.respond.explanation == (
        "due 2026-07-25: LGPD Art. 19(II), 15 calendar days from receipt on 2026-07-10"
    )
    assert schedule.respond.due_at == datetime(2026, 7, 26, 2, 59, 59, 999999, tzinfo=UTC)
    assert schedule.can_extend is False


# --- jurisdictions, rights and citations --------------------------------------------------------


def test_every_eu_and_eea_country_maps_to_gdpr() -> None:
    gdpr = {row.code for row in supported_jurisdictions() if row.regime == "GDPR"}

    assert gdpr == EU_27 | EEA_EFTA
    assert len(gdpr) == 30


def test_supported_jurisdictions_are_sorted_code_name_regime_rows() -> None:
    rows = supported_jurisdictions()

    assert [row.code for row in rows] == sorted(row.code for row in rows)
    assert ("DE", "Germany", "GDPR") in rows
    assert ("GB", "United Kingdom", "UK_GDPR") in rows
    assert ("BR", "Brazil", "LGPD") in rows
    assert ("US-CA", "California", "CCPA") in rows
    assert ("NO", "Norway", "GDPR") in rows


def test_jurisdiction_codes_are_matched_case_insensitively() -> None:
    assert regime_for(" us-ca ").code == "CCPA"


def test_an_unknown_jurisdiction_is_a_clear_error_naming_the_code() -> None:
    with pytest.raises(UnknownJurisdiction, match="unknown jurisdiction 'US-NY'"):
        schedule_for(jurisdiction="US-NY", request_type="access", received_at=at(2026, 1, 5, tz=BERLIN))


def test_an_unknown_jurisdiction_error_never_echoes_arbitrary_input() -> None:
    with pytest.raises(UnknownJurisdiction) as unknown:
        regime_for("alice@example.com")

    assert "alice" not in str(unknown.value)
    assert "(not an ISO 3166 code)" in str(unknown.value)


def test_the_portal_offers_only_the_rights_a_regime_grants() -> None:
    assert rights_for("DE") == ("access", "erasure", "correction", "opt_out")
    assert rights_for("US-CA") == ("access", "erasure", "correction", "opt_out")
    assert rights_for("US-VA") == ("access", "erasure", "correction", "opt_out", "appeal")
    assert rights_for("US-IA") == ("access", "erasure", "opt_out", "appeal")
    assert rights_for("US-UT") == ("access", "erasure", "opt_out")


def test_a_right_the_regime_does_not_grant_is_refused() -> None:
    with pytest.raises(UnsupportedRequestType, match="grants no 'correction' right"):
        schedule_for(jurisdiction="US-IA", request_type="correction", received_at=at(2026, 1, 5, tz=CHICAGO))


def test_an_unknown_request_type_is_refused() -> None:
    with pytest.raises(UnsupportedRequestType, match="unknown request type 'portability'"):
        schedule_for(jurisdiction="DE", request_type="portability", received_at=at(2026, 1, 5, tz=BERLIN))


def test_each_right_and_clock_carries_its_citation() -> None:
    gdpr, ccpa, lgpd = regime_for("FR"), regime_for("US-CA"), regime_for("BR")

    assert gdpr.citations["access"] == "GDPR Art. 15"
    assert gdpr.citations["erasure"] == "GDPR Art. 17"
    assert gdpr.rule("access").extension_citation == "GDPR Art. 12(3)"
    assert ccpa.rule("access").acknowledge_citation == "11 CCR §7021(a)"
    assert ccpa.rule("access").respond_citation == "11 CCR §7021(b)"
    assert ccpa.rule("erasure").extension_citation == "Cal. Civ. Code §1798.130(a)(2)"
    assert ccpa.rule("opt_out").respond_citation == "11 CCR §7026(f)"
    assert lgpd.rule("access").respond_citation == "LGPD Art. 19(II)"
    assert regime_for("US-IA").rule("access").respond_citation == "Iowa Code §715D.4"


def test_regimes_expose_timezone_and_month_convention() -> None:
    ccpa = regime_for("US-CA")

    assert ccpa.timezone == "America/Los_Angeles"
    assert ccpa.convention == "same_date_next_month"
    assert ccpa.calendar is not None
    assert ccpa.calendar.name == "California state holidays"
    assert regime_for("DE").timezone == "Europe/Brussels"


def test_results_are_frozen_and_keyword_only() -> None:
    schedule = gdpr_access(at(2026, 12, 28, tz=BERLIN))

    with pytest.raises(dataclasses.FrozenInstanceError):
        schedule.respond.due_at = datetime(2030, 1, 1, tzinfo=UTC)  # type: ignore[misc]
    with pytest.raises(TypeError):
        schedule_for("DE", "access", at(2026, 12, 28, tz=BERLIN))  # type: ignore[misc]


# --- the rules file ---------------------------------------------------------------------------


def test_the_bundled_rules_file_is_valid() -> None:
    rules = load_rules()

    assert set(rules.regimes) >= {"GDPR", "UK_GDPR", "CCPA", "LGPD", "US_VA", "US_IA"}


def test_a_jurisdiction_pointing_at_an_undefined_regime_is_rejected_naming_the_key(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["jurisdictions"]["DE"]["regime"] = "GDPR2"

    with pytest.raises(RulesError, match=r"jurisdictions\.DE\.regime: unknown regime 'GDPR2'"):
        load_rules(rules_with(tmp_path, change))


def test_a_right_without_a_citation_is_rejected_naming_the_key(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        del data["regimes"]["CCPA"]["rights"]["erasure"]["citation"]

    with pytest.raises(RulesError, match=r"regimes\.CCPA\.rights\.erasure\.citation"):
        load_rules(rules_with(tmp_path, change))


def test_a_deadline_without_a_citation_is_rejected_naming_the_key(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        del data["regimes"]["GDPR"]["defaults"]["respond"]["citation"]

    with pytest.raises(RulesError, match=r"regimes\.GDPR\.rights\.access\.respond\.citation"):
        load_rules(rules_with(tmp_path, change))


def test_an_unreadable_period_is_rejected_naming_the_key(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["regimes"]["LGPD"]["defaults"]["respond"]["period"] = "15 days"

    with pytest.raises(RulesError, match=r"regimes\.LGPD\.rights\.\w+\.respond\.period"):
        load_rules(rules_with(tmp_path, change))


def test_an_unknown_month_convention_is_rejected(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["regimes"]["GDPR"]["month_convention"] = "thirty_days"

    with pytest.raises(RulesError, match=r"regimes\.GDPR\.month_convention"):
        load_rules(rules_with(tmp_path, change))


def test_a_calendar_without_a_country_is_rejected_naming_the_key(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        del data["calendars"]["us-ca-state"]["country"]

    with pytest.raises(RulesError, match=r"calendars\.us-ca-state\.country"):
        load_rules(rules_with(tmp_path, change))


def test_a_calendar_falling_back_to_an_unknown_calendar_is_rejected(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["calendars"]["us-ca-state"]["fallback"] = "us-federl"

    with pytest.raises(RulesError, match=r"calendars\.us-ca-state\.fallback: unknown calendar 'us-federl'"):
        load_rules(rules_with(tmp_path, change))


def test_a_file_that_is_not_yaml_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("regimes: [unclosed\n", encoding="utf-8")

    with pytest.raises(RulesError, match="not valid YAML"):
        load_rules(path)


def test_the_module_imports_without_django_settings() -> None:
    code = (
        "import sys, dsr.workflow.deadlines; "
        "sys.exit('django.db' in sys.modules or 'django.apps' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "does.not.exist"}

    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
