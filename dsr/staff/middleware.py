"""Dashboard pages show times (received, audit events) in the staff member's own time zone."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from dsr.staff.models import StaffProfile


def staff_time_zone(user: object) -> ZoneInfo:
    """The zone ``user`` chose in their preferences, else ``DSR_STAFF_TIME_ZONE``."""
    profile: StaffProfile | None = None
    if getattr(user, "is_authenticated", False):
        profile = getattr(user, "staff", None)
    name = (profile.time_zone if profile is not None else "") or settings.DSR_STAFF_TIME_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.DSR_STAFF_TIME_ZONE)


class StaffTimeZoneMiddleware:
    """Activates the staff member's zone for ``/dashboard/`` requests (Django's ``timezone.activate``).

    Other surfaces keep UTC: the portal and e-mails show legal dates in the jurisdiction's calendar
    through ``dsr.workflow.deadlines.legal_date`` instead.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/dashboard/"):
            return self.get_response(request)
        # A missing profile raises RelatedObjectDoesNotExist, an AttributeError: getattr's default.
        timezone.activate(staff_time_zone(getattr(request, "user", None)))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
