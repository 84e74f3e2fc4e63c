"""What every dashboard page shares: the page context (permissions for the buttons), readable
service refusals, and the audit actor of the signed-in staff member."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dsr.dashboard.auth import permissions_for
from dsr.errors import RequestInputError
from dsr.staff.actors import staff_actor
from dsr.staff.roles import role_of

actor = staff_actor


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    base = {
        "can": permissions_for(request.user),
        "role": role_of(request.user),
        "nav": template.split("/")[-1],
    }
    return render(request, template, {**base, **context}, status=status)


def error_text(exc: Exception) -> str:
    if isinstance(exc, RequestInputError):
        return " ".join(exc.errors.values())
    return str(exc)


def form_errors(form: Any) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)
