"""The systems inventory page: connection checks, enable/disable."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dsr.dashboard import selectors, services
from dsr.dashboard.auth import staff_view
from dsr.dashboard.views.common import actor, render_page
from dsr.systems.models import System
from dsr.systems.services import system_set_enabled


@require_GET
@staff_view("system.view")
def systems_view(request: HttpRequest) -> HttpResponse:
    return render_page(request, "dashboard/systems.html", {"rows": selectors.systems_overview()})


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
