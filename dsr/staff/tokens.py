"""Staff API tokens, on django-rest-knox: only a SHA-512 digest of each token is stored (the token
itself has 256 random bits, so an unkeyed digest suffices), every token expires
(``DSR_API_TOKEN_TTL_DAYS``), a staff member may hold several and revoke each, and the token is
shown once, when it is issued. Nobody gets one without asking (``create_staff --token``, the
dashboard's "API tokens" page)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from knox.crypto import hash_token
from knox.models import AuthToken

from dsr.audit.services import audit_record


def token_create(*, user: Any, actor: str, ttl_days: int | None = None) -> tuple[AuthToken, str]:
    """Issue a token for ``user``; return its row and the token in clear (never stored, never shown again)."""
    days = settings.DSR_API_TOKEN_TTL_DAYS if ttl_days is None else ttl_days
    if days < 1:
        raise ValueError("a token lasts at least one day")
    with transaction.atomic():
        row, clear = AuthToken.objects.create(user=user, expiry=timedelta(days=days))
        audit_record(
            actor=actor,
            action="staff.token_created",
            data={"username": user.get_username(), "token": row.token_key, "expires": row.expiry.isoformat()},
        )
    return row, clear


def token_list(*, user: Any | None = None) -> QuerySet[AuthToken]:
    """Tokens that still work (not expired), newest first; of one user or of everyone."""
    tokens = AuthToken.objects.select_related("user").filter(expiry__gt=timezone.now())
    if user is not None:
        tokens = tokens.filter(user=user)
    return tokens.order_by("-created")


def token_is_valid(token: str) -> bool:
    """True when ``token`` (in clear) is a token that has not expired nor been revoked."""
    try:
        digest = hash_token(token)
    except (TypeError, ValueError):
        return False
    return AuthToken.objects.filter(digest=digest, expiry__gt=timezone.now()).exists()


@transaction.atomic
def token_revoke(*, token_key: str, actor: str, user: Any | None = None) -> int:
    """Revoke the token(s) whose shown prefix is ``token_key`` (only ``user``'s when given); the count."""
    tokens = AuthToken.objects.filter(token_key=token_key)
    if user is not None:
        tokens = tokens.filter(user=user)
    usernames = sorted({t.user.get_username() for t in tokens.select_related("user")})
    count, _ = tokens.delete()
    if count:
        audit_record(
            actor=actor, action="staff.token_revoked", data={"token": token_key, "usernames": usernames}
        )
    return count
