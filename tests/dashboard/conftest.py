"""Dashboard personas: staff users with a password and an enrolled authenticator, signed in."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from dsr.staff import twofactor
from dsr.staff.models import StaffTOTPDevice
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
        StaffTOTPDevice.objects.get_or_create(
            user=user, defaults={"name": "authenticator", "secret": twofactor.secret_new(), "confirmed": True}
        )
    return user


def current_code(user: Any) -> str:
    return twofactor.code_at(StaffTOTPDevice.objects.get(user=user).secret, time.time())


def sign_in_verified(client: Client, user: Any) -> Client:
    """A session signed in with both factors: what the dashboard's code step leaves behind."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = StaffTOTPDevice.objects.get(user=user).persistent_id
    session.save()
    return client


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
        return sign_in_verified(client, make_staff(role))

    return make
