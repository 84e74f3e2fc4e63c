"""One request: the detail page and every action on it (post/redirect/get)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from dsr.audit.models import AuditEvent
from dsr.dashboard import selectors
from dsr.dashboard.auth import staff_view
from dsr.dashboard.forms import AssignForm, DenyForm, ExtendForm, NoteForm, TaskDoneForm, TaskForm
from dsr.dashboard.views.common import actor, error_text, form_errors, render_page
from dsr.errors import RequestInputError
from dsr.exports.models import AccessPackage
from dsr.exports.selectors import package_current
from dsr.exports.views import package_response
from dsr.staff.roles import mask_email
from dsr.tasks import services as tasks
from dsr.tasks.forms import AccessConfirmForm, ErasureConfirmForm
from dsr.tasks.selectors import tasks_for_request
from dsr.workflow import casework
from dsr.workflow.decisions import job_retry, request_approve, request_cancel, request_deny
from dsr.workflow.identities import identity_reveal
from dsr.workflow.models import Status
from dsr.workflow.selectors import request_get_for_staff
from dsr.workflow.timeline import subject_timeline
from dsr.workflow.transitions import TransitionNotAllowed


def _detail_context(request: HttpRequest, dsr: Any) -> dict[str, Any]:
    jobs = list(dsr.jobs.select_related("system").order_by("system__name"))
    package = package_current(request=dsr)
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
        "timeline": subject_timeline(request=dsr),
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
    return render_page(request, "dashboard/request.html", _detail_context(request, dsr))


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
        messages.error(request, error_text(exc))
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
        lambda: request_approve(request_id=dsr.pk, actor=actor(request.user)),
        _("Approved: the systems are being processed."),
    )


@require_POST
@staff_view("request.deny")
def request_deny_view(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    dsr = request_get_for_staff(user=request.user, request_id=request_id)
    form = DenyForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return _back(dsr.pk)
    return _run(
        request,
        dsr.pk,
        lambda: request_deny(
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
        lambda: request_cancel(
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
        messages.error(request, form_errors(form))
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
        messages.error(request, form_errors(form))
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
        messages.error(request, form_errors(form))
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
        messages.error(request, form_errors(handoff))
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
        lambda: job_retry(job_id=job_id, actor=actor(request.user)),
        _("The job is queued again."),
    )


@never_cache
@require_POST
@staff_view("request.reveal_identity")
def request_reveal_view(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    """Show the identity in clear on this one response (never stored in the session); audited."""
    dsr = request_get_for_staff(user=request.user, request_id=request_id)
    context = _detail_context(request, dsr)
    context["revealed"] = identity_reveal(request_id=dsr.pk, actor=actor(request.user))
    context["audit"] = list(AuditEvent.objects.filter(request_id=dsr.pk).order_by("id"))
    response = render_page(request, "dashboard/request.html", context)
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
