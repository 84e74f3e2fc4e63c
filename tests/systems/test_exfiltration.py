"""Security findings 3 and 4, reproduced as the review did: a systems file naming DSR Hub's keys, a
HubSpot system pointed at a loopback listener, a redirect off the vendor's host, and a SQL ``UPDATE``
of a stored system's ``config.base_url``. Each attack now fails and the listener receives nothing."""

from __future__ import annotations

import base64
import importlib
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from connectors.hubspot.fake import FakeHubSpot
from connectors.testing.server import FakeServer, Fault, serve
from dsr.audit.models import AuditEvent
from dsr.identity import crypto
from dsr.staff import twofactor
from dsr.staff.models import StaffTOTPDevice
from dsr.systems.binding import TAMPERED_MESSAGE
from dsr.systems.models import System
from dsr.workflow import jobs
from dsr.workflow.models import ConnectorJob, JobStatus, Status
from dsr.workflow.transitions import request_transition
from tests.dashboard.conftest import sign_in_verified
from tests.factories import RequestFactory

pytestmark = pytest.mark.django_db

TOKEN = "pat-na1-00000000-1111-2222-3333-444444444444"
HUBSPOT_HOSTS = "declared: api.hubapi.com, api-eu1.hubapi.com"


@pytest.fixture
def listener() -> Iterator[FakeServer]:
    """The attacker's HTTP listener on 127.0.0.1: it records every request it receives."""
    with serve(FakeServer(name="attacker")) as server:
        yield server


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    with serve(FakeHubSpot(TOKEN)) as fake:
        yield fake


def apply(tmp_path: Path, config: dict[str, object], *, key: str = "crm") -> str:
    path = tmp_path / "systems.yaml"
    path.write_text(
        json.dumps({"systems": [{"key": key, "name": "CRM", "connector": "hubspot", "config": config}]})
    )
    out = io.StringIO()
    call_command("apply_systems", str(path), stdout=out)
    return out.getvalue()


def run_access_job() -> ConnectorJob:
    """A verified, approved access request; its HubSpot job run by the worker's code (job_run)."""
    request = RequestFactory(email="jane.doe@example.com", status=Status.AWAITING_APPROVAL)
    request_transition(
        request_id=request.pk, to=Status.IN_PROGRESS, actor="staff:t", event="request.approved"
    )
    job = ConnectorJob.objects.get(request=request)
    jobs.job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


# -- finding 3: {env: NAME} ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["DSR_ENCRYPTION_KEYS", "SECRET_KEY", "DSR_AUDIT_KEY", "DSR_BLIND_INDEX_KEY", "DATABASE_URL"]
)
def test_a_systems_file_naming_a_platform_key_is_refused_by_apply_systems(tmp_path, listener, name) -> None:
    with pytest.raises(CommandError) as info:
        apply(tmp_path, {"access_token": {"env": name}, "base_url": listener.url})
    assert str(info.value).endswith(
        f"(system 'crm'): secret 'access_token' refers to environment variable {name}, one of DSR Hub's "
        "own settings: it is never given to a connector (use a name starting with DSR_SECRET_)"
    )
    assert System.objects.count() == 0
    assert listener.requests == []


def test_a_name_outside_the_prefix_is_refused_unless_the_operator_lists_it(tmp_path, settings) -> None:
    with pytest.raises(CommandError) as info:
        apply(tmp_path, {"access_token": {"env": "HUBSPOT_TOKEN"}})
    assert str(info.value).endswith(
        "secret 'access_token' refers to environment variable HUBSPOT_TOKEN, which is not allowed: use a "
        "name starting with DSR_SECRET_ or list it in DSR_SECRET_ENV_ALLOW"
    )
    settings.DSR_SECRET_ENV_ALLOW = ["HUBSPOT_TOKEN"]
    assert apply(tmp_path, {"access_token": {"env": "HUBSPOT_TOKEN"}}).startswith("created: crm\n")
    settings.DSR_SECRET_ENV_ALLOW = ["DSR_ENCRYPTION_KEYS"]  # the allow-list cannot open the key ring
    with pytest.raises(CommandError, match="one of DSR Hub's own settings"):
        apply(tmp_path, {"access_token": {"env": "DSR_ENCRYPTION_KEYS"}}, key="crm2")


