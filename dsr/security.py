"""HTTP hardening in one place: security headers with a content security policy, and the throttle of
the Django admin's login form.

Django's ``SecurityMiddleware`` already sends HSTS (production), ``X-Content-Type-Options`` and the
referrer policy, and ``XFrameOptionsMiddleware`` sends ``X-Frame-Options: DENY``; this adds what
Django does not: ``Content-Security-Policy``, ``Permissions-Policy`` and the cross-origin isolation
headers. See SECURITY.md for the threat model these answer.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext

# Every page: scripts and styles only from our own origin, no inline script, no plugins, no
# framing, forms post only to us. The portal (what the public sees) passes with this policy.
BASE_POLICY: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# Staff pages (behind sign-in) and Django's admin use inline style attributes and <style> blocks:
# inline styles are allowed there, inline scripts never.
STAFF_PREFIXES = ("/dashboard/", "/admin/")
# The rendered API reference (templates/api/redoc.html) runs ReDoc from our own static files
# (drf-spectacular-sidecar), so no other origin is allowed. ReDoc inserts its styles as <style>
# elements at run time (styled-components) and runs its search index in a Web Worker it creates from
# a blob: URL; nothing else is added to the base policy.
API_DOCS_PREFIX = "/api/docs/"
API_DOCS_EXTRA = {
    "style-src": ["'unsafe-inline'"],
    "worker-src": ["blob:"],
}

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
    )
)


def _origin(url: str) -> str | None:
    split = urllib.parse.urlsplit(url)
    if split.scheme in ("http", "https") and split.netloc:
        return f"{split.scheme}://{split.netloc}"
    return None


def content_security_policy(path: str) -> str:
    """The policy for a request path (see the constants above for what each surface allows)."""
    policy = {name: list(sources) for name, sources in BASE_POLICY.items()}
    logo = _origin(getattr(settings, "DSR_BRAND_LOGO_URL", "") or "")
    if logo:
        policy["img-src"].append(logo)  # the brand's logo may live on the company's own CDN
    if path.startswith(STAFF_PREFIXES):
        policy["style-src"].append("'unsafe-inline'")
    elif path.startswith(API_DOCS_PREFIX):
        for name, sources in API_DOCS_EXTRA.items():
            policy.setdefault(name, ["'self'"]).extend(sources)
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())


class SecurityHeadersMiddleware:
    """Adds the content security policy and the other headers Django does not send itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", content_security_policy(request.path))
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


class AdminLoginThrottleMiddleware:
    """Throttles the Django admin's login form with the dashboard's counters (``DSR_LOGIN_*``,
    ``dsr.ratelimit.login_attempt``: each attempt is counted before it is checked, a success given back).

    A failed admin login counts against the username and the client IP exactly like a failed
    dashboard login, and once either is used up both forms refuse further attempts (429) until
    the window passes, so the admin is not a way around the dashboard's throttle.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.urls import reverse

        # Without DSR_ADMIN_ENABLED the admin is not mounted (and "admin:login" does not resolve).
        if (
            request.method != "POST"
            or not settings.DSR_ADMIN_ENABLED
            or request.path != reverse("admin:login")
        ):
            return self.get_response(request)
        from dsr import ratelimit

        username = str(request.POST.get("username", ""))[:150]
        if not ratelimit.login_attempt(request, username=username).allowed:
            return HttpResponse(
                gettext("Too many failed sign-ins. Wait a few minutes and try again."),
                status=429,
                content_type="text/plain; charset=utf-8",
            )
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            ratelimit.login_succeeded(request, username=username)
        return response
