"""Identity values and connector secrets are encrypted at rest, ``rotate_keys`` re-encrypts them under
a new key, secrets and identities never reach the logs, and broker messages carry ids only."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import os
from io import StringIO
from pathlib import Path

import pytest
import redis
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from connectors.hubspot.fake import FakeHubSpot
from connectors.testing.server import Fault, serve
from dsr.celery import app as celery_app
from dsr.identity import crypto
from dsr.notifications.models import OutboundEmail
from dsr.systems.models import System
from dsr.workflow.intake import request_create
from dsr.workflow.jobs import job_run
from dsr.workflow.models import ConnectorJob, DataSubjectRequest, JobStatus, Status
from dsr.workflow.transitions import request_transition
from tests.support.worker import RedisServer, use_broker

TOKEN = "pat-na1-0f1e2d3c-secret-token"
EMAIL = "Secret.Person@Example.com"


def raw_row(table: str, pk: object) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [str(pk) if table != "systems_system" else pk])
        names = [c.name for c in cursor.description]
        return {name: str(value) for name, value in zip(names, cursor.fetchone(), strict=True)}


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def crm(db: None, tmp_path: Path):  # type: ignore[no-untyped-def]
    with serve(FakeHubSpot(TOKEN)) as fake:
        system = System.objects.create(
            key="crm",
            name="CRM",
            connector="hubspot",
            config={"base_url": fake.url, "timeout": 1.0},
            secrets=json.dumps({"access_token": TOKEN}),
        )
        yield fake, system


@pytest.mark.django_db
def test_identity_values_are_stored_encrypted_and_found_through_the_blind_index_only(monkeypatch):
    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: None)
    request = request_create(
        type="access", email=EMAIL, jurisdiction="DE", full_name="Secret Person", phone="+49 30 1234567"
    )
    row = raw_row("workflow_datasubjectrequest", request.pk)
    for column in ("email", "full_name", "phone"):
        assert row[column].startswith(f"v1:{crypto.current_key_id()}:")
    text = " ".join(row.values()).lower()
    for clear in ("secret.person", "example.com", "secret person", "1234567"):
        assert clear not in text
    assert row["email_index"] == crypto.blind_index("secret.person@example.com", purpose="email")
    assert DataSubjectRequest.objects.get(pk=request.pk).email == "secret.person@example.com"


@pytest.mark.django_db
def test_connector_secrets_are_stored_encrypted(crm):
    _, system = crm
    row = raw_row("systems_system", system.pk)
    assert row["secrets"].startswith("v1:")
    assert TOKEN not in " ".join(row.values())


@pytest.mark.django_db
def test_rotate_keys_re_encrypts_identities_and_secrets_under_the_new_key_so_the_old_one_can_go(
    crm, settings, monkeypatch
):
    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: None)
    _, system = crm
    request = request_create(type="access", email=EMAIL, jurisdiction="DE", full_name="Secret Person")
    old = settings.DSR_ENCRYPTION_KEYS
    settings.DSR_ENCRYPTION_KEYS = f"k2026:{new_key()},{old}"

    out = StringIO()
    call_command("rotate_keys", stdout=out)

    assert "re-encrypted under key 'k2026'" in out.getvalue()
    assert raw_row("workflow_datasubjectrequest", request.pk)["email"].startswith("v1:k2026:")
    assert raw_row("workflow_datasubjectrequest", request.pk)["full_name"].startswith("v1:k2026:")
    assert raw_row("systems_system", system.pk)["secrets"].startswith("v1:k2026:")
    settings.DSR_ENCRYPTION_KEYS = settings.DSR_ENCRYPTION_KEYS.split(",")[0]  # the old key removed
    assert DataSubjectRequest.objects.get(pk=request.pk).email == "secret.person@example.com"
    assert json.loads(System.objects.get(pk=system.pk).secrets) == {"access_token": TOKEN}


@pytest.mark.django_db
def test_neither_the_token_nor_the_persons_identity_reach_the_logs_the_job_error_or_the_audit_log(
    crm, caplog, monkeypatch
):
    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: None)
    fake, _ = crm
    fake.add_contact(email=EMAIL.lower())
    caplog.set_level(logging.DEBUG)
    request = request_create(type="erasure", email=EMAIL, jurisdiction="DE", full_name="Secret Person")
    request_transition(
        request_id=request.pk, to=Status.IN_PROGRESS, actor="staff:x", event="request.approved"
    )
    job = ConnectorJob.objects.get(request=request)
    # The vendor echoes what it was sent in its error messages, the token included.
    echo = f"invalid token {TOKEN} for {EMAIL.lower()}"
    for fault in (Fault.rate_limited(0), Fault.server_error(503), Fault.unauthorized(401)):
        fake.inject(dataclasses.replace(fault, message=echo))
        ConnectorJob.objects.filter(pk=job.pk).update(next_attempt_at=None)
        job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    from dsr.audit.models import AuditEvent

    audit = json.dumps(list(AuditEvent.objects.values("actor", "action", "data")))
    for secret in (TOKEN, EMAIL.lower(), "Secret Person"):
        assert secret not in caplog.text
        assert secret not in job.error
        assert secret not in audit
    assert "***" in job.error or "<email>" in job.error


@pytest.mark.django_db(transaction=True)
def test_broker_messages_carry_ids_only(crm, tmp_path: Path):
    broker = RedisServer(log_path=tmp_path / "redis.log")
    broker.start()
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        with use_broker(broker.url):
            request = request_create(
                type="erasure", email=EMAIL, jurisdiction="DE", full_name="Secret Person"
            )
            now = timezone.now()
            request_transition(
                request_id=request.pk,
                to=Status.IN_PROGRESS,
                actor="staff:x",
                event="request.approved",
                fields={"verified_at": now, "approved_at": now},
            )
        client = redis.Redis.from_url(broker.url)
        raw = client.lrange("dsr", 0, -1)
        client.close()
    finally:
        celery_app.conf.task_always_eager = previous
        broker.stop()

    messages = [json.loads(m) for m in raw]
    calls = sorted((m["headers"]["task"], json.loads(base64.b64decode(m["body"]))[0]) for m in messages)
    job = ConnectorJob.objects.get(request=request)
    # The code e-mail and the acknowledgement go through the outbox: the broker carries row ids.
    code_mail, acknowledged = OutboundEmail.objects.filter(request=request).order_by("id")
    assert (code_mail.kind, acknowledged.kind) == ("verify_code", "acknowledged")
    assert calls == [
        ("dsr.notifications.tasks.send_email", [code_mail.pk]),
        ("dsr.notifications.tasks.send_email", [acknowledged.pk]),
        ("dsr.workflow.tasks.run_job", [job.pk]),
    ]
    everything = b" ".join(raw).lower() + b" ".join(base64.b64decode(m["body"]) for m in messages).lower()
    for secret in (TOKEN, "secret.person", "secret person"):
        assert secret.encode() not in everything
