"""Staff and settings (admin): accounts, roles, two-factor reset, read-only settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dsr.dashboard import services
from dsr.dashboard.auth import staff_view
from dsr.dashboard.forms import StaffCreateForm, StaffRoleForm
from dsr.dashboard.views.common import actor, error_text, form_errors, render_page
from dsr.errors import RequestInputError
from dsr.staff import twofactor as totp
from dsr.staff.models import Role, StaffTOTPDevice
from dsr.staff.services import staff_create


@require_GET
@staff_view("staff.manage")
def staff_view_list(request: HttpRequest) -> HttpResponse:
    users = get_user_model().objects.filter(staff__isnull=False).select_related("staff").order_by("username")
    enrolled = set(StaffTOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
    rows = [{"user": u, "role": u.staff.role, "totp": u.pk in enrolled} for u in users]
    return render_page(
        request,
        "dashboard/staff.html",
        {"rows": rows, "create_form": StaffCreateForm(), "roles": Role.choices},
    )


@require_POST
@staff_view("staff.manage")
def staff_create_view(request: HttpRequest) -> HttpResponse:
    form = StaffCreateForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
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
        messages.error(request, error_text(exc))
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
    return render_page(request, "dashboard/settings.html", {"values": values})
