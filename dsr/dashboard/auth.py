"""Dashboard sign-in: password, then a TOTP code (throttled by ``dsr.ratelimit.login_attempt``); and
the view decorator that asks ``dsr.staff.roles.has_permission`` — the one place roles are checked —
before every view.

The two steps are plain functions (``password_step``, ``pending_user``, ``enrolment_for``,
``code_step``); the views in ``dsr.dashboard.views.signin`` only parse the forms and render."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, login
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from dsr import ratelimit
from dsr.audit.services import audit_record
from dsr.staff import twofactor as totp
from dsr.staff.actors import staff_actor
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


# --- the two sign-in steps ------------------------------------------------------------------------

LOGIN_FAILED = "The username or password is not right."
CODE_FAILED = (
    "That code is not right, or it was already used. Type the code your app shows now, or a backup code."
)
LOGIN_BLOCKED = "Too many failed sign-in attempts. Try again in %(minutes)d minutes."


def blocked_text() -> str:
    # The block counts failures per username (existing or not) and per IP: saying so reveals nothing.
    return _(LOGIN_BLOCKED) % {"minutes": int(settings.DSR_LOGIN_WINDOW.total_seconds() // 60)}


def password_step(request: HttpRequest, *, username: str, password: str) -> str:
    """Step one. Returns "" when the password is right — nothing is signed in yet, the session only
    remembers who is between the two steps — or the error to show, which never tells whether the
    username or the password was wrong."""
    # Counted before the password is checked (concurrent guesses cannot overshoot), given back
    # when it is right: the limits count failures.
    if not ratelimit.login_attempt(request, username=username).allowed:
        return blocked_text()
    user = authenticate(request, username=username, password=password)
    if user is None or role_of(user) is None:
        return _(LOGIN_FAILED)
    ratelimit.login_passed_step(request, username=username)
    request.session.cycle_key()
    request.session[PENDING_KEY] = {"user": user.pk, "at": time.time()}
    return ""


def pending_user(request: HttpRequest) -> Any | None:
    """The staff member between the two steps; None (and the mark dropped) when there is none, it
    is older than ``PENDING_MAX_AGE``, or the user lost their account or role meanwhile."""
    pending = request.session.get(PENDING_KEY) or {}
    user = None
    if pending.get("user") and time.time() - pending.get("at", 0) <= PENDING_MAX_AGE:
        user = get_user_model().objects.filter(pk=int(pending["user"]), is_active=True).first()
    if user is None or role_of(user) is None:
        request.session.pop(PENDING_KEY, None)
        return None
    return user


def enrolment_for(user: Any) -> dict[str, str] | None:
    """On first sign-in, the authenticator app to enrol (key, otpauth URI, QR code as SVG); None
    when the user has a confirmed device."""
    if totp.totp_device_for(user=user) is not None:
        return None
    unconfirmed = totp.totp_enrol_start(user=user)
    uri = totp.provisioning_uri(device=unconfirmed)
    return {"secret": unconfirmed.secret, "uri": uri, "qr": totp.qr_svg(uri)}


@dataclass(frozen=True)
class CodeOutcome:
    signed_in: bool
    error: str = ""
    backup_codes: list[str] | None = None  # the app was enrolled just now: shown this once


def code_step(request: HttpRequest, *, user: Any, code: str, enrolling: bool) -> CodeOutcome:
    """Step two: a code from the authenticator app or a backup code (``enrolling``: the first code
    of the app, which confirms it and creates the backup codes). On success the user is signed in
    and the session marked verified (django-otp); audited as ``staff.logged_in``."""
    ip = ratelimit.client_ip(request)
    if not ratelimit.login_attempt(request, username=user.get_username()).allowed:
        return CodeOutcome(signed_in=False, error=blocked_text())
    if enrolling:
        device = totp.totp_confirm(user=user, code=code)
        if device is not None:
            _signed_in(request, user, device, ip)
            return CodeOutcome(signed_in=True, backup_codes=totp.backup_codes_create(user=user))
    else:
        device = totp.second_factor_check(user=user, code=code)
        if device is not None:
            _signed_in(request, user, device, ip)
            return CodeOutcome(signed_in=True)
    return CodeOutcome(signed_in=False, error=_(CODE_FAILED))


def _signed_in(request: HttpRequest, user: Any, device: Any, ip: str) -> None:
    """Both factors passed: sign in and mark the session verified (django-otp)."""
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    totp.session_mark_verified(request=request, device=device)
    request.session.pop(PENDING_KEY, None)
    ratelimit.login_succeeded(request, username=user.get_username())
    audit_record(actor=staff_actor(user), action="staff.logged_in", data={"ip": ip})
