"""One's own account: password, backup codes, API tokens, and preferences (time zone)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import PasswordChangeView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dsr.audit.services import audit_record
from dsr.dashboard.auth import permissions_for, staff_view
from dsr.dashboard.forms import TimeZoneForm
from dsr.dashboard.views.common import actor, form_errors, render_page
from dsr.staff import tokens
from dsr.staff import twofactor as totp
from dsr.staff.middleware import staff_time_zone
from dsr.staff.roles import role_of
from dsr.staff.services import staff_set_time_zone, staff_time_zones

SHOW_ONCE_KEY = "dsr_show_once"  # the new API token, until the next view of the account page


def _account_page(request: HttpRequest, **extra: Any) -> HttpResponse:
    context = {
        "tokens": list(tokens.token_list(user=request.user)),
        "backup_codes_left": totp.backup_codes_left(user=request.user),
        "token_ttl_days": settings.DSR_API_TOKEN_TTL_DAYS,
        **extra,
    }
    return render_page(request, "dashboard/account.html", context)


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
        messages.error(request, form_errors(form))
    return render_page(
        request,
        "dashboard/preferences.html",
        {"form": form, "zone": staff_time_zone(request.user), "now": timezone.now()},
    )
