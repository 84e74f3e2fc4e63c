"""The audit log: filters and the hash-chain verification."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_POST

from dsr.dashboard import selectors, services
from dsr.dashboard.auth import staff_view
from dsr.dashboard.forms import AuditFilterForm
from dsr.dashboard.views.common import actor, render_page
from dsr.workflow.models import DataSubjectRequest


def _audit_page(request: HttpRequest, report: Any = None) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.AuditFilters(
        action=data.get("action") or "",
        actor=data.get("actor") or "",
        reference=data.get("reference") or "",
        since=data.get("since"),
        until=data.get("until"),
    )
    page = Paginator(selectors.audit_events(filters=filters), 100).get_page(request.GET.get("page"))
    references = dict(
        DataSubjectRequest.objects.filter(pk__in={e.request_id for e in page if e.request_id}).values_list(
            "pk", "reference"
        )
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render_page(
        request,
        "dashboard/audit.html",
        {
            "form": form,
            "page": page,
            "rows": [(e, references.get(e.request_id) if e.request_id else None) for e in page],
            "report": report,
            "query": query.urlencode(),
        },
    )


@require_GET
@staff_view("audit.view")
def audit_view(request: HttpRequest) -> HttpResponse:
    return _audit_page(request)


@require_POST
@staff_view("audit.verify")
def audit_verify_view(request: HttpRequest) -> HttpResponse:
    report = services.audit_verify(actor=actor(request.user))
    return _audit_page(request, report=report)
