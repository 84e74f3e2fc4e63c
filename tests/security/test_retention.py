"""Data minimisation of our own data: verification data purged after use; a closed request's
identity purged after DSR_IDENTITY_RETENTION_DAYS while the 11 CCR §7101 record fields stay, in
pseudonymised form, for 24 months; then the record itself goes and the audit chain still verifies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from dsr.audit.models import AuditEvent
from dsr.identity.blind_index import email_blind_index
from dsr.identity.models import Purpose, VerificationChallenge
from dsr.identity.services import challenge_check, challenge_issue
from dsr.workflow.intake import request_create
from dsr.workflow.models import AuthorizedAgent, DataSubjectRequest, Status
from dsr.workflow.retention import challenges_purge
from dsr.workflow.tasks import purge_personal_data
from dsr.workflow.transitions import request_transition

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_after_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


def denied_request(*, closed_days_ago: int, email: str = "gone@example.com") -> DataSubjectRequest:
    request = request_create(
        type="erasure", email=email, jurisdiction="US-CA", full_name="Gone Person", phone="+1 415 555 0100"
    )
    request_transition(
        request_id=request.pk, to=Status.AWAITING_APPROVAL, actor="subject", event="request.verified"
    )
    request_transition(
        request_id=request.pk,
        to=Status.DENIED,
        actor="staff:bob",
        event="request.denied",
        fields={"deny_reason": "exempt", "deny_message": "Dear Gone Person, a legal hold applies."},
    )
    closed = timezone.now() - timedelta(days=closed_days_ago)
    DataSubjectRequest.objects.filter(pk=request.pk).update(closed_at=closed)
    return DataSubjectRequest.objects.get(pk=request.pk)


def test_the_purge_is_scheduled_periodically():
    entry = django_settings.CELERY_BEAT_SCHEDULE["purge-personal-data"]
    assert entry["task"] == "dsr.identity.tasks.purge_personal_data"


def test_a_closed_requests_identity_is_purged_after_the_retention_period_keeping_the_7101_record(settings):
    settings.DSR_IDENTITY_RETENTION = timedelta(days=30)
    request = denied_request(closed_days_ago=31)
    AuthorizedAgent.objects.create(
        request=request,
        name="Agent",
        email="agent@example.com",
        permission_path=default_storage.save("agent-permissions/x.bin", ContentFile(b"signed")),
        permission_content_type="application/pdf",
        permission_size=6,
    )
    before = DataSubjectRequest.objects.get(pk=request.pk)

    assert purge_personal_data() == {"challenges": 1, "identities": 1, "records": 0}

    after = DataSubjectRequest.objects.get(pk=request.pk)
    assert (after.email, after.full_name, after.phone, after.details, after.deny_message) == (
        "",
        "",
        "",
        "",
        "",
    )
    assert after.identity_purged_at is not None
    # 11 CCR §7101(a): date, type, manner of submission, date and nature of the response, basis
    # of a denial — and the pseudonymous blind index, which recognises a repeat request.
    kept = (
        "received_at",
        "type",
        "channel",
        "jurisdiction",
        "closed_at",
        "status",
        "deny_reason",
        "reference",
    )
    assert {f: getattr(after, f) for f in kept} == {f: getattr(before, f) for f in kept}
    assert after.email_index == email_blind_index("gone@example.com")
    assert not AuthorizedAgent.objects.filter(request=request).exists()
    assert not default_storage.exists("agent-permissions/x.bin")
    assert not VerificationChallenge.objects.filter(request=request).exists()
    assert list(AuditEvent.objects.filter(request_id=request.pk).values_list("action", flat=True))[-1] == (
        "request.identity_purged"
    )
    assert purge_personal_data() == {"challenges": 0, "identities": 0, "records": 0}  # idempotent


def test_a_request_closed_recently_or_still_open_keeps_its_identity(settings):
    settings.DSR_IDENTITY_RETENTION = timedelta(days=30)
    recent = denied_request(closed_days_ago=29, email="recent@example.com")
    open_request = request_create(type="access", email="open@example.com", jurisdiction="DE")
    DataSubjectRequest.objects.filter(pk=open_request.pk).update(
        received_at=timezone.now() - timedelta(days=400)
    )

    purge_personal_data()

    assert DataSubjectRequest.objects.get(pk=recent.pk).email == "recent@example.com"
    assert DataSubjectRequest.objects.get(pk=open_request.pk).email == "open@example.com"


def test_the_record_is_deleted_24_months_after_closing_and_the_audit_chain_still_verifies(settings):
    assert timedelta(days=730) == settings.DSR_RECORD_RETENTION
    old = denied_request(closed_days_ago=731, email="old@example.com")
    kept = denied_request(closed_days_ago=700, email="kept@example.com")

    purge_personal_data()

    assert not DataSubjectRequest.objects.filter(pk=old.pk).exists()
    assert DataSubjectRequest.objects.filter(pk=kept.pk).exists()
    actions = list(AuditEvent.objects.filter(request_id=old.pk).values_list("action", flat=True))
    assert actions[-1] == "request.record_deleted"
    call_command("verify_audit")


def test_a_used_code_is_deleted_while_a_pending_one_keeps_its_counters():
    used = request_create(type="access", email="used@example.com", jurisdiction="DE")
    pending = request_create(type="access", email="pending@example.com", jurisdiction="DE")
    code = challenge_issue(request_id=used.pk, purpose=Purpose.VERIFY).code
    challenge_check(request_id=used.pk, code=code, purpose=Purpose.VERIFY)
    assert VerificationChallenge.objects.get(request=used).code_hash == ""  # erased at use already

    assert challenges_purge() == 1

    assert not VerificationChallenge.objects.filter(request=used).exists()
    assert VerificationChallenge.objects.get(request=pending).sends == 1


def test_an_expired_unverified_request_loses_its_identity_and_codes(settings):
    request = request_create(type="access", email="late@example.com", jurisdiction="DE", full_name="Late")
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        received_at=timezone.now() - settings.DSR_UNVERIFIED_EXPIRY - timedelta(hours=1)
    )
    from dsr.workflow.intake import requests_expire_unverified

    assert requests_expire_unverified() == 1
    expired = DataSubjectRequest.objects.get(pk=request.pk)
    assert (expired.status, expired.email, expired.full_name) == (Status.EXPIRED, "", "")
    assert not VerificationChallenge.objects.filter(request=request).exists()
