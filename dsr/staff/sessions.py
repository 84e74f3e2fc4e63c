"""Signed-in sessions end after ``DSR_SESSION_IDLE`` without a request and, however busy, after
``DSR_SESSION_MAX_AGE`` from sign-in (issue 10: sessions used to last 14 days)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

STARTED_KEY = "dsr_session_started"  # unix time of the first request after sign-in
SEEN_KEY = "dsr_session_seen"  # unix time of the last request
# Write the last-seen time at most this often, so that every request does not save the session.
SEEN_RESOLUTION = 60


def session_expired(*, started: float, seen: float, now: float) -> bool:
    """True once the session was idle too long or is older than the absolute limit."""
    idle = settings.DSR_SESSION_IDLE.total_seconds()
    absolute = settings.DSR_SESSION_MAX_AGE.total_seconds()
    return now - seen > idle or now - started > absolute


class StaffSessionTimeoutMiddleware:
    """Signs out a session past its idle or absolute limit; the next page asks to sign in again."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            session = request.session
            started = session.get(STARTED_KEY)
            seen = session.get(SEEN_KEY)
            if started is None or seen is None:
                session[STARTED_KEY] = session[SEEN_KEY] = now
            elif session_expired(started=float(started), seen=float(seen), now=now):
                logout(request)
            elif now - float(seen) >= SEEN_RESOLUTION:
                session[SEEN_KEY] = now
        return self.get_response(request)
