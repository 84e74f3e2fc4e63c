"""One-time codes (dsr/identity/services.py): 6 digits, HMAC at rest, 15-minute TTL, 5 attempts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from dsr.identity.models import Purpose, VerificationChallenge
from dsr.identity.services import (
    CodeExpired,
    CodeInvalid,
    CodeLocked,
    NoActiveCode,
    ResendRefused,
    challenge_check,
    challenge_issue,
)
from tests.factories import RequestFactory

pytestmark = pytest.mark.django_db


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.fixture
def fixed_codes(monkeypatch):
    """The codes the service hands out, in order, so that two codes are known to differ."""
    codes = iter(["111111", "222222", "333333"])
    monkeypatch.setattr("dsr.identity.services._new_code", lambda: next(codes))


def test_a_new_code_has_six_digits_and_only_its_hmac_is_stored():
    request = RequestFactory()
    issued = challenge_issue(request_id=request.pk)
    challenge = VerificationChallenge.objects.get(request=request, purpose=Purpose.VERIFY)
    assert re.fullmatch(r"\d{6}", issued.code)
    assert re.fullmatch(r"[0-9a-f]{64}", challenge.code_hash)
    assert issued.code not in challenge.code_hash
    assert challenge.sends == 1
    assert challenge.attempts == 0


def test_a_new_code_expires_fifteen_minutes_after_it_was_sent():
    issued = challenge_issue(request_id=RequestFactory().pk)
    assert issued.challenge.expires_at - issued.challenge.last_sent_at == timedelta(minutes=15)


def test_the_right_code_is_accepted_once_and_its_hash_is_erased():
    request = RequestFactory()
    issued = challenge_issue(request_id=request.pk)
    challenge_check(request_id=request.pk, code=issued.code)
    challenge = VerificationChallenge.objects.get(pk=issued.challenge.pk)
    assert challenge.code_hash == ""
    assert challenge.consumed_at is not None
    with pytest.raises(NoActiveCode):
        challenge_check(request_id=request.pk, code=issued.code)


def test_a_wrong_code_counts_an_attempt_and_says_how_many_are_left():
    request = RequestFactory()
    issued = challenge_issue(request_id=request.pk)
    with pytest.raises(CodeInvalid) as caught:
        challenge_check(request_id=request.pk, code=_wrong(issued.code))
    assert caught.value.remaining == 4
    assert caught.value.message == "That code is not correct. 4 attempts left."
    assert VerificationChallenge.objects.get(pk=issued.challenge.pk).attempts == 1


def test_the_fifth_wrong_code_locks_the_challenge_and_the_right_code_no_longer_works():
    request = RequestFactory()
    issued = challenge_issue(request_id=request.pk)
    for remaining in (4, 3, 2, 1):
        with pytest.raises(CodeInvalid) as caught:
            challenge_check(request_id=request.pk, code=_wrong(issued.code))
        assert caught.value.remaining == remaining
    with pytest.raises(CodeLocked):
        challenge_check(request_id=request.pk, code=_wrong(issued.code))
    with pytest.raises(CodeLocked):
        challenge_check(request_id=request.pk, code=issued.code)
    challenge = VerificationChallenge.objects.get(pk=issued.challenge.pk)
    assert challenge.attempts == 5
    assert challenge.locked_at is not None


def test_an_expired_code_is_refused_even_when_it_is_right():
    request = RequestFactory()
    issued = challenge_issue(request_id=request.pk)
    VerificationChallenge.objects.filter(pk=issued.challenge.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(CodeExpired):
        challenge_check(request_id=request.pk, code=issued.code)


def test_a_resend_too_soon_after_the_last_code_is_refused_with_the_wait_in_seconds():
    request = RequestFactory()
    challenge_issue(request_id=request.pk)
    with pytest.raises(ResendRefused) as caught:
        challenge_issue(request_id=request.pk, resend=True)
    assert re.fullmatch(r"Please wait (60|59) seconds before asking for a new code\.", caught.value.message)


def test_a_resend_replaces_the_code_resets_the_lock_and_keeps_the_challenge(fixed_codes):
    request = RequestFactory()
    first = challenge_issue(request_id=request.pk)
    VerificationChallenge.objects.filter(pk=first.challenge.pk).update(
        last_sent_at=timezone.now() - timedelta(minutes=2), attempts=5, locked_at=timezone.now()
    )
    second = challenge_issue(request_id=request.pk, resend=True)
    assert second.challenge.pk == first.challenge.pk
    assert second.challenge.sends == 2
    assert VerificationChallenge.objects.filter(request=request).count() == 1
    assert (first.code, second.code) == ("111111", "222222")
    with pytest.raises(CodeInvalid):
        challenge_check(request_id=request.pk, code=first.code)
    challenge_check(request_id=request.pk, code=second.code)


def test_resends_stop_after_the_maximum_count(settings):
    settings.DSR_CODE_MAX_RESENDS = 2
    request = RequestFactory()
    issued = challenge_issue(request_id=request.pk)
    for _ in range(2):
        VerificationChallenge.objects.filter(pk=issued.challenge.pk).update(
            last_sent_at=timezone.now() - timedelta(minutes=2)
        )
        challenge_issue(request_id=request.pk, resend=True)
    VerificationChallenge.objects.filter(pk=issued.challenge.pk).update(
        last_sent_at=timezone.now() - timedelta(minutes=2)
    )
    with pytest.raises(ResendRefused) as caught:
        challenge_issue(request_id=request.pk, resend=True)
    assert caught.value.message == "Too many codes were sent for this request. Please contact us."
    assert VerificationChallenge.objects.get(pk=issued.challenge.pk).sends == 3


def test_codes_for_verification_and_for_download_are_separate_challenges(fixed_codes):
    request = RequestFactory()
    verify = challenge_issue(request_id=request.pk, purpose=Purpose.VERIFY)
    download = challenge_issue(request_id=request.pk, purpose=Purpose.DOWNLOAD)
    assert verify.challenge.pk != download.challenge.pk
    with pytest.raises(CodeInvalid):
        challenge_check(request_id=request.pk, code=verify.code, purpose=Purpose.DOWNLOAD)
    challenge_check(request_id=request.pk, code=download.code, purpose=Purpose.DOWNLOAD)


def test_checking_a_request_that_has_no_challenge_raises_no_active_code():
    with pytest.raises(NoActiveCode):
        challenge_check(request_id=RequestFactory().pk, code="123456")
