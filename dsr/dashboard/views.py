"""The privacy-team dashboard. Each view parses input, calls a service or selector, and renders.

Every view is wrapped in ``staff_view(permission)``, which asks ``dsr.staff.roles`` (the one place
roles are checked). State changes are POST-only and redirect back (post/redirect/get).
"""

from __future__ import annotations

import csv
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.contrib.auth.views import PasswordChangeView
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dsr import ratelimit
from dsr.audit.models import AuditEvent
from dsr.audit.services import audit_record
from dsr.dashboard import charts, reports, selectors, services
from dsr.dashboard.auth import (
    PENDING_KEY,
    PENDING_MAX_AGE,
    forbidden,
    permissions_for,
    staff_view,
    two_factor_done,
)
from dsr.dashboard.forms import (
    AssignForm,
    AuditFilterForm,
    BulkForm,
    CodeForm,
    DenyForm,
    ExtendForm,
    LoginForm,
    NoteForm,
    QueueFilterForm,
    ReportForm,
    StaffCreateForm,
    StaffRoleForm,
    TaskDoneForm,
    TaskForm,
    TimeZoneForm,
)
from dsr.exports.csvsafe import csv_row_safe
from dsr.exports.models import AccessPackage
from dsr.exports.views import package_response
from dsr.staff import tokens
from dsr.staff import twofactor as totp
from dsr.staff.middleware import staff_time_zone
from dsr.staff.models import Role, StaffTOTPDevice
from dsr.staff.roles import has_permission, mask_email, role_of
from dsr.staff.services import staff_create, staff_set_time_zone, staff_time_zones
from dsr.systems.models import System
from dsr.systems.services import system_set_enabled
from dsr.tasks import services as tasks
from dsr.tasks.forms import AccessConfirmForm, ErasureConfirmForm
from dsr.tasks.selectors import tasks_for_request
from dsr.workflow import casework
from dsr.workflow import services as workflow
from dsr.workflow.models import RequestType, Status
from dsr.workflow.selectors import QueueFilters, request_get_for_staff, request_queue
from dsr.workflow.services import RequestInputError
from dsr.workflow.transitions import TransitionNotAllowed

actor = casework.staff_actor


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    base = {
        "can": permissions_for(request.user),
        "role": role_of(request.user),
        "nav": template.split("/")[-1],
    }
    return render(request, template, {**base, **context}, status=status)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, RequestInputError):
        return " ".join(exc.errors.values())
    return str(exc)


def _form_errors(form: Any) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


# --- sign-in --------------------------------------------------------------------------------------

LOGIN_FAILED = "The username or password is not right."
CODE_FAILED = (
    "That code is not right, or it was already used. Type the code your app shows now, or a backup code."
)
LOGIN_BLOCKED = "Too many failed sign-in attempts. Try again in %(minutes)d minutes."


