"""Reports: requests per month, CCPA §7102 metrics (page, CSV, HTML snippet)."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dsr.dashboard import charts, reports
from dsr.dashboard.auth import staff_view
from dsr.dashboard.forms import ReportForm
from dsr.dashboard.views.common import render_page
from dsr.workflow.models import RequestType


@require_GET
@staff_view("report.view")
def reports_view(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.GET or None)
    scope = form.scope_or_default()
    year = form.year_or_default(reports.ccpa_default_year(scope=scope))
    now = timezone.now()
    months = reports.requests_per_month(months=12, now=now)
    labels = [m.month.strftime("%b %y") for m in months]
    # Short series names ("Opt out", not the portal's long label) keep the legend readable.
    types = list(RequestType.values) + sorted(
        {t for m in months for t in m.by_type} - set(RequestType.values)
    )
    empty = _("No requests received in these months.")
    by_type = charts.stacked_bars(
        title=_("Requests received per month, by type"),
        labels=labels,
        series=[(t.replace("_", " ").capitalize(), [m.by_type.get(t, 0) for m in months]) for t in types],
        empty=empty,
    )
    by_outcome = charts.stacked_bars(
        title=_("Requests received per month, by outcome"),
        labels=labels,
        series=[(label, [m.by_outcome.get(key, 0) for m in months]) for key, label in reports.OUTCOMES],
        empty=empty,
    )
    rows = reports.ccpa_metrics(year=year, scope=scope)
    stats = reports.close_stats(since=now - timedelta(days=365), until=now)
    return render_page(
        request,
        "dashboard/reports.html",
        {
            "form": form,
            "year": year,
            "years": reports.ccpa_years(scope=scope, now=now),
            "current_year": now.astimezone(reports.CCPA_TIMEZONE).year,
            "scope": scope,
            "chart_by_type": by_type,
            "chart_by_outcome": by_outcome,
            "stats_12m": stats,
            "on_time_pct": None if stats.on_time_share is None else round(100 * stats.on_time_share),
            "overdue": list(reports.overdue_requests(now=now)[:200]),
            "ccpa_rows": rows,
            "ccpa_snippet": reports.ccpa_snippet(rows=rows, year=year, scope=scope),
            "reasons": reports.DenyReason.choices,
        },
    )


@require_GET
@staff_view("report.view")
def report_ccpa_csv_view(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.GET or None)
    scope = form.scope_or_default()
    year = form.year_or_default(reports.ccpa_default_year(scope=scope))
    rows = reports.ccpa_metrics(year=year, scope=scope)
    response = HttpResponse(reports.ccpa_csv(rows=rows, year=year), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="ccpa-7102-metrics-{year}-{scope}.csv"'
    return response


@require_GET
@staff_view("report.view")
def report_ccpa_html_view(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.GET or None)
    scope = form.scope_or_default()
    year = form.year_or_default(reports.ccpa_default_year(scope=scope))
    rows = reports.ccpa_metrics(year=year, scope=scope)
    response = HttpResponse(
        reports.ccpa_snippet(rows=rows, year=year, scope=scope), content_type="text/html; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="ccpa-7102-metrics-{year}.html"'
    return response
