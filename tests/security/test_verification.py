"""Verification codes are locked after 5 attempts per request, and the public API is rate-limited
per client IP and per e-mail address; the admin's login is throttled like the dashboard's."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from dsr.workflow.models import DataSubjectRequest, Status
from tests.security.conftest import create, last_code_for

pytestmark = pytest.mark.django_db


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_code_is_locked_after_five_wrong_attempts_and_then_even_the_right_code_is_refused(api: APIClient):
    request_id = create(api, "lock@example.com").json()["id"]
    code = last_code_for("lock@example.com")
    answers = [
        api.post(f"/api/v1/requests/{request_id}/verify", {"code": wrong(code)}, format="json")
        for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [400, 400, 400, 400, 429]
    assert answers[0].json()["errors"] == {"code": ["That code is not correct. 4 attempts left."]}
    assert answers[4].json() == {"detail": "Too many wrong codes. Request a new code.", "errors": {}}

    right = api.post(f"/api/v1/requests/{request_id}/verify", {"code": code}, format="json")

    assert (right.status_code, right.json()) == (
        429,
        {"detail": "Too many wrong codes. Request a new code.", "errors": {}},
    )
    assert DataSubjectRequest.objects.get(pk=request_id).status == Status.PENDING_VERIFICATION


def test_code_attempts_are_limited_per_ip_across_requests_and_a_forged_forwarded_for_does_not_help(
    api: APIClient, rates
):
    rates(verify_ip="3/hour")
    ids = [create(api, f"ip{i}@example.com").json()["id"] for i in range(2)]
    answers = [
        api.post(
            f"/api/v1/requests/{ids[n % 2]}/verify",
            {"code": "000000"},
            format="json",
            REMOTE_ADDR="198.51.100.9",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        ).status_code
        for n in range(4)
    ]
    assert answers == [400, 400, 400, 429]
    other_ip = api.post(
        f"/api/v1/requests/{ids[0]}/verify", {"code": "000000"}, format="json", REMOTE_ADDR="198.51.100.10"
    )
    assert other_ip.status_code == 400


def test_code_attempts_are_limited_per_email_address_whatever_the_ip(api: APIClient, rates):
    rates(verify_email="3/hour")
    request_id = create(api, "target@example.com").json()["id"]
    answers = [
        api.post(
            f"/api/v1/requests/{request_id}/verify",
            {"code": "000000"},
            format="json",
            REMOTE_ADDR=f"192.0.2.{n}",
        ).status_code
        for n in range(4)
    ]
    assert answers == [400, 400, 400, 429]


def test_new_requests_are_limited_per_email_address_across_ips_and_spellings(api: APIClient, rates):
    rates(create_email="2/hour")
    answers = [
        create(api, email, ip=f"192.0.2.{n}").status_code
        for n, email in enumerate(["flood@example.com", "FLOOD@example.com", " flood@Example.com "])
    ]
    assert answers == [201, 201, 429]
    assert DataSubjectRequest.objects.count() == 2
    assert create(api, "someone.else@example.com", ip="192.0.2.1").status_code == 201


def test_new_requests_are_limited_per_ip(api: APIClient, rates):
    rates(create_ip="2/hour")
    answers = [create(api, f"many{n}@example.com", ip="198.51.100.20").status_code for n in range(3)]
    assert answers == [201, 201, 429]
    assert DataSubjectRequest.objects.count() == 2


def test_resending_codes_is_limited_per_email_address(api: APIClient, rates, settings):
    settings.DSR_CODE_RESEND_INTERVAL = settings.DSR_CODE_TTL * 0  # only the throttle in the way
    rates(verify_email="2/hour")
    request_id = create(api, "resend@example.com").json()["id"]
    answers = [
        api.post(f"/api/v1/requests/{request_id}/resend-code", REMOTE_ADDR=f"192.0.2.{n}").status_code
        for n in range(3)
    ]
    assert answers == [202, 202, 429]


def test_the_admin_login_is_throttled_per_username_after_failures_even_with_the_right_password(settings):
    settings.DSR_LOGIN_MAX_FAILURES_PER_USER = 3
    get_user_model().objects.create_superuser("root", "root@example.com", "a-long-correct-password")
    browser = Client()
    failures = [
        browser.post("/admin/login/", {"username": "root", "password": f"guess-{n}"}).status_code
        for n in range(3)
    ]
    assert failures == [200, 200, 200]  # the form again, with its error

    blocked = browser.post("/admin/login/", {"username": "root", "password": "a-long-correct-password"})

    assert blocked.status_code == 429
    assert "_auth_user_id" not in browser.session


def test_the_admin_login_is_throttled_per_ip_across_usernames(settings):
    settings.DSR_LOGIN_MAX_FAILURES_PER_IP = 3
    browser = Client(REMOTE_ADDR="198.51.100.30")
    answers = [
        browser.post("/admin/login/", {"username": f"user{n}", "password": "nope"}).status_code
        for n in range(4)
    ]
    assert answers == [200, 200, 200, 429]


def test_a_successful_admin_login_is_not_throttled(settings):
    import time

    from dsr.staff import twofactor
    from dsr.staff.models import StaffTOTPDevice

    user = get_user_model().objects.create_superuser("admin2", "a@example.com", "another-long-password")
    device = StaffTOTPDevice.objects.create(user=user, name="authenticator", secret=twofactor.secret_new())
    answer = Client().post(
        "/admin/login/",
        {
            "username": "admin2",
            "password": "another-long-password",
            "otp_device": device.persistent_id,
            "otp_token": twofactor.code_at(device.secret, time.time()),
        },
    )
    assert answer.status_code == 302
