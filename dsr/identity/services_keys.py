"""Re-encrypting stored values under the current key (``manage.py rotate_keys``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction

from dsr.identity import crypto
from dsr.identity.fields import BindingError, BoundEncryptedTextField, EncryptedTextField


@dataclass
class RotationReport:
    current_key: str
    rewritten: dict[str, int] = field(default_factory=dict)  # "app.Model.field" -> values re-encrypted
    checked: int = 0
    # "app.Model.field" -> rows whose bound value no longer matches the row (changed outside the
    # app): left as they are, they keep failing closed until re-entered.
    unreadable: dict[str, int] = field(default_factory=dict)


def encrypted_fields() -> list[tuple[type[models.Model], list[tuple[str, str]]]]:
    """Every model with ``EncryptedTextField`` columns, with (field name, column) of each."""
    found = []
    for model in apps.get_models():
        fields = [
            (f.name, f.column) for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)
        ]
        if fields:
            found.append((model, fields))
    return found


def keys_rotate(*, batch_size: int = 500) -> RotationReport:
    """Re-encrypt every value not encrypted under the first key of ``DSR_ENCRYPTION_KEYS``.

    Reads the stored ciphertext directly (to see its key id), decrypts with whichever configured
    key made it, and writes it back under the current key, in batches of ``batch_size`` rows,
    each batch in its own transaction. Safe to interrupt and run again.
    """
    current = crypto.current_key_id()
    report = RotationReport(current_key=current)
    quote = connection.ops.quote_name
    for model, fields in encrypted_fields():
        table = quote(model._meta.db_table)
        pk = model._meta.pk
        assert pk is not None
        assert pk.column is not None
        pk_column = quote(pk.column)
        names = [name for name, _ in fields]
        columns = [column for _, column in fields]
        select = ", ".join(quote(c) for c in columns)
        last = None
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                where = f"WHERE {pk_column} > %s " if last is not None else ""
                cursor.execute(
                    f"SELECT {pk_column}, {select} FROM {table} {where}ORDER BY {pk_column} LIMIT %s",  # noqa: S608 - names from the model
                    [last, batch_size] if last is not None else [batch_size],
                )
                rows = cursor.fetchall()
                for row in rows:
                    report.checked += 1
                    updates = {}
                    for column, name, value in zip(columns, names, row[1:], strict=True):
                        if value and crypto.key_id_of(value) != current:
                            updates[column] = crypto.encrypt(crypto.decrypt(value))
                            key = f"{model._meta.label}.{name}"
                            report.rewritten[key] = report.rewritten.get(key, 0) + 1
                    if updates:
                        assignments = ", ".join(f"{quote(c)} = %s" for c in updates)
                        cursor.execute(
                            f"UPDATE {table} SET {assignments} WHERE {pk_column} = %s",  # noqa: S608 - names from the model
                            [*updates.values(), row[0]],
                        )
            if not rows:
                break
            last = rows[-1][0]
    _rotate_bound(current, report, batch_size=batch_size)
    return report


def columns_encrypt_in_place(
    *,
    connection: Any,
    table: str,
    pk_column: str,
    columns: list[str],
    batch_size: int = 500,
    decrypt: bool = False,
) -> int:
    """Encrypt, in place, the values of ``columns`` that are still plaintext; returns how many.

    For the data migration that turns a ``TextField`` into an ``EncryptedTextField``: a value that
    decrypts with a configured key is left as it is (so running it twice is harmless), any other
    non-empty value is encrypted under the current key. Reads and writes raw SQL, in batches.
    ``decrypt=True`` does the opposite, for the migration's reverse.
    """
    quote = connection.ops.quote_name
    select = ", ".join(quote(c) for c in columns)
    pk, last, done = quote(pk_column), None, 0
    while True:
        with connection.cursor() as cursor:
            where = f"WHERE {pk} > %s " if last is not None else ""
            cursor.execute(
                f"SELECT {pk}, {select} FROM {quote(table)} {where}ORDER BY {pk} LIMIT %s",  # noqa: S608 - names from the model
                [last, batch_size] if last is not None else [batch_size],
            )
            rows = cursor.fetchall()
            for row in rows:
                pairs = zip(columns, row[1:], strict=True)
                if decrypt:
                    updates = {c: crypto.decrypt(v) for c, v in pairs if v and not _plain(v)}
                else:
                    updates = {c: crypto.encrypt(v) for c, v in pairs if _plain(v)}
                if updates:
                    assignments = ", ".join(f"{quote(c)} = %s" for c in updates)
                    cursor.execute(
                        f"UPDATE {quote(table)} SET {assignments} WHERE {pk} = %s",  # noqa: S608 - names from the model
                        [*updates.values(), row[0]],
                    )
                    done += len(updates)
        if not rows:
            return done
        last = rows[-1][0]


def _plain(value: str | None) -> bool:
    if not value:
        return False
    try:
        crypto.decrypt(value)
    except crypto.DecryptionError:
        return True
    return False


def _rotate_bound(current: str, report: RotationReport, *, batch_size: int) -> None:
    """Re-seal ``BoundEncryptedTextField`` values through the model: their associated data is the
    row's binding, which only the model computes."""
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, BoundEncryptedTextField)]
        if not fields:
            continue
        last = None
        while True:
            with transaction.atomic():
                batch = model._base_manager.select_for_update().order_by("pk")
                if last is not None:
                    batch = batch.filter(pk__gt=last)
                rows = list(batch[:batch_size])
                for row in rows:
                    report.checked += 1
                    stale = []
                    for f in fields:
                        label = f"{model._meta.label}.{f.name}"
                        stored = row.__dict__[f.attname]
                        if stored and crypto.key_id_of(stored) == current:
                            continue
                        try:
                            getattr(row, f.attname)  # opens it; the save below seals it again
                        except BindingError:
                            report.unreadable[label] = report.unreadable.get(label, 0) + 1
                            continue
                        stale.append(f.attname)
                        report.rewritten[label] = report.rewritten.get(label, 0) + 1
                    if stale:
                        row.save(update_fields=stale)
            if not rows:
                break
            last = rows[-1].pk
