"""Issue 10, finding 1: no staff capability without the second factor. The review signed in at
/admin/login/ with an admin's password only and used that session on the staff API and the admin.
Also the session limits (idle and absolute) and ``check --deploy`` for an admin without 2FA."""

from __future__ import annotations

import importlib
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import clear_url_caches
from rest_framework.test import APIClient

from dsr.staff import twofactor
from dsr.staff.models import StaffTOTPDevice
from dsr.staff.services import staff_create
from dsr.staff.sessions import SEEN_KEY, STARTED_KEY
from dsr.workflow.models import DataSubjectRequest, Status
from tests.factories import RequestFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
STAFF_API = "/api/v1/staff/requests"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def superuser() -> Any:
    """An administrator as the demo makes one: superuser, staff, password, enrolled authenticator."""
    profile, _ = staff_create(username="root", role="admin")
    user = profile.user
    user.set_password(PASSWORD)
    user.is_superuser = True
    user.save()
    StaffTOTPDevice.objects.create(
        user=user, name="authenticator", secret=twofactor.secret_new(), confirmed=True
    )
    return user


def code_of(user: Any) -> str:
    return twofactor.code_at(StaffTOTPDevice.objects.get(user=user).secret, time.time())


def test_a_password_only_admin_login_opens_neither_the_admin_nor_the_staff_api():
    superuser()
    waiting = RequestFactory(status=Status.AWAITING_APPROVAL)
    browser = APIClient()
    response = browser.post(
        "/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 200  # the form again: the code is missing
    assert "_auth_user_id" not in browser.session
    assert browser.get(STAFF_API).status_code == 401
    assert browser.post(f"{STAFF_API}/{waiting.pk}/approve").status_code == 401
    admin = browser.get("/admin/")
    assert (admin.status_code, admin["Location"]) == (302, "/admin/login/?next=/admin/")
    assert DataSubjectRequest.objects.get(pk=waiting.pk).status == Status.AWAITING_APPROVAL


def test_a_session_signed_in_with_the_password_only_gets_nothing_anywhere():
    user = superuser()
    waiting = RequestFactory(status=Status.AWAITING_APPROVAL)
    half = APIClient()
    half.force_login(user)  # what the admin's password-only login used to leave behind
    listing = half.get(STAFF_API)
    assert (listing.status_code, listing.json()) == (
        401,
        {"detail": "Authentication credentials were not provided.", "errors": {}},
    )
    assert half.post(f"{STAFF_API}/{waiting.pk}/approve").status_code == 401
    assert half.get("/admin/").status_code == 302
    assert half.get("/admin/knox/authtoken/").status_code == 302
    assert half.get("/admin/auth/user/").status_code == 302
    assert half.get("/dashboard/").status_code == 302
    assert DataSubjectRequest.objects.get(pk=waiting.pk).status == Status.AWAITING_APPROVAL


def test_the_admin_takes_the_password_and_the_code_and_never_shows_a_token():
    user = superuser()
    _, token = staff_create(username="robot", role="agent", token=True)
    browser = Client()
    device = StaffTOTPDevice.objects.get(user=user)
    response = browser.post(
        "/admin/login/?next=/admin/",
        {
            "username": "root",
            "password": PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": code_of(user),
            "next": "/admin/",
        },
    )
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert browser.get("/admin/").status_code == 200
    tokens = browser.get("/admin/knox/authtoken/").content.decode()
    assert token[:15] in tokens
    assert token not in tokens
    codes = twofactor.backup_codes_create(user=user)
    from django_otp.plugins.otp_static.models import StaticDevice

    backup = StaticDevice.objects.get(user=user)
    page = browser.get(f"/admin/otp_static/staticdevice/{backup.pk}/change/")
    assert page.status_code == 200
    assert not any(code in page.content.decode() for code in codes)
    # The same verified session may use the staff API.
    assert browser.get(STAFF_API).status_code == 200


def test_the_admin_is_not_mounted_when_dsr_admin_enabled_is_off(settings):
    settings.DSR_ADMIN_ENABLED = False
    import dsr.urls

    try:
        importlib.reload(dsr.urls)
        clear_url_caches()
        assert Client().get("/admin/").status_code == 404
        assert Client().get("/admin/login/").status_code == 404
        # Other forms still post (the admin's login throttle does not look for the missing admin).
        assert Client().post("/dashboard/login/", {"username": "x", "password": "y"}).status_code == 200
    finally:
        settings.DSR_ADMIN_ENABLED = True
        importlib.reload(dsr.urls)
        clear_url_caches()
    assert Client().get("/admin/login/").status_code == 200


def test_check_deploy_warns_when_the_admin_is_enabled_without_a_second_factor(settings, capsys):
    settings.DSR_ADMIN_ENABLED = True
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "django_otp.middleware.OTPMiddleware"]
    from django.core.management.base import SystemCheckError

    with pytest.raises(SystemCheckError) as raised:
        call_command("check", "--deploy", "--fail-level", "WARNING", "--tag", "security")
    assert "(dsr.W101) /admin/ is enabled (DSR_ADMIN_ENABLED) without a second factor" in str(raised.value)


