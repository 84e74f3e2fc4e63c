"""Reports a regulator asks for: volumes, time to close, on-time share, and the CCPA §7102 metrics.

All figures are computed from the requests themselves (received_at, closed_at, due_at, status,
deny_reason), so they can be reproduced from the database at any time. Test requests
(``is_test``) are left out of every figure: they are a team checking its systems, not people.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dsr.dashboard.selectors import open_requests
from dsr.workflow.models import DataSubjectRequest, DenyReason, RequestType, Status

OUTCOMES: list[tuple[str, str]] = [
    ("completed", str(_("Completed"))),
    ("denied", str(_("Denied"))),
    ("withdrawn", str(_("Cancelled or expired"))),
    ("open", str(_("Open"))),
]


def outcome_of(status: str) -> str:
    if status in (Status.COMPLETED, Status.DENIED):
        return str(status)
    if status in (Status.CANCELLED, Status.EXPIRED):
        return "withdrawn"
    return "open"


def _month_start(day: date, back: int) -> date:
    months = day.year * 12 + day.month - 1 - back
    return date(months // 12, months % 12 + 1, 1)


@dataclass
class MonthRow:
    month: date
    by_type: dict[str, int] = field(default_factory=dict)
    by_outcome: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_type.values())


def requests_per_month(*, months: int = 12, now: datetime | None = None) -> list[MonthRow]:
    """Requests received per calendar month (UTC), by type and by outcome, oldest month first."""
    now = now or timezone.now()
    first = _month_start(now.astimezone(UTC).date(), months - 1)
    rows = {_month_start(first, -i): MonthRow(month=_month_start(first, -i)) for i in range(months)}
    counted = (
        DataSubjectRequest.objects.filter(
            is_test=False, received_at__gte=datetime(first.year, first.month, 1, tzinfo=UTC)
        )
        .annotate(m=TruncMonth("received_at", tzinfo=UTC))
        .values("m", "type", "status")
        .annotate(n=Count("pk"))
    )
    for item in counted:
        row = rows.get(item["m"].date() if isinstance(item["m"], datetime) else item["m"])
        if row is None:
            continue
        row.by_type[item["type"]] = row.by_type.get(item["type"], 0) + item["n"]
        outcome = outcome_of(item["status"])
        row.by_outcome[outcome] = row.by_outcome.get(outcome, 0) + item["n"]
    return list(rows.values())


def _days(request: DataSubjectRequest) -> float:
    assert request.closed_at is not None
    return (request.closed_at - request.received_at).total_seconds() / 86400


@dataclass(frozen=True)
class CloseStats:
    closed: int
    median_days: float | None
    mean_days: float | None
    on_time: int

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.closed if self.closed else None


def close_stats(*, since: datetime, until: datetime) -> CloseStats:
    """Requests answered (completed or denied) with ``closed_at`` in [since, until): days from
    receipt to close, and how many closed on time (``closed_at <= due_at``, the extended due date
    when there was a lawful extension)."""
    closed = list(
        DataSubjectRequest.objects.filter(
            status__in=[Status.COMPLETED, Status.DENIED],
            closed_at__gte=since,
            closed_at__lt=until,
            is_test=False,
        ).only("received_at", "closed_at", "due_at")
    )
    days = [_days(r) for r in closed]
    return CloseStats(
        closed=len(closed),
        median_days=round(statistics.median(days), 1) if days else None,
        mean_days=round(statistics.mean(days), 1) if days else None,
        on_time=sum(1 for r in closed if r.closed_at is not None and r.closed_at <= r.due_at),
    )


def overdue_requests(*, now: datetime | None = None) -> QuerySet[DataSubjectRequest]:
    return (
        open_requests()
        .filter(due_at__lt=now or timezone.now(), is_test=False)
        .select_related("assignment__assignee")
    )


# --- 11 CCR §7102 -----------------------------------------------------------------------------------

# §7102(a)(1): the business compiles, for the previous calendar year, per kind of request the number
# received, complied with in whole or in part, and denied, and the median or mean number of days to
# respond substantively. We give both the median and the mean.
CCPA_LABELS = {
    "access": _("Requests to know"),
    "erasure": _("Requests to delete"),
    "correction": _("Requests to correct"),
    "opt_out": _("Requests to opt out of sale or sharing"),
    "marketing": _("Requests to opt out of marketing"),
    "limit": _("Requests to limit use of sensitive personal information"),
}
CCPA_TIMEZONE = ZoneInfo("America/Los_Angeles")
SCOPES = {"ccpa": _("California consumers (CCPA)"), "all": _("All individuals")}


@dataclass
class CcpaRow:
    type: str
    label: str
    received: int = 0
    complied: int = 0
    denied: int = 0
    denied_by_reason: dict[str, int] = field(default_factory=dict)
    pending: int = 0
    withdrawn: int = 0
    median_days: float | None = None
    mean_days: float | None = None


def _ccpa_requests(scope: str) -> Any:
    qs = DataSubjectRequest.objects.all()
    return qs.filter(regime="CCPA") if scope == "ccpa" else qs


def ccpa_years(*, scope: str = "ccpa", now: datetime | None = None) -> list[int]:
    """Calendar years (California time) with at least one request in ``scope``, newest first,
    always including the current year: the choices of the report's year selector."""
    now = now or timezone.now()
    current = now.astimezone(CCPA_TIMEZONE).year
    first = _ccpa_requests(scope).order_by("received_at").values_list("received_at", flat=True).first()
    oldest = first.astimezone(CCPA_TIMEZONE).year if first is not None else current
    return list(range(current, min(oldest, current) - 1, -1))