def _blocked_text() -> str:
    # The block counts failures per username (existing or not) and per IP: saying so reveals nothing.
    return _(LOGIN_BLOCKED) % {"minutes": int(settings.DSR_LOGIN_WINDOW.total_seconds() // 60)}


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("dashboard:queue")


@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Step one: username and password. The answer never tells which of them was wrong. Nothing is
    signed in yet: the session only remembers who is between the two steps."""
    if two_factor_done(request):
        return redirect(_next_url(request))
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        # Counted before the password is checked (concurrent guesses cannot overshoot), given
        # back when it is right: the limits count failures.
        if not ratelimit.login_attempt(request, username=username).allowed:
            error = _blocked_text()
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None or role_of(user) is None:
                error = _(LOGIN_FAILED)
            else:
                ratelimit.login_passed_step(request, username=username)
                request.session.cycle_key()
                request.session[PENDING_KEY] = {"user": user.pk, "at": time.time()}
                target = reverse("dashboard:login_code")
                return HttpResponseRedirect(f"{target}?next={_next_url(request)}")
    elif request.method == "POST":
        error = _("Enter your username and password.")
    return render(request, "dashboard/login.html", {"form": form, "error": error, "next": _next_url(request)})


def _signed_in(request: HttpRequest, user: Any, device: Any, ip: str) -> None:
    """Both factors passed: sign in and mark the session verified (django-otp)."""
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    totp.session_mark_verified(request=request, device=device)
    request.session.pop(PENDING_KEY, None)
    ratelimit.login_succeeded(request, username=user.get_username())
    audit_record(actor=actor(user), action="staff.logged_in", data={"ip": ip})


@never_cache
@require_http_methods(["GET", "POST"])
def login_code_view(request: HttpRequest) -> HttpResponse:
    """Step two: a code from the authenticator app or a backup code; on first sign-in, enrolment of
    the app (QR code and key), after which the backup codes are shown once."""
    pending = request.session.get(PENDING_KEY) or {}
    user = None
    if pending.get("user") and time.time() - pending.get("at", 0) <= PENDING_MAX_AGE:
        user = get_user_model().objects.filter(pk=int(pending["user"]), is_active=True).first()
    if user is None or role_of(user) is None:
        request.session.pop(PENDING_KEY, None)
        return redirect("dashboard:login")
    enrolment = None
    if totp.totp_device_for(user=user) is None:
        unconfirmed = totp.totp_enrol_start(user=user)
        uri = totp.provisioning_uri(device=unconfirmed)
        enrolment = {"secret": unconfirmed.secret, "uri": uri, "qr": totp.qr_svg(uri)}
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        ip = ratelimit.client_ip(request)
        code = form.cleaned_data["code"]
        if not ratelimit.login_attempt(request, username=user.get_username()).allowed:
            error = _blocked_text()
        elif enrolment is not None:
            device = totp.totp_confirm(user=user, code=code)
            if device is not None:
                _signed_in(request, user, device, ip)
                codes = totp.backup_codes_create(user=user)
                return render(
                    request, "dashboard/backup_codes.html", {"codes": codes, "next": _next_url(request)}
                )
            error = _(CODE_FAILED)
        else:
            device = totp.second_factor_check(user=user, code=code)
            if device is not None:
                _signed_in(request, user, device, ip)
                return redirect(_next_url(request))
            error = _(CODE_FAILED)
    elif request.method == "POST":
        error = _form_errors(form)
    return render(
        request,
        "dashboard/login_code.html",
        {"form": form, "error": error, "enrolment": enrolment, "next": _next_url(request)},
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("dashboard:login")


# --- one's own account: password, backup codes, API tokens ----------------------------------------


SHOW_ONCE_KEY = "dsr_show_once"  # the new API token, until the next view of the account page


def _account_page(request: HttpRequest, **extra: Any) -> HttpResponse:
    context = {
        "tokens": list(tokens.token_list(user=request.user)),
        "backup_codes_left": totp.backup_codes_left(user=request.user),
        "token_ttl_days": settings.DSR_API_TOKEN_TTL_DAYS,
        **extra,
    }
    return _page(request, "dashboard/account.html", context)


@never_cache
@require_GET
@staff_view("dashboard.view")
def account_view(request: HttpRequest) -> HttpResponse:
    new = request.session.pop(SHOW_ONCE_KEY, None)  # shown on this one page view, then gone
    return _account_page(request, new_token=new and new["token"], new_token_expiry=new and new["expiry"])


@require_POST
@staff_view("dashboard.view")
def account_token_create_view(request: HttpRequest) -> HttpResponse:
    """Issue an API token for oneself. Only its hash is stored; the clear token waits in the
    session for the next page view (post/redirect/get: a reload does not issue another)."""
    row, clear = tokens.token_create(user=request.user, actor=actor(request.user))
    request.session[SHOW_ONCE_KEY] = {"token": clear, "expiry": row.expiry.strftime("%Y-%m-%d %H:%M UTC")}
    return redirect("dashboard:account")


@require_POST
@staff_view("dashboard.view")
def account_token_revoke_view(request: HttpRequest, token_key: str) -> HttpResponse:
    if tokens.token_revoke(token_key=token_key, user=request.user, actor=actor(request.user)):
        messages.success(request, _("Token %(key)s revoked.") % {"key": token_key})
    else:
        messages.error(request, _("No token %(key)s of yours.") % {"key": token_key})
    return redirect("dashboard:account")


@never_cache
@require_POST
@staff_view("dashboard.view")
def account_backup_codes_view(request: HttpRequest) -> HttpResponse:
    """New backup codes (the old ones stop working), shown this once."""
    codes = totp.backup_codes_create(user=request.user)
    return render(
        request, "dashboard/backup_codes.html", {"codes": codes, "next": reverse("dashboard:account")}
    )


class _PasswordChangeView(PasswordChangeView):
    template_name = "dashboard/password_change.html"
    success_url = reverse_lazy("dashboard:account")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        audit_record(
            actor=actor(self.request.user),
            action="staff.password_changed",
            data={"username": self.request.user.get_username()},
        )
        messages.success(self.request, _("Your password was changed."))
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update({"can": permissions_for(self.request.user), "role": role_of(self.request.user)})
        return context


password_change_view = staff_view("dashboard.view")(_PasswordChangeView.as_view())


# --- the queue ------------------------------------------------------------------------------------


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
    return _page(
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
        messages.error(request, _form_errors(form))
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
        messages.error(request, _error_text(exc))
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
    writer = csv.writer(response)
    writer.writerow(
        ["reference", "type", "jurisdiction", "regime", "status", "email", "received_at", "due_at",
         "extended_at", "closed_at", "closed_on_time", "assignee"]
    )  # fmt: skip
    count = 0
    for r in qs.iterator(chunk_size=500):
        assignment = getattr(r, "assignment", None)
        writer.writerow(
            csv_row_safe(  # an e-mail or a username may start with = + - @
                [
                    r.reference,
                    r.type,
                    r.jurisdiction,
                    r.regime,
                    r.status,
                    r.email if clear else mask_email(r.email),
                    r.received_at.isoformat(),
                    r.due_at.isoformat(),
                    r.extended_at.isoformat() if r.extended_at else "",
                    r.closed_at.isoformat() if r.closed_at else "",
                    "" if r.closed_at is None else ("yes" if r.closed_at <= r.due_at else "no"),
                    assignment.assignee.get_username() if assignment else "",
                ]
            )
        )
        count += 1
    audit_record(
        actor=actor(request.user), action="requests.exported", data={"rows": count, "identities": clear}
    )
    return response


# --- one request ----------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, dsr: Any) -> dict[str, Any]:
    jobs = list(dsr.jobs.select_related("system").order_by("system__name"))
    package = AccessPackage.objects.filter(request=dsr, purged_at__isnull=True).first()
    assignment = getattr(dsr, "assignment", None)
    return {
        "r": dsr,
        "badge": selectors.deadline_badge(dsr),
        "masked_email": mask_email(dsr.email),
        "jobs": jobs,
        "emails": list(dsr.emails.order_by("id")),  # the outbox: failures are shown, never silent
        "notes": list(dsr.notes.select_related("author")),
        "tasks": list(tasks_for_request(request_id=dsr.pk)),  # ad-hoc and hand-offs
        # A hand-off is completed while its job waits: only on a request still being worked.
        "handoffs_open": dsr.status in (Status.IN_PROGRESS, Status.ACTION_REQUIRED),
        "timeline": selectors.subject_timeline(request=dsr),
        "audit": list(AuditEvent.objects.filter(request_id=dsr.pk).order_by("id")),
        "package": package,
        "assignment": assignment,
        "assignees": selectors.assignable_staff(),
        "deny_form": DenyForm(auto_id="deny_%s"),  # distinct ids: both forms have a "reason"
        "extend_form": ExtendForm(auto_id="extend_%s"),
        "note_form": NoteForm(),
        "task_form": TaskForm(),
        "revealed": None,
        "live": selectors.request_is_live(request=dsr),
    }


@require_GET
@staff_view("request.view")
def request_detail_view(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    dsr = request_get_for_staff(user=request.user, request_id=request_id)
    return _page(request, "dashboard/request.html", _detail_context(request, dsr))


@never_cache
@require_GET
@staff_view("request.view")
def request_jobs_json_view(request: HttpRequest, request_id: uuid.UUID) -> JsonResponse:
    """The request's status and its jobs, for the detail page's live refresh (jobs.js)."""
    dsr = request_get_for_staff(user=request.user, request_id=request_id)
    return JsonResponse(selectors.request_job_status(request=dsr))


def _back(request_id: uuid.UUID) -> HttpResponse:
    return redirect("dashboard:request", request_id=request_id)


def _run(request: HttpRequest, request_id: uuid.UUID, call: Any, success: str) -> HttpResponse:
    """Call a service; show its success or its readable refusal, then go back to the request."""
    try:
        call()
    except (RequestInputError, TransitionNotAllowed) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, success)
    return _back(request_id)


@require_POST
@staff_view("request.approve")
def request_approve_view(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    dsr = request_get_for_staff(user=request.user, request_id=request_id)
    return _run(
        request,
        dsr.pk,
        lambda: workflow.request_approve(request_id=dsr.pk, actor=actor(request.user)),
        _("Approved: the systems are being processed."),
    )


@require_POST
@staff_view("request.deny")
def request_deny_view(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    dsr = request_get_for_staff(user=request.user, request_id=request_id)
    form = DenyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back(dsr.pk)
    return _run(
        request,
        dsr.pk,
        lambda: workflow.request_deny(
            request_id=dsr.pk,
            actor=actor(request.user),
            reason=form.cleaned_data["reason"],
            message=form.cleaned_data["message"],
        ),
        _("Denied: the person is told the reasons and their right to complain."),
    )


@require_POST
@staff_view("request.cancel")
def request_cancel_view(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    dsr = request_get_for_staff(user=request.user, request_id=request_id)
    return _run(
        request,
        dsr.pk,
        lambda: workflow.request_cancel(
            request_id=dsr.pk, actor=actor(request.user), note=request.POST.get("note", "")[:2000]
        ),
        _("Cancelled."),
    )


@require_POST
@staff_view("request.extend")
def request_extend_view(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    dsr = request_get_for_staff(user=request.user, request_id=request_id)
    form = ExtendForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back(dsr.pk)
    return _run(
        request,
        dsr.pk,
        lambda: casework.request_extend(
            request_id=dsr.pk, actor=actor(request.user), reason=form.cleaned_data["reason"]
        ),
        _("Extended: the extension notice with your reason is on its way to the person."),
    )


@require_POST
@staff_view("request.assign")
def request_assign_view(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    dsr = request_get_for_staff(user=request.user, request_id=request_id)
    form = AssignForm(request.POST)
    username = form.cleaned_data["assignee"] if form.is_valid() else ""
    assignee = get_user_model().objects.filter(username=username).first() if username else None
    if username and assignee is None:
        messages.error(request, _("No such staff member."))
        return _back(dsr.pk)
    return _run(
        request,
        dsr.pk,
        lambda: casework.request_assign(request_id=dsr.pk, assignee=assignee, actor=actor(request.user)),
        _("Assigned to %(name)s.") % {"name": username} if username else _("Unassigned."),
    )


@require_POST
@staff_view("request.note")
def request_note_view(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    dsr = request_get_for_staff(user=request.user, request_id=request_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back(dsr.pk)
    return _run(
        request,
        dsr.pk,
        lambda: casework.note_add(request_id=dsr.pk, author=request.user, body=form.cleaned_data["body"]),
        _("Note added."),
    )


@require_POST
@staff_view("request.task")
def request_task_add_view(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    dsr = request_get_for_staff(user=request.user, request_id=request_id)
    form = TaskForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back(dsr.pk)
    return _run(
        request,
        dsr.pk,
        lambda: tasks.task_create(
            request_id=dsr.pk, title=form.cleaned_data["title"], actor=actor(request.user)
        ),
        _("Task added."),
    )


@require_POST
@staff_view("request.task")
def request_task_done_view(request: HttpRequest, request_id: uuid.UUID, task_id: int) -> HttpResponse:
    """Complete a task of the request: an ad-hoc task with its outcome; a hand-off with what the
    API asks for (erasure counts and method, or the uploaded access file), which wakes its job."""
    dsr = request_get_for_staff(user=request.user, request_id=request_id)
    task = tasks_for_request(request_id=dsr.pk).filter(pk=task_id).first()
    if task is None:
        raise Http404
    if not task.is_handoff:
        form = TaskDoneForm(request.POST)
        outcome = form.cleaned_data["outcome"] if form.is_valid() else ""
        return _run(
            request,
            dsr.pk,
            lambda: tasks.task_complete(task_id=task_id, actor=actor(request.user), note=outcome),
            _("Task done."),
        )
    form_class = AccessConfirmForm if task.action == "access" else ErasureConfirmForm
    handoff = form_class(request.POST, request.FILES)
    if not handoff.is_valid():
        messages.error(request, _form_errors(handoff))
        return _back(dsr.pk)
    data = handoff.cleaned_data
    file = data.get("file")
    return _run(
        request,
        dsr.pk,
        lambda: tasks.task_complete(
            task_id=task_id,
            actor=actor(request.user),
            upload=tasks.Upload(name=file.name or "", content=file.read()) if file is not None else None,
            category=data.get("category") or tasks.DEFAULT_CATEGORY,
            records_found=data.get("records_found"),
            records_erased=data.get("records_erased"),
            method=data.get("method") or "deleted",
            note=data.get("note") or "",
        ),
        _("Task completed: the system's job records the result."),
    )


@require_POST
@staff_view("job.retry")
def job_retry_view(request: HttpRequest, request_id: uuid.UUID, job_id: int) -> HttpResponse:
    dsr = request_get_for_staff(user=request.user, request_id=request_id)
    if not dsr.jobs.filter(pk=job_id).exists():
        raise Http404
    return _run(
        request,
        dsr.pk,
        lambda: workflow.job_retry(job_id=job_id, actor=actor(request.user)),
        _("The job is queued again."),
    )


@never_cache
@require_POST
@staff_view("request.reveal_identity")
def request_reveal_view(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    """Show the identity in clear on this one response (never stored in the session); audited."""
    dsr = request_get_for_staff(user=request.user, request_id=request_id)
    context = _detail_context(request, dsr)
    context["revealed"] = workflow.identity_reveal(request_id=dsr.pk, actor=actor(request.user))
    context["audit"] = list(AuditEvent.objects.filter(request_id=dsr.pk).order_by("id"))
    response = _page(request, "dashboard/request.html", context)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@staff_view("package.download")
def request_package_view(request: HttpRequest, request_id: uuid.UUID) -> HttpResponseBase:
    dsr = request_get_for_staff(user=request.user, request_id=request_id)
    try:
        return package_response(dsr=dsr, actor=actor(request.user))
    except AccessPackage.DoesNotExist:
        raise Http404 from None


# --- systems --------------------------------------------------------------------------------------


@require_GET
@staff_view("system.view")
def systems_view(request: HttpRequest) -> HttpResponse:
    return _page(request, "dashboard/systems.html", {"rows": selectors.systems_overview()})


def _system(key: str) -> System:
    system = System.objects.filter(key=key).first()
    if system is None:
        raise Http404
    return system


@require_POST
@staff_view("system.check")
def system_check_view(request: HttpRequest, key: str) -> HttpResponse:
    system = _system(key)
    check = services.system_check(system_id=system.pk, actor=actor(request.user))
    (messages.success if check.ok else messages.error)(request, f"{system.name}: {check.message}")
    return redirect(reverse("dashboard:systems") + f"#system-{system.key}")


@require_POST
@staff_view("system.manage")
def system_toggle_view(request: HttpRequest, key: str) -> HttpResponse:
    system = _system(key)
    enabled = request.POST.get("enabled") == "1"
    system_set_enabled(system_id=system.pk, enabled=enabled, actor=actor(request.user), source="dashboard")
    messages.success(
        request,
        (_("%(name)s enabled.") if enabled else _("%(name)s disabled: it gets no new jobs."))
        % {"name": system.name},
    )
    return redirect(reverse("dashboard:systems") + f"#system-{system.key}")


# --- reports --------------------------------------------------------------------------------------


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
    return _page(
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


# --- audit ----------------------------------------------------------------------------------------


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
        workflow.DataSubjectRequest.objects.filter(
            pk__in={e.request_id for e in page if e.request_id}
        ).values_list("pk", "reference")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return _page(
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


# --- staff and settings (admin) -------------------------------------------------------------------


@require_GET
@staff_view("staff.manage")
def staff_view_list(request: HttpRequest) -> HttpResponse:
    users = get_user_model().objects.filter(staff__isnull=False).select_related("staff").order_by("username")
    enrolled = set(StaffTOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
    rows = [{"user": u, "role": u.staff.role, "totp": u.pk in enrolled} for u in users]
    return _page(
        request,
        "dashboard/staff.html",
        {"rows": rows, "create_form": StaffCreateForm(), "roles": Role.choices},
    )


@require_POST
@staff_view("staff.manage")
def staff_create_view(request: HttpRequest) -> HttpResponse:
    form = StaffCreateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("dashboard:staff")
    data = form.cleaned_data
    try:
        services.staff_add(
            username=data["username"],
            email=data["email"],
            role=data["role"],
            password=data["password"],
            actor=actor(request.user),
        )
    except RequestInputError as exc:
        messages.error(request, _error_text(exc))
        return redirect("dashboard:staff")
    messages.success(
        request,
        _("%(name)s can sign in now and will set up two-factor authentication.") % {"name": data["username"]},
    )
    return redirect("dashboard:staff")


def _staff_user(user_id: int) -> Any:
    user = get_user_model().objects.filter(pk=user_id, staff__isnull=False).first()
    if user is None:
        raise Http404
    return user


@require_POST
@staff_view("staff.manage")
def staff_role_view(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _staff_user(user_id)
    form = StaffRoleForm(request.POST)
    if form.is_valid():
        staff_create(username=user.get_username(), role=form.cleaned_data["role"], actor=actor(request.user))
        messages.success(request, _("Role changed."))
    return redirect("dashboard:staff")


@require_POST
@staff_view("staff.manage")
def staff_reset_2fa_view(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _staff_user(user_id)
    totp.totp_reset(user=user, actor=actor(request.user))
    messages.success(request, _("Two-factor authentication reset: the next sign-in enrols a new device."))
    return redirect("dashboard:staff")


@require_GET
@staff_view("settings.view")
def settings_view(request: HttpRequest) -> HttpResponse:
    """The settings that shape the workflow, read-only: they come from the environment."""
    values = [
        ("DSR_ENV", settings.DSR_ENV),
        ("DSR_AUTO_APPROVE", ", ".join(settings.DSR_AUTO_APPROVE) or "—"),
        ("DSR_UNVERIFIED_EXPIRY_DAYS", settings.DSR_UNVERIFIED_EXPIRY.days),
        ("DSR_CODE_TTL_MINUTES", int(settings.DSR_CODE_TTL.total_seconds() // 60)),
        ("DSR_JOB_MAX_ATTEMPTS", settings.DSR_JOB_MAX_ATTEMPTS),
        ("DSR_PACKAGE_TTL_DAYS", settings.DSR_PACKAGE_TTL.days),
        ("DSR_DUE_SOON_DAYS", settings.DSR_DUE_SOON.days),
        ("DSR_LOGIN_MAX_FAILURES_PER_USER", settings.DSR_LOGIN_MAX_FAILURES_PER_USER),
        ("DSR_LOGIN_MAX_FAILURES_PER_IP", settings.DSR_LOGIN_MAX_FAILURES_PER_IP),
        ("DSR_LOGIN_WINDOW_MINUTES", int(settings.DSR_LOGIN_WINDOW.total_seconds() // 60)),
        ("DSR_SESSION_IDLE_MINUTES", int(settings.DSR_SESSION_IDLE.total_seconds() // 60)),
        ("DSR_SESSION_MAX_HOURS", int(settings.DSR_SESSION_MAX_AGE.total_seconds() // 3600)),
        ("DSR_API_TOKEN_TTL_DAYS", settings.DSR_API_TOKEN_TTL_DAYS),
        ("DSR_ADMIN_ENABLED", settings.DSR_ADMIN_ENABLED),
        ("DSR_SITE_URL", settings.SITE_URL),
        ("DEFAULT_FROM_EMAIL", settings.DEFAULT_FROM_EMAIL),
    ]
    return _page(request, "dashboard/settings.html", {"values": values})


@require_http_methods(["GET", "POST"])
@staff_view("request.view")
def preferences_view(request: HttpRequest) -> HttpResponse:
    """Each staff member's own preferences: the time zone their dashboard shows times in."""
    zones = staff_time_zones()
    form = TimeZoneForm(
        request.POST if request.method == "POST" else None,
        zones=zones,
        default=settings.DSR_STAFF_TIME_ZONE,
        initial={"time_zone": request.user.staff.time_zone},  # type: ignore[union-attr]
    )
    if request.method == "POST":
        if form.is_valid():
            staff_set_time_zone(
                user=request.user, time_zone=form.cleaned_data["time_zone"], actor=actor(request.user)
            )
            messages.success(request, _("Preferences saved."))
            return redirect("dashboard:preferences")
        messages.error(request, _form_errors(form))
    return _page(
        request,
        "dashboard/preferences.html",
        {"form": form, "zone": staff_time_zone(request.user), "now": timezone.now()},
    )
