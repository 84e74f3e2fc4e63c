"""Seal every system's secrets with its key, connector and config as associated data.

Before: ``secrets`` was encrypted with the key id alone as associated data, so a row whose config
was changed with SQL still opened its token. After: see ``dsr.systems.binding``. Empty secrets are
sealed too, so every row's config is authenticated.
"""

from typing import Any

from django.db import migrations

import dsr.identity.fields
from dsr.identity import crypto
from dsr.systems.binding import TAMPERED_MESSAGE, secrets_binding


def _rows(apps: Any, schema_editor: Any) -> list[tuple[int, bytes, str]]:
    System = apps.get_model("systems", "System")
    connection = schema_editor.connection
    bindings = {
        pk: secrets_binding(key=key, connector=connector, config=config or {})
        for pk, key, connector, config in System.objects.using(connection.alias).values_list(
            "pk", "key", "connector", "config"
        )
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, secrets FROM systems_system")
        return [(pk, bindings[pk], secrets or "") for pk, secrets in cursor.fetchall()]


def _write(schema_editor: Any, pk: int, value: str) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("UPDATE systems_system SET secrets = %s WHERE id = %s", [value, pk])


def seal(apps: Any, schema_editor: Any) -> None:
    for pk, binding, stored in _rows(apps, schema_editor):
        plaintext = crypto.decrypt(stored) if stored else ""
        _write(schema_editor, pk, crypto.encrypt(plaintext, context=binding))


def unseal(apps: Any, schema_editor: Any) -> None:
    for pk, binding, stored in _rows(apps, schema_editor):
        plaintext = crypto.decrypt(stored, context=binding) if stored else ""
        _write(schema_editor, pk, crypto.encrypt(plaintext) if plaintext else "")


class Migration(migrations.Migration):
    dependencies = [("systems", "0002_inventory")]

    operations = [
        migrations.AlterField(
            model_name="system",
            name="secrets",
            field=dsr.identity.fields.BoundEncryptedTextField(
                binding="encryption_binding",
                blank=True,
                default="",
                help_text="JSON of secret fields, encrypted at rest.",
                tampered_message=TAMPERED_MESSAGE,
            ),
        ),
        migrations.RunPython(seal, unseal),
    ]
