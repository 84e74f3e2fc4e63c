"""Encryption of identity values at rest (AES-256-GCM) and the keyed blind index.

Ciphertext format: ``v1:<key id>:<base64(nonce || ciphertext+tag)>``. The key id names which key of
``DSR_ENCRYPTION_KEYS`` encrypted the value, so keys can rotate: the first key encrypts, every key
decrypts, and ``manage.py rotate_keys`` re-encrypts old values under the first key.

The blind index is HMAC-SHA256 of the normalised value under ``DSR_BLIND_INDEX_KEY``: it finds
"the same e-mail" without storing or scanning plaintext.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "v1"


class DecryptionError(Exception):
    """The value was not produced by one of the configured keys, or it was altered."""


def _decode_key(raw: str, *, name: str) -> bytes:
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError:
        raise ImproperlyConfigured(f"{name} is not valid base64") from None
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name} must decode to 32 bytes (got {len(key)})")
    return key


@functools.cache
def _keys(spec: str) -> tuple[tuple[str, bytes], ...]:
    keys = []
    for item in (part.strip() for part in spec.split(",") if part.strip()):
        key_id, sep, raw = item.partition(":")
        if not sep or not key_id:
            raise ImproperlyConfigured("DSR_ENCRYPTION_KEYS entries look like 'id:base64key'")
        keys.append((key_id, _decode_key(raw, name=f"DSR_ENCRYPTION_KEYS[{key_id}]")))
    if not keys:
        raise ImproperlyConfigured("DSR_ENCRYPTION_KEYS is empty")
    return tuple(keys)


def current_key_id() -> str:
    return _keys(settings.DSR_ENCRYPTION_KEYS)[0][0]


def encrypt(plaintext: str) -> str:
    key_id, key = _keys(settings.DSR_ENCRYPTION_KEYS)[0]
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), key_id.encode())
    return f"{PREFIX}:{key_id}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(token: str) -> str:
    try:
        prefix, key_id, payload = token.split(":", 2)
    except ValueError:
        raise DecryptionError("not an encrypted value") from None
    if prefix != PREFIX:
        raise DecryptionError(f"unknown format {prefix!r}")
    key = dict(_keys(settings.DSR_ENCRYPTION_KEYS)).get(key_id)
    if key is None:
        raise DecryptionError(f"no configured key has id {key_id!r}")
    try:
        blob = base64.b64decode(payload, validate=True)
        return AESGCM(key).decrypt(blob[:12], blob[12:], key_id.encode()).decode()
    except Exception:
        raise DecryptionError("value was altered or the key is wrong") from None


def key_id_of(token: str) -> str:
    return token.split(":", 2)[1]


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed hash of an already-normalised value; ``purpose`` separates e.g. e-mails from phones."""
    key = _decode_key(settings.DSR_BLIND_INDEX_KEY, name="DSR_BLIND_INDEX_KEY")
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def encrypt_bytes(data: bytes) -> bytes:
    """Encrypt a file's content (access packages). Same key ring, binary framing."""
    key_id, key = _keys(settings.DSR_ENCRYPTION_KEYS)[0]
    nonce = os.urandom(12)
    header = f"{PREFIX}:{key_id}:".encode()
    return header + nonce + AESGCM(key).encrypt(nonce, data, key_id.encode())


def decrypt_bytes(blob: bytes) -> bytes:
    try:
        prefix, key_id, rest = blob.split(b":", 2)
    except ValueError:
        raise DecryptionError("not an encrypted file") from None
    key = dict(_keys(settings.DSR_ENCRYPTION_KEYS)).get(key_id.decode())
    if prefix.decode() != PREFIX or key is None:
        raise DecryptionError("unknown format or key")
    try:
        return AESGCM(key).decrypt(rest[:12], rest[12:], key_id)
    except Exception:
        raise DecryptionError("file was altered or the key is wrong") from None
