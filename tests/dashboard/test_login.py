"""Staff sign-in: password, then a TOTP code (enrolment on first sign-in), throttled."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from dsr.audit.models import AuditEvent
from dsr.staff import totp
from dsr.staff.models import TotpDevice
from tests.dashboard.conftest import PASSWORD, current_code, make_staff

pytestmark = pytest.mark.django_db


def _password_step(client: Client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(
        "/dashboard/login/", {"username": username, "password": password, "next": "/dashboard/"}
    )


def test_signing_in_takes_the_password_then_the_code():
    user = make_staff("agent")
    client = Client()
    response = _password_step(client, "agent-user")
    assert (response.status_code, response["Location"]) == (302, "/dashboard/login/code/?next=/dashboard/")
    assert client.get("/dashboard/").status_code == 302  # one factor is not enough
    response = client.post("/dashboard/login/code/?next=/dashboard/", {"code": current_code(user)})
    assert (response.status_code, response["Location"]) == (302, "/dashboard/")
    assert client.get("/dashboard/").status_code == 200
    assert AuditEvent.objects.filter(action="staff.logged_in", actor="staff:agent-user").count() == 1


def test_the_first_sign_in_shows_the_secret_and_enrols_with_the_first_code():
    user = make_staff("viewer", enrolled=False)
    client = Client()
    _password_step(client, "viewer-user")
    page = client.get("/dashboard/login/code/").content.decode()
    secret = TotpDevice.objects.get(user=user).secret
    assert secret in page
    assert "otpauth://totp/DSR%20Hub%3Aviewer-user?secret=" + secret in page
    client.post("/dashboard/login/code/", {"code": totp.code_at(secret, time.time())})
    assert TotpDevice.objects.get(user=user).confirmed_at is not None
    assert client.get("/dashboard/").status_code == 200


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer():
    make_staff("agent")
    wrong = _password_step(Client(), "agent-user", "wrong password").content.decode()
    unknown = _password_step(Client(), "nobody", "wrong password").content.decode()
    message = "The username, password or code is not right, or too many attempts were made."
    assert message in wrong and message in unknown


def test_a_user_without_a_staff_role_cannot_sign_in():
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user(username="customer", password=PASSWORD)
    response = _password_step(Client(), "customer")
    assert response.status_code == 200
    assert "The username, password or code is not right" in response.content.decode()


def test_five_failures_block_the_username_even_with_the_right_password(settings):
    make_staff("agent")
    for _ in range(settings.DSR_LOGIN_MAX_FAILURES_PER_USER):
        _password_step(Client(), "agent-user", "wrong password")
    response = _password_step(Client(), "agent-user")
    assert response.status_code == 200  # not the redirect to the code step
    assert "too many attempts" in response.content.decode()


def test_failures_from_one_ip_block_that_ip_for_every_username(settings):
    settings.DSR_LOGIN_MAX_FAILURES_PER_IP = 3
    make_staff("agent")
    for i in range(3):
        _password_step(Client(), f"guess{i}", "wrong password")
    assert _password_step(Client(), "agent-user").status_code == 200
    other_ip = Client(REMOTE_ADDR="10.0.0.9")
    assert _password_step(other_ip, "agent-user").status_code == 302


def test_wrong_codes_count_as_failures():
    user = make_staff("agent")
    client = Client()
    _password_step(client, "agent-user")
    wrong = totp.code_at(TotpDevice.objects.get(user=user).secret, time.time() - 3600)
    for _ in range(5):
        client.post("/dashboard/login/code/", {"code": wrong})
    response = client.post("/dashboard/login/code/", {"code": current_code(user)})
    assert response.status_code == 200
    assert client.get("/dashboard/").status_code == 302


def test_an_admin_session_without_the_second_factor_does_not_open_the_dashboard():
    user = make_staff("admin")
    client = Client()
    client.force_login(user)  # e.g. signed in through /admin/ with the password only
    response = client.get("/dashboard/")
    assert (response.status_code, response["Location"]) == (302, "/dashboard/login/?next=/dashboard/")


def test_the_code_step_needs_the_password_step_first():
    response = Client().get("/dashboard/login/code/")
    assert (response.status_code, response["Location"]) == (302, "/dashboard/login/")


def test_signing_out_ends_the_session(dashboard_client):
    client = dashboard_client("agent")
    assert client.post("/dashboard/logout/").status_code == 302
    assert client.get("/dashboard/").status_code == 302


def test_an_outside_next_url_is_ignored():
    user = make_staff("agent")
    client = Client()
    client.post(
        "/dashboard/login/", {"username": "agent-user", "password": PASSWORD, "next": "https://evil.example/"}
    )
    response = client.post("/dashboard/login/code/?next=https://evil.example/", {"code": current_code(user)})
    assert response["Location"] == "/dashboard/"
