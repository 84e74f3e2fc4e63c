"""Dashboard personas: staff users with a password and an enrolled authenticator, signed in."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from dsr.dashboard.auth import VERIFIED_KEY
from dsr.staff import totp
from dsr.staff.models import TotpDevice
from dsr.staff.services import staff_create

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    # PBKDF2's cost makes each persona take a second; the hash algorithm is not what is tested.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_staff(role: str, *, username: str | None = None, email: str = "", enrolled: bool = True) -> Any:
    profile, _token = staff_create(username=username or f"{role}-user", role=role, email=email)
    user = profile.user
    user.set_password(PASSWORD)
    user.save()
    if enrolled:
        TotpDevice.objects.get_or_create(
            user=user, defaults={"secret": totp.secret_new(), "confirmed_at": user.date_joined}
        )
    return user


def current_code(user: Any) -> str:
    return totp.code_at(TotpDevice.objects.get(user=user).secret, time.time())


@pytest.fixture
def staff_user(db: None) -> Callable[..., Any]:
    return make_staff


@pytest.fixture
def dashboard_client(db: None) -> Callable[[str], Client]:
    """``dashboard_client("agent")``: a browser session signed in with both factors."""

    def make(role: str) -> Client:
        client = Client()
        if role == "anonymous":
            return client
        user = make_staff(role)
        client.force_login(user)
        session = client.session
        session[VERIFIED_KEY] = user.pk
        session.save()
        return client

    return make
