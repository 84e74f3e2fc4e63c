"""Sign-in pages: password, then the second factor. The steps themselves (throttling, the pending
session mark, enrolment, django-otp verification) are ``dsr.dashboard.auth``'s."""

from __future__ import annotations

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from dsr.dashboard import auth
from dsr.dashboard.forms import CodeForm, LoginForm
from dsr.dashboard.views.common import form_errors


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
    """Step one: username and password (``auth.password_step``)."""
    if auth.two_factor_done(request):
        return redirect(_next_url(request))
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        error = auth.password_step(
            request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
        )
        if not error:
            target = reverse("dashboard:login_code")
            return HttpResponseRedirect(f"{target}?next={_next_url(request)}")
    elif request.method == "POST":
        error = _("Enter your username and password.")
    return render(request, "dashboard/login.html", {"form": form, "error": error, "next": _next_url(request)})


@never_cache
@require_http_methods(["GET", "POST"])
def login_code_view(request: HttpRequest) -> HttpResponse:
    """Step two: a code from the authenticator app or a backup code; on first sign-in, enrolment of
    the app (QR code and key), after which the backup codes are shown once."""
    user = auth.pending_user(request)
    if user is None:
        return redirect("dashboard:login")
    enrolment = auth.enrolment_for(user)
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        outcome = auth.code_step(
            request, user=user, code=form.cleaned_data["code"], enrolling=enrolment is not None
        )
        if outcome.backup_codes is not None:
            return render(
                request,
                "dashboard/backup_codes.html",
                {"codes": outcome.backup_codes, "next": _next_url(request)},
            )
        if outcome.signed_in:
            return redirect(_next_url(request))
        error = outcome.error
    elif request.method == "POST":
        error = form_errors(form)
    return render(
        request,
        "dashboard/login_code.html",
        {"form": form, "error": error, "enrolment": enrolment, "next": _next_url(request)},
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("dashboard:login")
