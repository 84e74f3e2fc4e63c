"""``manage.py check --deploy``: the Django admin must not be reachable without the second factor."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

OTP_MIDDLEWARE = "django_otp.middleware.OTPMiddleware"


@checks.register(checks.Tags.security, deploy=True)
def admin_second_factor(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from django.contrib import admin
    from django_otp.admin import OTPAdminSite

    if not settings.DSR_ADMIN_ENABLED:
        return []
    if isinstance(admin.site, OTPAdminSite) and OTP_MIDDLEWARE in settings.MIDDLEWARE:
        return []
    return [
        checks.Warning(
            "/admin/ is enabled (DSR_ADMIN_ENABLED) without a second factor: a password alone "
            "opens the Django admin.",
            hint="Keep admin.site an OTPAdminSite with django_otp's OTPMiddleware installed, "
            "or set DSR_ADMIN_ENABLED=false.",
            id="dsr.W101",
        )
    ]