def ccpa_default_year(*, scope: str = "ccpa", now: datetime | None = None) -> int:
    """The year a privacy lead expects to see first: the current calendar year to date when it has
    requests, else the last complete year when that has some (the one §7102 asks to publish by
    1 July), else the current year."""
    now = now or timezone.now()
    current = now.astimezone(CCPA_TIMEZONE).year
    for year in (current, current - 1):
        start = datetime(year, 1, 1, tzinfo=CCPA_TIMEZONE)
        end = datetime(year + 1, 1, 1, tzinfo=CCPA_TIMEZONE)
        if _ccpa_requests(scope).filter(received_at__gte=start, received_at__lt=end).exists():
            return year
    return current


def ccpa_metrics(*, year: int, scope: str = "ccpa") -> list[CcpaRow]:
    """The §7102 metrics of requests received in calendar ``year`` (California time), one row per
    request type.

    * complied with in whole or in part: completed (a partial erasure with retained items is a
      completion in part);
    * denied: denied with a reason code, plus unverified requests that expired — an unverifiable
      request is denied (11 CCR §7022(b)(1), §7024(b)) and reported under "unverifiable";
    * days: from receipt to the substantive response (completed or denied with a decision).

    ``scope``: ``ccpa`` counts requests under the CCPA regime; ``all`` counts every request, which
    §7102 allows if the disclosure says that it covers all individuals (the HTML snippet does).
    """
    start = datetime(year, 1, 1, tzinfo=CCPA_TIMEZONE)
    end = datetime(year + 1, 1, 1, tzinfo=CCPA_TIMEZONE)
    qs = DataSubjectRequest.objects.filter(received_at__gte=start, received_at__lt=end, is_test=False)
    if scope == "ccpa":
        qs = qs.filter(regime="CCPA")
    rows = {
        value: CcpaRow(type=value, label=str(CCPA_LABELS.get(value, label)))
        for value, label in RequestType.choices
    }
    days: dict[str, list[float]] = defaultdict(list)
    for request in qs.only("type", "status", "deny_reason", "received_at", "closed_at"):
        row = rows.setdefault(request.type, CcpaRow(type=request.type, label=request.type))
        row.received += 1
        if request.status == Status.COMPLETED:
            row.complied += 1
            days[request.type].append(_days(request))
        elif request.status == Status.DENIED:
            row.denied += 1
            reason = request.deny_reason or DenyReason.OTHER
            row.denied_by_reason[reason] = row.denied_by_reason.get(reason, 0) + 1
            days[request.type].append(_days(request))
        elif request.status == Status.EXPIRED:
            row.denied += 1
            reason = DenyReason.UNVERIFIABLE
            row.denied_by_reason[reason] = row.denied_by_reason.get(reason, 0) + 1
        elif request.status == Status.CANCELLED:
            row.withdrawn += 1
        else:
            row.pending += 1
    for type_, values in days.items():
        rows[type_].median_days = round(statistics.median(values), 1)
        rows[type_].mean_days = round(statistics.mean(values), 1)
    return list(rows.values())


def ccpa_csv(*, rows: list[CcpaRow], year: int) -> str:
    """The metrics as CSV: one line per request type, one column per denial reason."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    reasons = list(DenyReason.values)
    writer.writerow(
        ["year", "request_type", "received", "complied_in_whole_or_in_part", "denied"]
        + [f"denied_{reason}" for reason in reasons]
        + ["pending", "withdrawn", "median_days_to_respond", "mean_days_to_respond"]
    )
    for row in rows:
        writer.writerow(
            [year, row.type, row.received, row.complied, row.denied]
            + [row.denied_by_reason.get(reason, 0) for reason in reasons]
            + [
                row.pending,
                row.withdrawn,
                "" if row.median_days is None else row.median_days,
                "" if row.mean_days is None else row.mean_days,
            ]
        )
    return out.getvalue()


def ccpa_snippet(*, rows: list[CcpaRow], year: int, scope: str) -> str:
    """A self-contained HTML table to paste into the privacy policy (11 CCR §7102(a)(2))."""
    return render_to_string(
        "dashboard/ccpa_snippet.html",
        {"rows": rows, "year": year, "scope": scope, "reasons": DenyReason.choices},
    ).strip()
