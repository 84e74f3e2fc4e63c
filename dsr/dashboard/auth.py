"""Dashboard sign-in: password, then a TOTP code (throttled by ``dsr.ratelimit.login_attempt``); and
the view decorator that asks ``dsr.staff.roles.has_permission`` — the one place roles are checked —
before every view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse

from dsr.staff.roles import PERMISSIONS, has_permission, role_of
from dsr.staff.twofactor import user_verified

PENDING_KEY = "dsr_dashboard_pending"  # {"user": pk, "at": unix time} between the two steps
PENDING_MAX_AGE = 300  # seconds to type the code after the password


def two_factor_done(request: HttpRequest) -> bool:
    """Signed in with both factors (django-otp's verified session, ``dsr.staff.twofactor``)."""
    return user_verified(request.user)


def permissions_for(user: Any) -> dict[str, bool]:
    """Every permission as ``can.request_approve`` for the templates (buttons shown or not)."""
    return {name.replace(".", "_"): has_permission(user, name) for name in PERMISSIONS}


def forbidden(request: HttpRequest) -> HttpResponse:
    context = {"can": permissions_for(request.user), "role": role_of(request.user)}
    return render(request, "dashboard/forbidden.html", context, status=403)


def staff_view(
    permission: str,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Anonymous (or one factor only): to the login page. Signed in without the permission: 403."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not two_factor_done(request):
                return redirect_to_login(request.get_full_path(), reverse("dashboard:login"))
            if not has_permission(request.user, permission):
                return forbidden(request)
            return view(request, *args, **kwargs)

        wrapped.required_permission = permission  # type: ignore[attr-defined]
        return wrapped

    return decorator