def test_a_dsr_secret_name_resolves_in_the_worker(tmp_path, hubspot, monkeypatch) -> None:
    monkeypatch.setenv("DSR_SECRET_HUBSPOT_TOKEN", TOKEN)
    apply(tmp_path, {"access_token": {"env": "DSR_SECRET_HUBSPOT_TOKEN"}, "base_url": hubspot.url})
    call_command("connectors", "check", "crm", stdout=io.StringIO())
    assert hubspot.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_a_stored_reference_to_the_key_ring_is_refused_again_when_the_worker_resolves_it(listener) -> None:
    # Written past the apply-time check (an older release, a fixture): the worker refuses too.
    System.objects.create(
        key="crm",
        name="CRM",
        connector="hubspot",
        config={"base_url": listener.url},
        secrets=json.dumps({"access_token": {"env": "DSR_ENCRYPTION_KEYS"}}),
    )
    job = run_access_job()
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    assert "refers to environment variable DSR_ENCRYPTION_KEYS, one of DSR Hub's own settings" in job.error
    with pytest.raises(CommandError, match="one of DSR Hub's own settings"):
        call_command("connectors", "check", "crm")
    assert listener.requests == []


# -- finding 3: declared hosts -------------------------------------------------------------------
def test_a_hubspot_base_url_at_a_loopback_listener_is_refused_by_apply_systems(
    tmp_path, settings, listener
) -> None:
    settings.DSR_OUTBOUND_ALLOW_HOSTS = []
    with pytest.raises(CommandError) as info:
        apply(tmp_path, {"access_token": TOKEN, "base_url": listener.url})
    assert str(info.value).endswith(
        f"(system 'crm'): hubspot: refused a request to 127.0.0.1: not a host this connector may call "
        f"({HUBSPOT_HOSTS}); an operator can allow it with DSR_OUTBOUND_ALLOW_HOSTS"
    )
    assert System.objects.count() == 0
    assert listener.requests == []


def test_a_hubspot_base_url_at_a_loopback_listener_fails_the_job_without_the_allow_setting(
    tmp_path, settings, listener
) -> None:
    apply(tmp_path, {"access_token": TOKEN, "base_url": listener.url})  # allowed when it was applied
    settings.DSR_OUTBOUND_ALLOW_HOSTS = []  # the worker's setting: production's empty default
    job = run_access_job()
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)  # permanent: no retry
    assert job.error == (
        f"hubspot: refused a request to 127.0.0.1: not a host this connector may call ({HUBSPOT_HOSTS}); "
        "an operator can allow it with DSR_OUTBOUND_ALLOW_HOSTS"
    )
    assert listener.requests == []
    event = AuditEvent.objects.get(action="job.failed")
    assert event.data["error"] == job.error


def test_the_allow_setting_lets_the_operator_reach_a_local_host(tmp_path, settings, hubspot) -> None:
    settings.DSR_OUTBOUND_ALLOW_HOSTS = [f"127.0.0.1:{hubspot.port}"]
    apply(tmp_path, {"access_token": TOKEN, "base_url": hubspot.url})
    job = run_access_job()
    assert job.status == JobStatus.SUCCEEDED
    assert len(hubspot.requests) >= 1


def test_a_redirect_from_the_allowed_fake_to_another_host_is_refused(
    tmp_path, settings, hubspot, listener
) -> None:
    settings.DSR_OUTBOUND_ALLOW_HOSTS = [f"127.0.0.1:{hubspot.port}"]  # the listener's port is not allowed
    apply(tmp_path, {"access_token": TOKEN, "base_url": hubspot.url})
    hubspot.inject(Fault.redirect(f"{listener.url}/collect"), times=10)
    job = run_access_job()
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    assert job.error == (
        "hubspot: GET /crm/v3/properties/contacts -> 302: unexpected redirect (to 127.0.0.1); "
        "redirects are not followed"
    )
    assert listener.requests == []


