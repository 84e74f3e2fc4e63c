"""`manage.py rotate_keys` re-encrypts stored identities and secrets under the new first key."""

from __future__ import annotations

import base64
import os

import pytest
from django.core.management import call_command
from django.db import connection

from dsr.identity import crypto
from dsr.systems.models import System
from dsr.workflow.models import DataSubjectRequest
from tests.factories import RequestFactory

pytestmark = pytest.mark.django_db


def raw(table: str, column: str, pk: object) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_rotation_re_encrypts_every_value_under_the_new_key_and_keeps_it_readable(settings, capsys) -> None:
    old_keys = settings.DSR_ENCRYPTION_KEYS
    old_id = old_keys.split(":", 1)[0]
    request = RequestFactory(email="rotate.me@example.com", full_name="Rota Tion", phone="")
    system = System.objects.create(
        key="crm", name="CRM", connector="sql", secrets='{"url": "postgresql://x"}'
    )
    assert crypto.key_id_of(raw("workflow_datasubjectrequest", "email", request.pk)) == old_id

    settings.DSR_ENCRYPTION_KEYS = f"new2:{new_key()},{old_keys}"
    call_command("rotate_keys")

    assert crypto.key_id_of(raw("workflow_datasubjectrequest", "email", request.pk)) == "new2"
    assert crypto.key_id_of(raw("workflow_datasubjectrequest", "full_name", request.pk)) == "new2"
    assert raw("workflow_datasubjectrequest", "phone", request.pk) == ""  # empty stays empty
    assert crypto.key_id_of(raw("systems_system", "secrets", system.pk)) == "new2"
    out = capsys.readouterr().out
    assert "workflow.DataSubjectRequest.email: 1 re-encrypted" in out
    assert "systems.System.secrets: 1 re-encrypted" in out

    settings.DSR_ENCRYPTION_KEYS = settings.DSR_ENCRYPTION_KEYS.split(",")[0]  # the old key is gone
    assert DataSubjectRequest.objects.get(pk=request.pk).email == "rotate.me@example.com"
    assert System.objects.get(pk=system.pk).secrets == '{"url": "postgresql://x"}'


def test_a_second_rotation_with_the_same_key_rewrites_nothing(settings, capsys) -> None:
    RequestFactory(email="once@example.com")
    settings.DSR_ENCRYPTION_KEYS = f"k9:{new_key()},{settings.DSR_ENCRYPTION_KEYS}"
    call_command("rotate_keys")
    capsys.readouterr()
    call_command("rotate_keys")
    assert "0 value(s) re-encrypted under key 'k9'" in capsys.readouterr().out
