"""A model field that stores its text encrypted (see ``dsr.identity.crypto``)."""

from __future__ import annotations

from typing import Any

from django.db import models

from dsr.identity import crypto


class EncryptedTextField(models.TextField):
    """Text encrypted with AES-GCM on the way into the database and decrypted on the way out.

    Lookups on the value are meaningless (each encryption differs): pair it with a blind index.
    An empty string is stored as an empty string, so purged values stay recognisable.
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value:
            return value
        return crypto.encrypt(str(value))