# -- finding 4: secrets bound to the config --------------------------------------------------------
def test_changing_only_config_base_url_with_sql_fails_the_job_closed(tmp_path, hubspot, listener) -> None:
    apply(tmp_path, {"access_token": TOKEN, "base_url": hubspot.url})
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE systems_system SET config = jsonb_set(config, '{base_url}', to_jsonb(%s::text)) "
            "WHERE key = 'crm'",
            [listener.url],
        )
    job = run_access_job()
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    assert job.error == f"crm: {TAMPERED_MESSAGE}"
    with pytest.raises(CommandError) as info:
        call_command("connectors", "check", "crm")
    assert str(info.value) == f"failed: crm (hubspot): crm: {TAMPERED_MESSAGE}"
    assert listener.requests == []
    assert hubspot.requests == []


def test_moving_a_sealed_secret_to_another_row_does_not_open_it(tmp_path, hubspot) -> None:
    apply(tmp_path, {"access_token": TOKEN, "base_url": hubspot.url})
    System.objects.create(key="other", name="Other", connector="hubspot", config={"base_url": hubspot.url})
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE systems_system SET secrets = (SELECT secrets FROM systems_system WHERE key = 'crm') "
            "WHERE key = 'other'"
        )
    with pytest.raises(CommandError, match="system configuration was modified outside DSR Hub"):
        call_command("connectors", "check", "other")


def test_applying_the_file_again_reseals_a_tampered_system(tmp_path, hubspot, listener) -> None:
    config = {"access_token": TOKEN, "base_url": hubspot.url}
    apply(tmp_path, config)
    System.objects.filter(key="crm").update(config={"base_url": listener.url})  # bypasses the service
    assert apply(tmp_path, config) == "created: -\nupdated: crm\nunchanged: -\n"
    call_command("connectors", "check", "crm", stdout=io.StringIO())
    assert listener.requests == []
    assert len(hubspot.requests) == 1


def test_the_migration_seals_rows_written_before_it(hubspot) -> None:
    system = System.objects.create(
        key="crm", name="CRM", connector="hubspot", config={"base_url": hubspot.url}
    )
    legacy = crypto.encrypt(json.dumps({"access_token": TOKEN}))  # the old format: key id only
    with connection.cursor() as cursor:
        cursor.execute("UPDATE systems_system SET secrets = %s WHERE id = %s", [legacy, system.pk])
    with pytest.raises(CommandError, match="modified outside DSR Hub"):
        call_command("connectors", "check", "crm")

    from django.apps import apps

    migration = importlib.import_module("dsr.systems.migrations.0003_h2_bind_secrets")
    migration.seal(apps, connection.schema_editor())
    assert json.loads(System.objects.get(pk=system.pk).secrets) == {"access_token": TOKEN}
    call_command("connectors", "check", "crm", stdout=io.StringIO())


# -- one way to write a system, audited --------------------------------------------------------------
def test_every_change_from_a_systems_file_is_audited_with_the_fields_and_never_the_secret(
    tmp_path, hubspot
) -> None:
    apply(tmp_path, {"access_token": TOKEN, "base_url": hubspot.url})
    apply(tmp_path, {"access_token": "pat-na1-rotated", "base_url": hubspot.url, "timeout": 5})
    created, updated = AuditEvent.objects.filter(action__in=["system.created", "system.updated"]).order_by(
        "pk"
    )
    assert (created.action, created.actor, created.data["system"], created.data["source"]) == (
        "system.created",
        "cli:apply_systems",
        "crm",
        "systems file",
    )
    assert (updated.action, updated.data["changed"]) == ("system.updated", ["config", "secrets"])
    everything = json.dumps(list(AuditEvent.objects.values_list("data", flat=True)))
    assert TOKEN not in everything
    assert "pat-na1-rotated" not in everything


