"""Identity values at rest: AES-GCM with a key id, key rotation, tamper detection, blind index."""

from __future__ import annotations

import base64

import pytest
from django.db import connection

from dsr.identity import crypto
from dsr.identity.blind_index import email_blind_index
from dsr.identity.crypto import DecryptionError
from tests.factories import RequestFactory

OLD_KEY = "old:" + base64.b64encode(b"o" * 32).decode()
NEW_KEY = "new:" + base64.b64encode(b"n" * 32).decode()


def _raw_email_column(request_id: object) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT email FROM workflow_datasubjectrequest WHERE id = %s", [request_id])
        return cursor.fetchone()[0]


def test_encrypt_then_decrypt_returns_the_plaintext_under_the_first_key_id(settings):
    settings.DSR_ENCRYPTION_KEYS = f"{NEW_KEY},{OLD_KEY}"
    token = crypto.encrypt("jane.doe@example.com")
    assert token.startswith("v1:new:")
    assert "jane" not in token
    assert crypto.decrypt(token) == "jane.doe@example.com"


def test_two_encryptions_of_one_value_differ_because_each_has_its_own_nonce(settings):
    settings.DSR_ENCRYPTION_KEYS = NEW_KEY
    assert crypto.encrypt("same") != crypto.encrypt("same")


def test_a_value_encrypted_under_an_old_key_still_decrypts_when_a_new_key_is_put_first(settings):
    settings.DSR_ENCRYPTION_KEYS = OLD_KEY
    old_token = crypto.encrypt("jane.doe@example.com")
    settings.DSR_ENCRYPTION_KEYS = f"{NEW_KEY},{OLD_KEY}"
    assert crypto.key_id_of(old_token) == "old"
    assert crypto.decrypt(old_token) == "jane.doe@example.com"
    assert crypto.key_id_of(crypto.encrypt(crypto.decrypt(old_token))) == "new"


def test_a_value_whose_key_was_removed_from_the_ring_raises_decryption_error(settings):
    settings.DSR_ENCRYPTION_KEYS = OLD_KEY
    token = crypto.encrypt("jane.doe@example.com")
    settings.DSR_ENCRYPTION_KEYS = NEW_KEY
    with pytest.raises(DecryptionError, match="no configured key has id 'old'"):
        crypto.decrypt(token)


def test_tampered_ciphertext_raises_decryption_error(settings):
    settings.DSR_ENCRYPTION_KEYS = NEW_KEY
    prefix, key_id, payload = crypto.encrypt("jane.doe@example.com").split(":")
    blob = bytearray(base64.b64decode(payload))
    blob[-1] ^= 0x01
    tampered = f"{prefix}:{key_id}:{base64.b64encode(bytes(blob)).decode()}"
    with pytest.raises(DecryptionError, match="altered"):
        crypto.decrypt(tampered)


def test_ciphertext_relabelled_with_another_key_id_raises_decryption_error(settings):
    settings.DSR_ENCRYPTION_KEYS = f"{NEW_KEY},{OLD_KEY}"
    token = crypto.encrypt("jane.doe@example.com")
    with pytest.raises(DecryptionError):
        crypto.decrypt(token.replace("v1:new:", "v1:old:"))


@pytest.mark.parametrize("garbage", ["jane.doe@example.com", "v2:new:AAAA", "v1:new:!!!not-base64!!!"])
def test_values_that_are_not_our_ciphertext_raise_decryption_error(settings, garbage):
    settings.DSR_ENCRYPTION_KEYS = NEW_KEY
    with pytest.raises(DecryptionError):
        crypto.decrypt(garbage)


def test_encrypted_files_round_trip_and_detect_tampering(settings):
    settings.DSR_ENCRYPTION_KEYS = NEW_KEY
    blob = crypto.encrypt_bytes(b"PK\x03\x04 zip bytes")
    assert blob.startswith(b"v1:new:")
    assert crypto.decrypt_bytes(blob) == b"PK\x03\x04 zip bytes"
    with pytest.raises(DecryptionError):
        crypto.decrypt_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))


@pytest.mark.django_db
def test_identity_columns_hold_ciphertext_not_plaintext(settings):
    settings.DSR_ENCRYPTION_KEYS = NEW_KEY
    request = RequestFactory(email="jane.doe@example.com", full_name="Jane Doe", phone="+4915123456789")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT email, full_name, phone FROM workflow_datasubjectrequest WHERE id = %s", [request.pk]
        )
        raw = cursor.fetchone()
    assert all(value.startswith("v1:new:") for value in raw)
    assert "jane" not in " ".join(raw).lower()
    assert "4915123456789" not in " ".join(raw)
    request.refresh_from_db()
    assert (request.email, request.full_name, request.phone) == (
        "jane.doe@example.com",
        "Jane Doe",
        "+4915123456789",
    )


@pytest.mark.django_db
def test_a_row_saved_under_the_old_key_reads_back_and_is_re_encrypted_under_the_new_key_on_save(settings):
    settings.DSR_ENCRYPTION_KEYS = OLD_KEY
    request = RequestFactory(email="jane.doe@example.com")
    assert _raw_email_column(request.pk).startswith("v1:old:")

    settings.DSR_ENCRYPTION_KEYS = f"{NEW_KEY},{OLD_KEY}"
    reloaded = type(request).objects.get(pk=request.pk)
    assert reloaded.email == "jane.doe@example.com"
    reloaded.save(update_fields=["email"])
    assert _raw_email_column(request.pk).startswith("v1:new:")
    assert type(request).objects.get(pk=request.pk).email == "jane.doe@example.com"


@pytest.mark.django_db
def test_an_empty_identity_value_is_stored_as_an_empty_string():
    request = RequestFactory(full_name="")
    with connection.cursor() as cursor:
        cursor.execute("SELECT full_name FROM workflow_datasubjectrequest WHERE id = %s", [request.pk])
        assert cursor.fetchone()[0] == ""


def test_the_blind_index_is_the_same_for_every_spelling_of_one_address_and_differs_for_others():
    assert email_blind_index("Jane.Doe@Example.COM ") == email_blind_index("jane.doe@example.com")
    assert email_blind_index("jane.doe+news@example.com") != email_blind_index("jane.doe@example.com")
    assert len(email_blind_index("jane.doe@example.com")) == 64


def test_the_blind_index_depends_on_its_key_and_its_purpose(settings):
    first = crypto.blind_index("jane.doe@example.com", purpose="email")
    assert crypto.blind_index("jane.doe@example.com", purpose="phone") != first
    settings.DSR_BLIND_INDEX_KEY = base64.b64encode(b"k" * 32).decode()
    assert crypto.blind_index("jane.doe@example.com", purpose="email") != first
