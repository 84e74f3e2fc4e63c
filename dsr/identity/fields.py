"""A model field that stores its text encrypted (see ``dsr.identity.crypto``)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.query_utils import DeferredAttribute

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


class BindingError(crypto.DecryptionError):
    """A bound value does not match the row it was sealed for: the row was changed outside the app."""


class Sealed(str):
    """A bound field's ciphertext as read from the database, opened on first access."""

    __slots__ = ()


class _BoundDescriptor(DeferredAttribute):
    """A data descriptor (it has ``__set__``), so every read goes through ``__get__`` and opens."""

    field: BoundEncryptedTextField

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Sealed):
            value = self.field.open(instance, value)
            instance.__dict__[self.field.attname] = value
        return value


class BoundEncryptedTextField(models.TextField):
    """Text encrypted with AES-GCM whose associated data is the row's *binding*, not only the key id.

    ``binding`` names a model method returning bytes that identify the row and its non-secret
    configuration (``System.encryption_binding``: key, connector and a hash of the config). Reading
    the attribute opens the value against the binding the row had when it was loaded (the model
    records it in ``_loaded_binding``, see ``System.from_db``); a row whose bound columns were
    changed outside the application, or whose ciphertext was removed, raises ``BindingError`` with
    ``tampered_message``. Saving seals the value under the first key and the row's current binding,
    so a change made through the model re-seals. Every row is sealed, an empty value too: an
    unsealed row fails closed.
    """

    description = "Text encrypted at rest and bound to its row"
    descriptor_class = _BoundDescriptor

    def __init__(
        self,
        *args: Any,
        binding: str = "encryption_binding",
        tampered_message: str = "the row was modified outside the application",
        **kwargs: Any,
    ) -> None:
        self.binding = binding
        self.tampered_message = tampered_message
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["binding"] = self.binding
        kwargs["tampered_message"] = self.tampered_message
        return name, path, args, kwargs

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Sealed:
        return Sealed(value or "")

    def current_binding(self, instance: models.Model) -> bytes:
        return bytes(getattr(instance, self.binding)())

    def open(self, instance: models.Model, token: str) -> str:
        """The plaintext of ``token`` for ``instance``; ``BindingError`` if it does not match."""
        binding = getattr(instance, "_loaded_binding", None) or self.current_binding(instance)
        if not token:
            raise BindingError(self.tampered_message)
        try:
            key_id = crypto.key_id_of(token)
        except IndexError:
            raise BindingError(self.tampered_message) from None
        if key_id not in dict(crypto.configured_keys()):
            raise crypto.DecryptionError(f"no configured key has id {key_id!r}")
        try:
            return crypto.decrypt(token, context=binding)
        except crypto.DecryptionError:
            raise BindingError(self.tampered_message) from None

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = model_instance.__dict__.get(self.attname)
        current = self.current_binding(model_instance)
        if isinstance(value, Sealed):
            if value and getattr(model_instance, "_loaded_binding", None) == current:
                return str(value)  # nothing bound changed: keep the stored ciphertext
            value = self.open(model_instance, value)
            model_instance.__dict__[self.attname] = value
        sealed = crypto.encrypt(str(value or ""), context=current)
        model_instance._loaded_binding = current  # type: ignore[attr-defined]
        return sealed
