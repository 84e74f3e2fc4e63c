"""Reports: per-month volumes, time to close, on-time share, and the CCPA §7102 metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dsr.dashboard import charts, reports
from dsr.workflow.models import Status
from tests.factories import RequestFactory

pytestmark = pytest.mark.django_db

JAN = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)


def _ccpa(type_: str, status: str, *, days: float | None = None, reason: str = "", **kwargs):  # type: ignore[no-untyped-def]
    return RequestFactory(
        type=type_,
        jurisdiction="US-CA",
        regime="CCPA",
        status=status,
        received_at=JAN,
        due_at=JAN + timedelta(days=45),
        closed_at=JAN + timedelta(days=days) if days is not None else None,
        deny_reason=reason,
        **kwargs,
    )


def test_the_ccpa_metrics_count_received_complied_denied_and_days_per_type():
    _ccpa("access", Status.COMPLETED, days=10)
    _ccpa("access", Status.COMPLETED, days=20)
    _ccpa("access", Status.COMPLETED, days=60)
    _ccpa("access", Status.DENIED, days=5, reason="fraud")
    _ccpa("access", Status.EXPIRED, days=7)  # never verified: denied as unverifiable
    _ccpa("access", Status.IN_PROGRESS)
    _ccpa("erasure", Status.CANCELLED, days=1)
    RequestFactory(
        type="access", status=Status.COMPLETED, received_at=JAN, closed_at=JAN
    )  # GDPR: not counted
    rows = {row.type: row for row in reports.ccpa_metrics(year=2025)}
    access = rows["access"]
    assert (access.received, access.complied, access.denied, access.pending) == (6, 3, 2, 1)
    assert access.denied_by_reason == {"fraud": 1, "unverifiable": 1}
    assert (access.median_days, access.mean_days) == (15.0, 23.8)  # responses after 5, 10, 20 and 60 days
    erasure = rows["erasure"]
    assert (erasure.received, erasure.withdrawn, erasure.median_days) == (1, 1, None)
    assert rows["access"].label == "Requests to know"
    assert rows["erasure"].label == "Requests to delete"


def test_all_individuals_scope_counts_every_regime():
    _ccpa("access", Status.COMPLETED, days=10)
    RequestFactory(type="access", status=Status.COMPLETED, received_at=JAN, closed_at=JAN + timedelta(days=2))
    rows = {row.type: row for row in reports.ccpa_metrics(year=2025, scope="all")}
    assert (rows["access"].received, rows["access"].median_days) == (2, 6.0)


def test_the_year_is_the_californian_calendar_year():
    # 02:00 UTC on 1 January 2025 is still 2024 in California.
    _ccpa("access", Status.IN_PROGRESS).__class__.objects.update(
        received_at=datetime(2025, 1, 1, 2, 0, tzinfo=UTC)
    )
    assert {r.type: r.received for r in reports.ccpa_metrics(year=2024)}["access"] == 1
    assert {r.type: r.received for r in reports.ccpa_metrics(year=2025)}["access"] == 0


def test_the_ccpa_csv_has_a_column_per_denial_reason():
    _ccpa("access", Status.DENIED, days=4, reason="exempt")
    text = reports.ccpa_csv(rows=reports.ccpa_metrics(year=2025), year=2025)
    header, access = text.splitlines()[:2]
    assert header == (
        "year,request_type,received,complied_in_whole_or_in_part,denied,denied_unverifiable,"
        "denied_cannot_identify,denied_not_a_consumer,denied_exempt,denied_excessive,"
        "denied_outside_jurisdiction,denied_fraud,denied_other,pending,withdrawn,"
        "median_days_to_respond,mean_days_to_respond"
    )
    assert access == "2025,access,1,0,1,0,0,0,1,0,0,0,0,0,0,4.0,4.0"


def test_the_html_snippet_is_a_self_contained_table_that_says_its_scope():
    _ccpa("erasure", Status.COMPLETED, days=3)
    snippet = reports.ccpa_snippet(rows=reports.ccpa_metrics(year=2025), year=2025, scope="ccpa")
    assert snippet.startswith('<table class="ccpa-metrics">')
    assert snippet.endswith("</table>")
    assert "Privacy requests received in 2025 (from California consumers)" in snippet
    assert (
        '<th scope="row">Requests to delete</th><td>1</td><td>1</td><td>0</td><td>3.0</td><td>3.0</td>'
        in snippet
    )


def test_close_stats_give_median_mean_and_the_on_time_share():
    base = datetime(2026, 3, 1, tzinfo=UTC)
    for days, due in [(10, 30), (20, 30), (40, 30)]:
        RequestFactory(
            status=Status.COMPLETED, received_at=base, due_at=base + timedelta(days=due),
            closed_at=base + timedelta(days=days),
        )  # fmt: skip
    RequestFactory(
        status=Status.CANCELLED, received_at=base, closed_at=base + timedelta(days=1)
    )  # not answered
    stats = reports.close_stats(since=base, until=base + timedelta(days=100))
    assert (stats.closed, stats.median_days, stats.mean_days, stats.on_time) == (3, 20.0, 23.3, 2)
    assert stats.on_time_share == 2 / 3


def test_requests_per_month_split_by_type_and_outcome():
    now = datetime(2026, 11, 15, tzinfo=UTC)
    RequestFactory(type="access", status=Status.COMPLETED, received_at=datetime(2026, 11, 2, tzinfo=UTC))
    RequestFactory(type="erasure", status=Status.DENIED, received_at=datetime(2026, 11, 3, tzinfo=UTC))
    RequestFactory(
        type="erasure", status=Status.IN_PROGRESS, received_at=datetime(2026, 10, 31, 23, tzinfo=UTC)
    )
    RequestFactory(
        type="access", status=Status.COMPLETED, received_at=datetime(2025, 11, 30, tzinfo=UTC)
    )  # too old
    months = reports.requests_per_month(months=12, now=now)
    assert [m.month.isoformat() for m in (months[0], months[-1])] == ["2025-12-01", "2026-11-01"]
    assert (months[-1].by_type, months[-1].by_outcome) == (
        {"access": 1, "erasure": 1},
        {"completed": 1, "denied": 1},
    )
    assert (months[-2].by_type, months[-2].by_outcome) == ({"erasure": 1}, {"open": 1})
    assert sum(m.total for m in months) == 3


def test_chart_labels_are_escaped():
    svg = charts.stacked_bars(title="<script>", labels=["a&b"], series=[("x<y", [2])])
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "a&amp;b" in svg
    assert "x&lt;y (2)" in svg
