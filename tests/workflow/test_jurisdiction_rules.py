# ruff: noqa: E501  (the law table reads best one law per line)
"""The rule table, law by law: rights, deadlines, extensions, appeal windows, free-request quotas,
agents, opt-out signals and effective dates (dsr/workflow/jurisdictions.yaml), plus the holiday
calendars from the ``holidays`` package and month arithmetic per Regulation (EEC, Euratom) 1182/71.

Pure unit tests (no database). Every expected date is written out by hand; each row names the rule
it checks (reference: /work/shared/reference/legal-rules.md §1.1-§1.3).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import pytest
import yaml

from dsr.workflow.deadlines import (
    DEFAULT_RULES_PATH,
    ExtensionNotAllowed,
    NotInForce,
    Period,
    Rules,
    default_rules,
    extend,
    load_rules,
    regime_for,
    rights_for,
    schedule_for,
    supported_jurisdictions,
)

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
LONDON = ZoneInfo("Europe/London")
TORONTO = ZoneInfo("America/Toronto")

US_RIGHTS = ("access", "erasure", "correction", "opt_out", "appeal")
NO_CORRECTION = ("access", "erasure", "opt_out", "appeal")
TWELVE_MONTHS = Period(amount=12, unit="months")


class Law(NamedTuple):
    """One row of the state grid (reference §1.3), for a request received on 1 March 2027."""

    code: str
    regime: str
    effective: date
    rights: tuple[str, ...]
    respond_citation: str
    due: date  # the response, 45 (IA: 90; CH/CA: 30) days after 1 March 2027
    extended_due: date | None  # after the one extension, or None where there is none
    appeal_due: date | None  # the appeal decision, or None where there is no appeal right
    appeal_extended_due: date | None
    free_requests: int | None  # per 12 months (None: no fixed number)
    agent_rights: tuple[str, ...] | None  # None: the table says nothing about agents
    signals_from: date | None  # universal opt-out signal mandatory from, None: not mandatory


RECEIVED = date(2027, 3, 1)
APR15, MAY30, APR30, JUN14, MAR31 = (
    date(2027, 4, 15),
    date(2027, 5, 30),
    date(2027, 4, 30),
    date(2027, 6, 14),
    date(2027, 3, 31),
)
ALL4 = ("access", "erasure", "correction", "opt_out")
OPT = ("opt_out",)

LAWS = [
    # code, regime, effective, rights, respond citation, due, +ext, appeal, appeal+ext, quota, agents, signals
    Law("US-CA", "CCPA", date(2020, 1, 1), ALL4, "11 CCR §7021(b)", APR15, MAY30, None, None, 2, ALL4, date(2020, 8, 14)),
    Law("US-VA", "US_VA", date(2023, 1, 1), US_RIGHTS, "Va. Code §59.1-577(B)(1)", APR15, MAY30, APR30, None, 2, (), None),
    Law("US-CO", "US_CO", date(2023, 7, 1), US_RIGHTS, "C.R.S. §6-1-1306(2)", APR15, MAY30, APR15, JUN14, 1, OPT, date(2024, 7, 1)),
    Law("US-CT", "US_CT", date(2023, 7, 1), US_RIGHTS, "Conn. Gen. Stat. §42-518", APR15, MAY30, APR30, None, 1, OPT, date(2025, 1, 1)),
    Law("US-UT", "US_UT", date(2023, 12, 31), ("access", "erasure", "opt_out"), "Utah Code ch. 13-61", APR15, MAY30, None, None, 1, (), None),
    Law("US-TX", "US_TX", date(2024, 7, 1), US_RIGHTS, "Tex. Bus. & Com. Code §541.052", APR15, MAY30, APR30, None, 2, OPT, date(2025, 1, 1)),
    Law("US-OR", "US_OR", date(2024, 7, 1), US_RIGHTS, "ORS 646A.570-646A.589", APR15, MAY30, APR15, JUN14, 1, OPT, date(2026, 1, 1)),
    Law("US-MT", "US_MT", date(2024, 10, 1), US_RIGHTS, "Mont. Code Ann. §30-14-2808", APR15, MAY30, APR30, None, 1, OPT, date(2025, 1, 1)),
    Law("US-IA", "US_IA", date(2025, 1, 1), NO_CORRECTION, "Iowa Code §715D.4", MAY30, None, APR30, None, 2, (), None),
    Law("US-DE", "US_DE", date(2025, 1, 1), US_RIGHTS, "6 Del. C. §12D-104", APR15, MAY30, APR30, None, 1, OPT, date(2026, 1, 1)),
    Law("US-NH", "US_NH", date(2025, 1, 1), US_RIGHTS, "RSA 507-H:4", APR15, MAY30, APR30, None, 1, OPT, date(2025, 1, 1)),
    Law("US-NJ", "US_NJ", date(2025, 1, 15), US_RIGHTS, "N.J.S.A. 56:8-166.10", APR15, MAY30, APR15, None, 1, OPT, date(2025, 7, 15)),
    Law("US-TN", "US_TN", date(2025, 7, 1), US_RIGHTS, "Tenn. Code Ann. §47-18-3203", APR15, MAY30, APR30, None, 2, ALL4, None),
    Law("US-MN", "US_MN", date(2025, 7, 31), US_RIGHTS, "Minn. Stat. ch. 325M", APR15, MAY30, APR15, JUN14, 2, OPT, date(2025, 7, 31)),
    Law("US-MD", "US_MD", date(2025, 10, 1), US_RIGHTS, "Md. Code, Com. Law §14-4605", APR15, MAY30, APR30, None, 1, OPT, date(2025, 10, 1)),
    Law("US-IN", "US_IN", date(2026, 1, 1), US_RIGHTS, "Ind. Code §24-15-3-1", APR15, MAY30, APR30, None, 1, (), None),
    Law("US-KY", "US_KY", date(2026, 1, 1), US_RIGHTS, "KRS 367.3615", APR15, MAY30, APR30, None, 2, (), None),
    Law("US-RI", "US_RI", date(2026, 1, 1), US_RIGHTS, "R.I. Gen. Laws §6-48.1-5", APR15, None, APR30, None, 1, OPT, date(2026, 1, 1)),
    Law("US-NE", "US_NE", date(2025, 1, 1), US_RIGHTS, "Neb. Rev. Stat. §87-1108", APR15, MAY30, APR30, None, 2, OPT, None),
    Law("CH", "CH_FADP", date(2023, 9, 1), ALL4, "Art. 18(1) DPO", MAR31, None, None, None, None, None, None),
    Law("CA", "CA_PIPEDA", date(2004, 1, 1), ("access", "correction"), "PIPEDA s. 8(3)", MAR31, APR30, None, None, None, None, None),
    Law("CA-QC", "CA_QC", date(1994, 1, 1), ("access", "erasure", "correction"), "CQLR c. P-39.1, s. 32", MAR31, None, None, None, None, None, None),
]  # fmt: skip

ENACTED_US_STATES = {
    "US-CA", "US-VA", "US-CO", "US-CT", "US-UT", "US-TX", "US-OR", "US-MT", "US-IA", "US-DE",
    "US-NH", "US-NJ", "US-TN", "US-MN", "US-MD", "US-IN", "US-KY", "US-RI", "US-NE",
}  # fmt: skip


def law_id(law: Law) -> str:
    return f"{law.code} {law.respond_citation}"


def noon(day: date, jurisdiction: str) -> datetime:
    rules = default_rules()
    place = rules.jurisdiction(jurisdiction)
    zone = ZoneInfo(place.timezone or rules.regimes[place.regime].timezone)
    return datetime(day.year, day.month, day.day, 12, tzinfo=zone)


def rules_with(tmp_path: Path, change: Any) -> Rules:
    data = yaml.safe_load(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_rules(path)


# --- coverage of the table ----------------------------------------------------------------------


def test_every_enacted_comprehensive_us_state_law_is_in_the_table() -> None:
    covered = {j.code for j in supported_jurisdictions() if j.code.startswith("US-")}

    assert covered == ENACTED_US_STATES
    assert {law.code for law in LAWS} >= ENACTED_US_STATES


def test_switzerland_canada_and_quebec_are_in_the_table_under_their_own_laws() -> None:
    rows = {j.code: (j.name, j.regime) for j in supported_jurisdictions()}

    assert rows["CH"] == ("Switzerland", "CH_FADP")
    assert rows["CA"] == ("Canada", "CA_PIPEDA")
    assert rows["CA-QC"] == ("Quebec (Canada)", "CA_QC")


def test_every_jurisdiction_name_of_the_rule_table_is_marked_for_translation() -> None:
    from dsr.workflow.jurisdiction_names import MSGIDS

    assert sorted(MSGIDS) == sorted(j.name for j in supported_jurisdictions())


# --- per law: rights, deadline, extension, appeal, quota, agents, signals, effective date ---------


@pytest.mark.parametrize("law", LAWS, ids=law_id)
def test_each_law_offers_exactly_its_rights(law: Law) -> None:
    assert regime_for(law.code).code == law.regime
    assert rights_for(law.code) == law.rights


@pytest.mark.parametrize("law", LAWS, ids=law_id)
def test_each_law_sets_its_response_deadline_from_receipt(law: Law) -> None:
    schedule = schedule_for(
        jurisdiction=law.code, request_type="access", received_at=noon(RECEIVED, law.code)
    )

    assert schedule.respond.due_on == law.due
    assert schedule.respond.citation == law.respond_citation
    assert schedule.respond.explanation.startswith(f"due {law.due.isoformat()}: {law.respond_citation}, ")
    assert schedule.respond.explanation.endswith("from receipt on 2027-03-01")


@pytest.mark.parametrize("law", LAWS, ids=law_id)
def test_each_law_allows_its_one_extension_or_none(law: Law) -> None:
    schedule = schedule_for(
        jurisdiction=law.code, request_type="access", received_at=noon(RECEIVED, law.code)
    )
    notice = noon(date(2027, 3, 10), law.code)

    if law.extended_due is None:
        assert schedule.can_extend is False
        with pytest.raises(ExtensionNotAllowed, match="allows no extension"):
            extend(schedule=schedule, extended_at=notice)
    else:
        extended = extend(schedule=schedule, extended_at=notice)
        assert extended.due_on == law.extended_due
        assert f"(originally due {law.due.isoformat()})" in extended.explanation


@pytest.mark.parametrize("law", LAWS, ids=law_id)
def test_each_appeal_is_decided_within_its_window(law: Law) -> None:
    if law.appeal_due is None:
        assert "appeal" not in rights_for(law.code)
        return
    schedule = schedule_for(
        jurisdiction=law.code, request_type="appeal", received_at=noon(RECEIVED, law.code)
    )

    assert schedule.respond.due_on == law.appeal_due
    if law.appeal_extended_due is None:
        assert schedule.can_extend is False
    else:
        extended = extend(schedule=schedule, extended_at=noon(date(2027, 3, 10), law.code))
        assert extended.due_on == law.appeal_extended_due
        assert extended.explanation.startswith(f"due {law.appeal_extended_due.isoformat()}: ")


@pytest.mark.parametrize("law", LAWS, ids=law_id)
def test_each_law_records_its_free_request_quota_as_data(law: Law) -> None:
    quota = regime_for(law.code).quota

    assert quota is not None
    assert quota.count == law.free_requests
    assert quota.window == (TWELVE_MONTHS if law.free_requests is not None else None)
    assert quota.citation
    assert set(quota.rights) <= set(law.rights)


@pytest.mark.parametrize("law", LAWS, ids=law_id)
def test_each_law_records_its_agent_and_opt_out_signal_rules_as_data(law: Law) -> None:
    regime = regime_for(law.code)

    if law.agent_rights is None:
        assert regime.agents is None
    else:
        assert regime.agents is not None
        assert regime.agents.rights == law.agent_rights
        assert regime.agents.citation
    if law.code.startswith("US-"):
        signals = regime.opt_out_signals
        assert signals is not None
        assert signals.citation
        assert signals.required is (law.signals_from is not None)
        assert signals.required_from == law.signals_from


@pytest.mark.parametrize("law", LAWS, ids=law_id)
def test_a_law_applies_from_its_effective_date_and_not_the_day_before(law: Law) -> None:
    regime = regime_for(law.code)
    assert regime.effective == law.effective
    assert regime.effective_citation

    on_the_day = schedule_for(
        jurisdiction=law.code, request_type="access", received_at=noon(law.effective, law.code)
    )
    assert on_the_day.received_on == law.effective

    day_before = date.fromordinal(law.effective.toordinal() - 1)
    with pytest.raises(NotInForce) as refused:
        schedule_for(jurisdiction=law.code, request_type="access", received_at=noon(day_before, law.code))
    assert (refused.value.effective, refused.value.on) == (law.effective, day_before)


def test_a_law_not_yet_in_force_is_explained_with_its_name_and_date() -> None:
    with pytest.raises(NotInForce) as refused:
        regime_for("US-IN", on=date(2025, 12, 31))

    assert str(refused.value) == (
        "the privacy law of Indiana (Indiana Consumer Data Protection Act) applies to requests received "
        "from 2026-01-01; this request was received on 2025-12-31, before it took effect"
    )
    assert regime_for("US-IN").code == "US_IN"  # without a date: the rule-table lookup only


def test_the_effective_date_is_read_on_the_local_day_of_receipt() -> None:
    # 03:00 UTC on 1 January 2026 is still 31 December 2025 in Indianapolis (Ind. Code art. 24-15).
    with pytest.raises(NotInForce):
        schedule_for(
            jurisdiction="US-IN",
            request_type="access",
            received_at=datetime(2026, 1, 1, 3, tzinfo=ZoneInfo("UTC")),
        )


# --- month arithmetic: Regulation 1182/71 Art. 3(2)(c), GDPR Art. 12(3) ------------------------


@pytest.mark.parametrize(
    ("jurisdiction", "zone", "received", "due", "extended"),
    [
        pytest.param(
            "DE", BERLIN, date(2028, 1, 31), date(2028, 2, 29), date(2028, 4, 30), id="31-jan-leap-year"
        ),
        pytest.param("DE", BERLIN, date(2027, 1, 31), date(2027, 2, 28), date(2027, 4, 30), id="31-jan"),
        pytest.param(
            "DE", BERLIN, date(2028, 2, 29), date(2028, 3, 29), date(2028, 5, 29), id="29-feb-leap-day"
        ),
        pytest.param(
            "DE", BERLIN, date(2027, 11, 30), date(2027, 12, 30), date(2028, 2, 29), id="30-nov-into-leap-feb"
        ),
        pytest.param("DE", BERLIN, date(2027, 8, 31), date(2027, 9, 30), date(2027, 11, 30), id="31-aug"),
        pytest.param(
            "FR", BERLIN, date(2027, 12, 31), date(2028, 1, 31), date(2028, 3, 31), id="31-dec-over-new-year"
        ),
        pytest.param("GB", LONDON, date(2029, 1, 31), date(2029, 2, 28), date(2029, 4, 30), id="uk-31-jan"),
    ],
)
def test_a_month_period_and_its_extension_are_counted_from_receipt(
    jurisdiction: str, zone: ZoneInfo, received: date, due: date, extended: date
) -> None:
    # One month ends on the same date in the next month, else on that month's last day; the
    # extension makes it three months from receipt (GDPR Art. 12(3)), never 2 months from 28 Feb.
    schedule = schedule_for(
        jurisdiction=jurisdiction,
        request_type="erasure",
        received_at=datetime(received.year, received.month, received.day, 12, tzinfo=zone),
    )
    result = extend(schedule=schedule, extended_at=schedule.received_at)

    assert schedule.respond.due_on == due
    assert result.due_on == extended
    assert result.explanation.endswith(
        f"extended by two months: three months from receipt on {received.isoformat()} "
        f"(originally due {due.isoformat()})"
    )


def test_pipeda_30_days_plus_30_over_a_leap_february() -> None:
    # PIPEDA s. 8(3), s. 8(4)(a): received 31 Jan 2028 -> 1 Mar 2028 (29 days in February) -> 31 Mar.
    schedule = schedule_for(
        jurisdiction="CA", request_type="access", received_at=datetime(2028, 1, 31, 12, tzinfo=TORONTO)
    )
    extended = extend(schedule=schedule, extended_at=schedule.received_at)

    assert schedule.respond.explanation == (
        "due 2028-03-01: PIPEDA s. 8(3), 30 calendar days from receipt on 2028-01-31"
    )
    assert extended.explanation == (
        "due 2028-03-31: PIPEDA s. 8(4)(a), extended by 30 calendar days: 60 calendar days from "
        "receipt on 2028-01-31 (originally due 2028-03-01)"
    )


# --- business days from the holidays package (11 CCR §7021(a), §7026(f)) -----------------------


def test_a_california_request_just_before_thanksgiving_skips_thursday_and_friday() -> None:
    # Wed 22 Nov 2028; Thu 23 (Thanksgiving) and Fri 24 (the day after) are California state holidays.
    schedule = schedule_for(
        jurisdiction="US-CA",
        request_type="access",
        received_at=datetime(2028, 11, 22, 12, tzinfo=LOS_ANGELES),
    )

    assert schedule.acknowledge is not None
    assert schedule.acknowledge.explanation == (
        "due 2028-12-08: 11 CCR §7021(a), 10 business days from receipt on 2028-11-22 "
        "(weekends and California state holidays excluded)"
    )


@pytest.mark.parametrize(
    ("received", "type_", "due"),
    [
        # 25 Dec 2028 and 1 Jan 2029 are holidays: no longer "beyond the holiday data".
        pytest.param(date(2028, 12, 20), "access", date(2029, 1, 5), id="2028-12-20-confirm"),
        pytest.param(date(2028, 12, 20), "opt_out", date(2029, 1, 12), id="2028-12-20-opt-out"),
        pytest.param(date(2031, 12, 22), "access", date(2032, 1, 7), id="2031-12-22-confirm"),
        pytest.param(date(2031, 12, 22), "opt_out", date(2032, 1, 14), id="2031-12-22-opt-out"),
    ],
)
def test_business_days_at_the_turn_of_any_year_are_counted_without_failing(
    received: date, type_: str, due: date
) -> None:
    schedule = schedule_for(
        jurisdiction="US-CA",
        request_type=type_,
        received_at=datetime(received.year, received.month, received.day, 12, tzinfo=LOS_ANGELES),
    )
    deadline = schedule.acknowledge if type_ == "access" else schedule.respond

    assert deadline is not None
    assert deadline.due_on == due
    assert deadline.explanation.endswith("(weekends and California state holidays excluded)")


def test_a_state_calendar_the_package_cannot_answer_falls_back_to_federal_holidays_and_says_so(
    tmp_path: Path,
) -> None:
    def change(data: dict[str, Any]) -> None:
        data["calendars"]["us-ca-state"]["subdivision"] = "ZZ"  # a subdivision the package lacks

    rules = rules_with(tmp_path, change)
    schedule = schedule_for(
        jurisdiction="US-CA",
        request_type="access",
        received_at=datetime(2028, 11, 22, 12, tzinfo=LOS_ANGELES),
        rules=rules,
    )

    # Federal: only Thursday 23 November (Thanksgiving) is a holiday, so Friday 24 counts.
    assert schedule.acknowledge is not None
    assert schedule.acknowledge.explanation == (
        "due 2028-12-07: 11 CCR §7021(a), 10 business days from receipt on 2028-11-22 "
        "(weekends and US federal holidays excluded; California state holidays could not be "
        "determined for these dates, so US federal holidays were used)"
    )


def test_beyond_every_calendar_only_weekends_are_skipped_and_the_explanation_says_so() -> None:
    # The holidays package covers the US up to 2100; the deadline still comes out (never fails).
    schedule = schedule_for(
        jurisdiction="US-CA", request_type="opt_out", received_at=datetime(2101, 3, 1, 12, tzinfo=LOS_ANGELES)
    )

    assert schedule.respond.explanation == (
        "due 2101-03-22: 11 CCR §7026(f), 15 business days from receipt on 2101-03-01 (weekends "
        "excluded; California state holidays could not be determined for these dates, nor US federal "
        "holidays, so no holidays were counted)"
    )


def test_the_california_calendar_counts_state_holidays_and_leaves_out_commemorations() -> None:
    calendar = load_rules().calendars["us-ca-state"]
    days_2028 = calendar.holidays_in(2028)

    assert days_2028[date(2028, 3, 31)] == "Cesar Chavez Day"
    assert days_2028[date(2028, 11, 24)] == "Day After Thanksgiving"
    assert date(2028, 2, 15) not in days_2028  # Susan B. Anthony Day: excluded in the YAML
    assert calendar.fallback is not None
    assert calendar.fallback.key == "us-federal"
