"""How the staff API knows its caller: a hashed, expiring token (django-rest-knox), or a browser
session that passed the second factor. A session signed in with a password only is no caller at all
(finding 1 of issue 10: a password-only admin login used to open the whole staff API)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication

from dsr.staff.twofactor import user_verified


class VerifiedSessionAuthentication(SessionAuthentication):
    """Django's session (with its CSRF check), counted only once the session passed 2FA."""

    def authenticate(self, request: Any) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is None or not user_verified(request._request.user):
            return None
        return result


class VerifiedSessionScheme(SessionScheme):
    """The OpenAPI security scheme of the session (the cookie, as for Django's session)."""

    target_class = "dsr.api.authentication.VerifiedSessionAuthentication"