def test_check_deploy_is_silent_about_an_admin_behind_the_second_factor(settings):
    settings.DSR_ADMIN_ENABLED = True
    from dsr.staff.checks import admin_second_factor

    assert admin_second_factor() == []


# --- session limits ---------------------------------------------------------------------------------


def verified_browser(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    session = client.session
    from django_otp import DEVICE_ID_SESSION_KEY

    session[DEVICE_ID_SESSION_KEY] = StaffTOTPDevice.objects.get(user=user).persistent_id
    session.save()
    return client


def _age(client: APIClient, *, started: float, seen: float) -> None:
    session = client.session
    session[STARTED_KEY], session[SEEN_KEY] = started, seen
    session.save()


def test_a_session_idle_longer_than_the_limit_is_signed_out(settings):
    user = superuser()
    client = verified_browser(user)
    assert client.get("/dashboard/").status_code == 200
    now = time.time()
    _age(client, started=now - 3600, seen=now - settings.DSR_SESSION_IDLE.total_seconds() - 5)
    response = client.get("/dashboard/")
    assert (response.status_code, response["Location"]) == (302, "/dashboard/login/?next=/dashboard/")
    assert client.get(STAFF_API).status_code == 401
    assert "_auth_user_id" not in client.session


def test_a_busy_session_still_ends_at_the_absolute_limit(settings):
    user = superuser()
    client = verified_browser(user)
    assert client.get(STAFF_API).status_code == 200
    now = time.time()
    _age(client, started=now - settings.DSR_SESSION_MAX_AGE.total_seconds() - 5, seen=now - 10)
    assert client.get(STAFF_API).status_code == 401
    assert client.get("/dashboard/").status_code == 302


def test_an_active_session_within_both_limits_stays_signed_in(settings):
    settings.DSR_SESSION_IDLE = timedelta(minutes=5)
    user = superuser()
    client = verified_browser(user)
    now = time.time()
    _age(client, started=now - 3 * 3600, seen=now - 4 * 60)
    assert client.get("/dashboard/").status_code == 200
    assert client.session[SEEN_KEY] >= now  # the visit counts as activity
    assert client.get("/dashboard/").status_code == 200


def test_the_session_cookie_lasts_no_longer_than_the_absolute_limit(settings):
    assert settings.SESSION_COOKIE_AGE == int(settings.DSR_SESSION_MAX_AGE.total_seconds()) == 12 * 3600
    assert settings.DSR_SESSION_IDLE.total_seconds() == 30 * 60


def test_production_with_the_admin_turned_on_behind_2fa_passes_check_deploy(tmp_path):
    from tests.security.test_deploy import production_env, run

    env = {**production_env(tmp_path), "DSR_ADMIN_ENABLED": "true"}
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert (result.returncode, result.stdout.strip()) == (
        0,
        "System check identified no issues (0 silenced).",
    )
