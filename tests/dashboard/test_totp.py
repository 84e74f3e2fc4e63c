"""TOTP (RFC 6238) for staff sign-in."""

from __future__ import annotations

import base64
import time

import pytest

from dsr.audit.models import AuditEvent
from dsr.staff import totp
from dsr.staff.models import TotpDevice
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
    assert totp.code_at(RFC_SECRET, when) == code


def test_the_provisioning_uri_names_the_issuer_and_the_user():
    assert totp.provisioning_uri(secret="ABC", username="alice") == (
        "otpauth://totp/DSR%20Hub%3Aalice?secret=ABC&issuer=DSR+Hub&algorithm=SHA1&digits=6&period=30"
    )


def test_a_code_from_the_previous_step_is_accepted_but_not_two_steps_back():
    now = 1_700_000_000.0
    assert (
        totp.matching_step(RFC_SECRET, totp.code_at(RFC_SECRET, now - 30), now=now, after=0)
        == int(now // 30) - 1
    )
    assert totp.matching_step(RFC_SECRET, totp.code_at(RFC_SECRET, now - 60), now=now, after=0) is None


def test_a_code_is_accepted_once_only(db):
    user = make_staff("agent")
    code = totp.code_at(TotpDevice.objects.get(user=user).secret, time.time())
    assert totp.totp_verify(user=user, code=code) is True
    assert totp.totp_verify(user=user, code=code) is False


def test_enrolment_confirms_the_device_with_its_first_correct_code_and_audits_it(db):
    user = make_staff("viewer", enrolled=False)
    device = totp.totp_enrol_start(user=user)
    assert totp.totp_device_for(user=user) is None
    assert totp.totp_verify(user=user, code=totp.code_at(device.secret, time.time() - 600)) is False
    assert totp.totp_device_for(user=user) is None
    assert totp.totp_verify(user=user, code=totp.code_at(device.secret, time.time())) is True
    assert totp.totp_device_for(user=user) == device
    assert AuditEvent.objects.filter(action="staff.totp_enrolled").count() == 1


def test_the_secret_is_encrypted_at_rest(db):
    from django.db import connection

    user = make_staff("agent")
    secret = TotpDevice.objects.get(user=user).secret
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM staff_totpdevice WHERE user_id = %s", [user.pk])
        stored = cursor.fetchone()[0]
    assert secret not in stored
