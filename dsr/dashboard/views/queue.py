"""The queue: filters, bulk actions, CSV export."""

from __future__ import annotations

from dataclasses import replace

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dsr.audit.services import audit_record
from dsr.dashboard import selectors
from dsr.dashboard.auth import forbidden, staff_view
from dsr.dashboard.csv_export import queue_csv_write
from dsr.dashboard.forms import BulkForm, QueueFilterForm
from dsr.dashboard.views.common import actor, error_text, form_errors, render_page
from dsr.errors import RequestInputError
from dsr.staff.roles import has_permission, mask_email
from dsr.workflow import casework
from dsr.workflow.models import Status
from dsr.workflow.selectors import QueueFilters, request_queue


def _queue_filters(request: HttpRequest) -> tuple[QueueFilterForm, QueueFilters]:
    form = QueueFilterForm(
        request.GET or None,
        assignees=selectors.assignable_staff(),
        due_soon_days=settings.DSR_DUE_SOON.days,
    )
    data = form.cleaned_data if form.is_valid() else {}
    filters = QueueFilters(
        status=data.get("status") or "",
        type=data.get("type") or "",
        jurisdiction=data.get("jurisdiction") or "",
        system=data.get("system") or "",
        overdue=True if data.get("overdue") else None,
        due_soon=bool(data.get("due_soon")),
        assignee=data.get("assignee") or "",
        q=data.get("q") or "",
        sort=data.get("sort") or "due",
    )
    if "@" in filters.q and not has_permission(request.user, "request.view_identity"):
        # A role that sees masked identities must not learn them by searching either (as the API).
        messages.error(request, _("Your role cannot search by e-mail address."))
        filters = replace(filters, q="", nothing=True)
    return form, filters


@require_GET
@staff_view("request.view")
def queue_view(request: HttpRequest) -> HttpResponse:
    form, filters = _queue_filters(request)
    now = timezone.now()
    page = Paginator(request_queue(filters=filters, user=request.user, now=now), 50).get_page(
        request.GET.get("page")
    )
    rows = [
        {"r": r, "badge": selectors.deadline_badge(r, now=now), "email": mask_email(r.email)} for r in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    open_qs = selectors.open_requests()
    summary = {
        "open": open_qs.count(),
        "overdue": open_qs.filter(due_at__lt=now).count(),
        "soon": open_qs.filter(due_at__gte=now, due_at__lte=now + settings.DSR_DUE_SOON).count(),
        "approval": open_qs.filter(status=Status.AWAITING_APPROVAL).count(),
    }
    return render_page(
        request,
        "dashboard/queue.html",
        {
            "form": form,
            "rows": rows,
            "page": page,
            "query": query.urlencode(),
            "summary": summary,
            "bulk_form": BulkForm(),
            "assignees": selectors.assignable_staff(),
        },
    )


@require_POST
@staff_view("request.view")
def queue_bulk_view(request: HttpRequest) -> HttpResponse:
    """Bulk approve / deny / assign. The action's own permission is checked here, in roles.py terms."""
    form = BulkForm(request.POST)
    back = reverse("dashboard:queue") + ("?" + request.POST["query"] if request.POST.get("query") else "")
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return redirect(back)
    action = form.cleaned_data["action"]
    permission = {"approve": "request.approve", "deny": "request.deny", "assign": "request.assign"}[action]
    if not has_permission(request.user, permission):
        return forbidden(request)
    assignee = None
    if action == "assign" and form.cleaned_data["assignee"]:
        assignee = get_user_model().objects.filter(username=form.cleaned_data["assignee"]).first()
        if assignee is None:
            messages.error(request, _("No such staff member."))
            return redirect(back)
    try:
        result = casework.requests_bulk(
            action=action,
            request_ids=form.cleaned_data["ids"],
            actor=actor(request.user),
            reason=form.cleaned_data["reason"],
            message=form.cleaned_data["message"],
            assignee=assignee,
        )
    except RequestInputError as exc:
        messages.error(request, error_text(exc))
        return redirect(back)
    if result.done:
        messages.success(
            request,
            _("%(action)s: %(refs)s") % {"action": action.capitalize(), "refs": ", ".join(result.done)},
        )
    for reference, why in result.skipped:
        messages.warning(request, f"{reference}: {why}")
    return redirect(back)


@require_GET
@staff_view("request.export")
def queue_export_view(request: HttpRequest) -> HttpResponse:
    """The filtered queue as CSV. E-mails in clear only for roles that may see identities."""
    _form, filters = _queue_filters(request)
    clear = has_permission(request.user, "request.view_identity")
    qs = request_queue(filters=filters, user=request.user)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="dsr-requests.csv"'
    response["Cache-Control"] = "no-store"
    count = queue_csv_write(out=response, requests=qs.iterator(chunk_size=500), clear=clear)
    audit_record(
        actor=actor(request.user), action="requests.exported", data={"rows": count, "identities": clear}
    )
    return response
