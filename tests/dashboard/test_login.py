"""Staff sign-in: password, then a TOTP code or a backup code (enrolment with a QR code and backup
codes on first sign-in), throttled; one's own password change."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken

from dsr.audit.models import AuditEvent
from dsr.staff import twofactor as totp
from dsr.staff.models import StaffTOTPDevice as TotpDevice
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


def test_the_first_sign_in_shows_a_qr_code_and_the_secret_and_enrols_with_the_first_code():
    user = make_staff("viewer", enrolled=False)
    client = Client()
    _password_step(client, "viewer-user")
    page = client.get("/dashboard/login/code/").content.decode()
    secret = TotpDevice.objects.get(user=user).secret
    assert f'<code id="totp-secret">{secret}</code>' in page
    assert "otpauth://totp/DSR%20Hub%3Aviewer-user?secret=" + secret in page
    qr = page.split('<figure id="totp-qr" style="margin:0 0 .75rem">')[1].split("</figure>")[0]
    assert qr.startswith("<svg")
    assert "<title>QR code</title>" in qr
    assert "<script" not in qr
    done = client.post("/dashboard/login/code/", {"code": totp.code_at(secret, time.time())})
    assert TotpDevice.objects.get(user=user).confirmed is True
    # The backup codes are shown once, right after enrolment.
    codes = sorted(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(codes) == 10
    shown = done.content.decode()
    assert all(f"<li>{code}</li>" in shown for code in codes)
    assert "They are shown only now" in shown
    assert client.get("/dashboard/").status_code == 200
    assert AuditEvent.objects.filter(action="staff.totp_enrolled").count() == 1


def test_a_backup_code_signs_in_once():
    user = make_staff("agent")
    code = totp.backup_codes_create(user=user)[0]
    first = Client()
    _password_step(first, "agent-user")
    response = first.post("/dashboard/login/code/?next=/dashboard/", {"code": code})
    assert (response.status_code, response["Location"]) == (302, "/dashboard/")
    assert first.get("/dashboard/").status_code == 200
    second = Client()
    _password_step(second, "agent-user")
    again = second.post("/dashboard/login/code/?next=/dashboard/", {"code": code})
    assert again.status_code == 200
    assert "That code is not right, or it was already used." in again.content.decode()
    assert StaticToken.objects.filter(device__user=user).count() == 9


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer():
    make_staff("agent")
    wrong = _password_step(Client(), "agent-user", "wrong password").content.decode()
    unknown = _password_step(Client(), "nobody", "wrong password").content.decode()
    message = "The username or password is not right."
    assert message in wrong
    assert message in unknown
    assert "too many" not in wrong.lower()  # one wrong password is not "too many attempts"


def test_a_user_without_a_staff_role_cannot_sign_in():
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user(username="customer", password=PASSWORD)
    response = _password_step(Client(), "customer")
    assert response.status_code == 200
    assert "The username or password is not right." in response.content.decode()


def test_five_failures_block_the_username_even_with_the_right_password(settings):
    make_staff("agent")
    for _ in range(settings.DSR_LOGIN_MAX_FAILURES_PER_USER):
        _password_step(Client(), "agent-user", "wrong password")
    response = _password_step(Client(), "agent-user")
    assert response.status_code == 200  # not the redirect to the code step
    assert "Too many failed sign-in attempts. Try again in 15 minutes." in response.content.decode()


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


def test_a_wrong_code_says_so_and_nothing_about_attempts():
    user = make_staff("agent")
    client = Client()
    _password_step(client, "agent-user")
    wrong = totp.code_at(TotpDevice.objects.get(user=user).secret, time.time() - 3600)
    page = client.post("/dashboard/login/code/", {"code": wrong}).content.decode()
    assert "That code is not right, or it was already used." in page
    assert "Too many" not in page


def test_a_staff_member_changes_their_own_password_with_the_old_one(dashboard_client):
    client = dashboard_client("viewer")
    wrong = client.post(
        "/dashboard/account/password/",
        {
            "old_password": "not it",
            "new_password1": "a brand new passphrase 42",
            "new_password2": "a brand new passphrase 42",
        },
    )
    assert wrong.status_code == 200
    assert "Your old password was entered incorrectly." in wrong.content.decode()
    response = client.post(
        "/dashboard/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a brand new passphrase 42",
            "new_password2": "a brand new passphrase 42",
        },
    )
    assert (response.status_code, response["Location"]) == (302, "/dashboard/account/")
    assert (
        "Your password was changed." in client.get("/dashboard/account/").content.decode()
    )  # still signed in
    assert AuditEvent.objects.filter(action="staff.password_changed", actor="staff:viewer-user").count() == 1
    assert _password_step(Client(), "viewer-user", "a brand new passphrase 42").status_code == 302


def test_the_password_change_needs_the_second_factor():
    user = make_staff("agent")
    client = Client()
    client.force_login(user)  # password only
    response = client.post(
        "/dashboard/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a brand new passphrase 42",
            "new_password2": "a brand new passphrase 42",
        },
    )
    assert (response.status_code, response["Location"]) == (
        302,
        "/dashboard/login/?next=/dashboard/account/password/",
    )
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_token_made_on_the_account_page_is_shown_once_works_and_can_be_revoked(dashboard_client):
    from rest_framework.test import APIClient

    client = dashboard_client("agent")
    assert client.post("/dashboard/account/tokens/")["Location"] == "/dashboard/account/"
    page = client.get("/dashboard/account/").content.decode()
    token = page.split('<code id="new-token" style="word-break:break-all">')[1].split("</code>")[0]
    assert len(token) == 64
    assert token not in client.get("/dashboard/account/").content.decode()  # never shown again
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/staff/requests").status_code == 200
    assert client.post(f"/dashboard/account/tokens/{token[:15]}/revoke/").status_code == 302
    assert f"Token {token[:15]} revoked." in client.get("/dashboard/account/").content.decode()
    assert api.get("/api/v1/staff/requests").status_code == 401


def test_a_staff_member_cannot_revoke_someone_elses_token(dashboard_client):
    from knox.models import AuthToken

    from dsr.staff.services import staff_create

    _, other = staff_create(username="someone", role="admin", token=True)
    client = dashboard_client("admin")
    client.post(f"/dashboard/account/tokens/{other[:15]}/revoke/")
    assert f"No token {other[:15]} of yours." in client.get("/dashboard/account/").content.decode()
    assert AuthToken.objects.filter(token_key=other[:15]).exists()