def _admin_form(**fields: str) -> dict[str, str]:
    return {
        "key": "crm",
        "name": "CRM",
        "connector": "hubspot",
        "config": json.dumps({"base_url": "https://api.hubapi.com"}),
        "enabled": "on",
        "purposes": "[]",
        "data_categories": "[]",
        "recipients": "[]",
        "never_disclose": "{}",
        "third_party_fields": "{}",
        "dpa_status": "in_house",
        **fields,
    }


def test_the_admin_refuses_a_platform_key_and_audits_what_it_saves(client, admin_user) -> None:
    StaffTOTPDevice.objects.create(
        user=admin_user, name="authenticator", secret=twofactor.secret_new(), confirmed=True
    )
    sign_in_verified(client, admin_user)  # the admin needs the second factor
    refused = client.post(
        "/admin/systems/system/add/",
        _admin_form(secrets_json=json.dumps({"access_token": {"env": "DSR_ENCRYPTION_KEYS"}})),
    )
    assert refused.status_code == 200  # the form again, with the error
    assert "refers to environment variable DSR_ENCRYPTION_KEYS, one of DSR Hub&#x27;s own settings" in (
        refused.content.decode()
    )
    assert System.objects.count() == 0

    saved = client.post(
        "/admin/systems/system/add/", _admin_form(secrets_json=json.dumps({"access_token": TOKEN}))
    )
    assert saved.status_code == 302
    system = System.objects.get(key="crm")
    assert json.loads(system.secrets) == {"access_token": TOKEN}
    event = AuditEvent.objects.get(action="system.created")
    assert (event.actor, event.data["source"], event.data["system"]) == ("admin:admin", "admin", "crm")
    assert TOKEN not in json.dumps(event.data)


def test_rotate_keys_reseals_systems_under_the_new_key_and_reports_a_tampered_one(settings, capsys) -> None:
    good = System.objects.create(
        key="crm", name="CRM", connector="hubspot", secrets=json.dumps({"access_token": TOKEN})
    )
    bad = System.objects.create(
        key="evil", name="Evil", connector="hubspot", secrets=json.dumps({"access_token": TOKEN})
    )
    System.objects.filter(pk=bad.pk).update(config={"base_url": "http://127.0.0.1:9"})
    settings.DSR_ENCRYPTION_KEYS = (
        f"k2:{base64.b64encode(os.urandom(32)).decode()},{settings.DSR_ENCRYPTION_KEYS}"
    )
    call_command("rotate_keys")
    captured = capsys.readouterr()
    assert "systems.System.secrets: 1 re-encrypted" in captured.out
    assert "systems.System.secrets: 1 row(s) modified outside DSR Hub could not be opened" in captured.err
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, secrets FROM systems_system ORDER BY key")
        key_ids = {key: crypto.key_id_of(secrets) for key, secrets in cursor.fetchall()}
    assert key_ids["crm"] == "k2"
    assert key_ids["evil"] != "k2"
    settings.DSR_ENCRYPTION_KEYS = settings.DSR_ENCRYPTION_KEYS.split(",")[0]
    assert json.loads(System.objects.get(pk=good.pk).secrets) == {"access_token": TOKEN}


def test_the_hand_off_connectors_work_with_production_s_empty_allow_list(settings) -> None:
    # They send no HTTP request: the outbound policy does not touch them.
    from connectors.manual.tests import MANUAL_CONFIG
    from connectors.vendor_email.tests import VENDOR_CONFIG

    settings.DSR_OUTBOUND_ALLOW_HOSTS = []
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    System.objects.create(key="archive", name="Archive", connector="manual", config=MANUAL_CONFIG)
    System.objects.create(key="parcel", name="Parcel Co", connector="vendor_email", config=VENDOR_CONFIG)
    request = RequestFactory(email="jane.doe@example.com", status=Status.AWAITING_APPROVAL)
    request_transition(
        request_id=request.pk, to=Status.IN_PROGRESS, actor="staff:t", event="request.approved"
    )
    for job in ConnectorJob.objects.filter(request=request):
        jobs.job_run(job_id=job.pk)
    statuses = dict(ConnectorJob.objects.filter(request=request).values_list("system__key", "status"))
    assert statuses == {"archive": JobStatus.WAITING, "parcel": JobStatus.WAITING}
