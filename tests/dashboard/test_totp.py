"""TOTP (RFC 6238) for staff sign-in, on django-otp with the secret encrypted at rest."""

from __future__ import annotations

import base64
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from dsr.audit.models import AuditEvent
from dsr.staff import twofactor
from dsr.staff.models import StaffTOTPDevice
from tests.dashboard.conftest import make_staff

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


@pytest.mark.parametrize(
    ("when", "code"),
    [
        (59, "287082"),
        (1111111109, "081804"),
        (1111111111, "050471"),
        (1234567890, "005924"),
        (2000000000, "279037"),
    ],
)
def test_codes_match_the_rfc_6238_sha1_test_vectors(when, code):
    # RFC 6238 Appendix B lists 8-digit values; a 6-digit code is their last six digits.
    assert twofactor.code_at(RFC_SECRET, when) == code


def test_the_provisioning_uri_names_the_issuer_and_the_user(db):
    device = StaffTOTPDevice(user=make_staff("agent", username="alice", enrolled=False), secret="ABC")
    assert twofactor.provisioning_uri(device=device) == (
        "otpauth://totp/DSR%20Hub%3Aalice?secret=ABC&issuer=DSR+Hub&algorithm=SHA1&digits=6&period=30"
    )


def test_a_code_from_the_previous_step_is_accepted_but_not_two_steps_back(db, monkeypatch):
    user = make_staff("agent")
    device = StaffTOTPDevice.objects.get(user=user)
    now = 1_700_000_000.0
    monkeypatch.setattr(time, "time", lambda: now)
    assert device.verify_token(twofactor.code_at(device.secret, now - 60)) is False
    device.throttle_reset()
    assert device.verify_token(twofactor.code_at(device.secret, now - 30)) is True


def test_a_code_is_accepted_once_only(db):
    user = make_staff("agent")
    code = twofactor.code_at(StaffTOTPDevice.objects.get(user=user).secret, time.time())
    assert twofactor.second_factor_check(user=user, code=code) is not None
    assert twofactor.second_factor_check(user=user, code=code) is None


def test_enrolment_confirms_the_device_with_its_first_correct_code_and_audits_it(db):
    user = make_staff("viewer", enrolled=False)
    device = twofactor.totp_enrol_start(user=user)
    assert twofactor.totp_device_for(user=user) is None
    assert (
        twofactor.second_factor_check(user=user, code=twofactor.code_at(device.secret, time.time())) is None
    )
    assert twofactor.totp_confirm(user=user, code=twofactor.code_at(device.secret, time.time() - 600)) is None
    assert twofactor.totp_device_for(user=user) is None
    StaffTOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    assert twofactor.totp_confirm(user=user, code=twofactor.code_at(device.secret, time.time())) == device
    assert twofactor.totp_device_for(user=user) == device
    assert AuditEvent.objects.filter(action="staff.totp_enrolled").count() == 1


def test_the_secret_is_encrypted_at_rest(db):
    user = make_staff("agent")
    secret = StaffTOTPDevice.objects.get(user=user).secret
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM staff_stafftotpdevice WHERE user_id = %s", [user.pk])
        stored = cursor.fetchone()[0]
    assert secret not in stored


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_existing_authenticators_into_django_otp_devices():
    call_command("migrate", "staff", "0002", verbosity=0)
    try:
        old_apps = MigrationExecutor(connection).loader.project_state(("staff", "0002_totpdevice")).apps
        user_model = old_apps.get_model("auth", "User")
        old_device = old_apps.get_model("staff", "TotpDevice")
        alice = user_model.objects.create(username="alice")
        bob = user_model.objects.create(username="bob")
        from django.utils import timezone

        old_device.objects.create(user=alice, secret=RFC_SECRET, confirmed_at=timezone.now(), last_step=42)
        old_device.objects.create(user=bob, secret="JBSWY3DPEHPK3PXP", confirmed_at=None)
    finally:
        call_command("migrate", "staff", verbosity=0)
    moved = {d.user.username: d for d in StaffTOTPDevice.objects.select_related("user")}
    assert (moved["alice"].secret, moved["alice"].confirmed, moved["alice"].last_t) == (RFC_SECRET, True, 42)
    assert (moved["bob"].secret, moved["bob"].confirmed) == ("JBSWY3DPEHPK3PXP", False)
    assert twofactor.totp_device_for(user=moved["alice"].user) == moved["alice"]
