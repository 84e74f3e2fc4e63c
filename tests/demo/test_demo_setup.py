"""`manage.py demo_setup` (run by `make run`) prepares a demo that works, and can run again."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from dsr.staff.twofactor import totp_device_for
from dsr.systems.models import System

pytestmark = pytest.mark.django_db


@pytest.fixture
def var(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_demo_setup_seeds_a_warehouse_system_with_its_record_of_processing_and_an_admin(var) -> None:
    out = io.StringIO()
    call_command("demo_setup", stdout=out)
    system = System.objects.get(key="warehouse")
    assert system.connector == "sql"
    assert system.purposes == ["Order fulfilment", "Bookkeeping", "Marketing analytics"]
    assert [r["name"] for r in system.recipients] == ["Parcel Express GmbH", "Ledger Cloud Inc."]
    assert (var / "demo-warehouse.sqlite3").exists()
    password = re.search(r"user 'admin', password '([^']+)'", out.getvalue()).group(1)
    assert get_user_model().objects.get(username="admin").check_password(password)


def test_demo_setup_runs_again_without_changing_anything(var) -> None:
    call_command("demo_setup", stdout=io.StringIO())
    again = io.StringIO()
    call_command("demo_setup", stdout=again)
    assert "Systems created: -, updated: -" in again.getvalue()


def test_demo_totp_prints_a_code_the_dashboard_accepts(var, settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    setup = io.StringIO()
    call_command("demo_setup", stdout=setup)
    password = re.search(r"user 'admin', password '([^']+)'", setup.getvalue()).group(1)
    out = io.StringIO()
    call_command("demo_totp", stdout=out)
    code = re.search(r"code: (\d{6})", out.getvalue()).group(1)
    secret = re.search(r"secret for an authenticator app: (\w+)", out.getvalue()).group(1)
    assert totp_device_for(user=get_user_model().objects.get(username="admin")) is None  # not yet confirmed
    browser = Client()
    browser.post("/dashboard/login/", {"username": "admin", "password": password})
    enrolment = browser.get("/dashboard/login/code/").content.decode()
    assert f'<code id="totp-secret">{secret}</code>' in enrolment
    browser.post("/dashboard/login/code/", {"code": code})
    assert browser.get("/dashboard/").status_code == 200


def test_demo_setup_prints_a_staff_api_token_that_works_and_keeps_it_on_a_second_run(var) -> None:
    first = io.StringIO()
    call_command("demo_setup", stdout=first)
    token = re.search(r"Staff API token: ([0-9a-f]{64}) ", first.getvalue()).group(1)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/staff/requests").status_code == 200
    again = io.StringIO()
    call_command("demo_setup", stdout=again)
    assert f"Staff API token: {token} " in again.getvalue()
    AuthToken.objects.all().delete()  # expired or revoked: the next run issues a new one
    third = io.StringIO()
    call_command("demo_setup", stdout=third)
    new = re.search(r"Staff API token: ([0-9a-f]{64}) ", third.getvalue()).group(1)
    assert new != token
    api.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert api.get("/api/v1/staff/requests").status_code == 200


def test_the_demo_commands_refuse_to_run_in_production(var, settings) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="refuses to run with DSR_ENV=production"):
        call_command("demo_setup", stdout=io.StringIO())
    with pytest.raises(CommandError, match="refuses to run with DSR_ENV=production"):
        call_command("demo_totp", stdout=io.StringIO())


def test_with_the_vendor_fakes_running_the_demo_has_four_systems_that_each_find_jane_doe(
    var, monkeypatch
) -> None:
    from connectors.sql.sample import TARGET_EMAIL
    from connectors.types import Subject
    from dsr.demo.fakes import DECOY_EMAIL, DemoFakes
    from dsr.systems.services import system_build_connector

    with DemoFakes() as fakes:
        for name, value in fakes.environment().items():
            monkeypatch.setenv(name, value)
        out = io.StringIO()
        call_command("demo_setup", stdout=out)
        assert "Systems:         warehouse, hubspot, mailchimp, klaviyo" in out.getvalue()
        assert list(System.objects.order_by("key").values_list("key", "connector")) == [
            ("hubspot", "hubspot"),
            ("klaviyo", "klaviyo"),
            ("mailchimp", "mailchimp"),
            ("warehouse", "sql"),
        ]
        for key in ("hubspot", "mailchimp", "klaviyo"):
            connector = system_build_connector(system=System.objects.get(key=key))
            connector.check()
            records = list(connector.access(Subject.create(email=TARGET_EMAIL)))
            assert records, key
            assert DECOY_EMAIL not in repr(records), key
