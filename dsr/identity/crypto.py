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
import io
import os
from collections.abc import Iterator
from typing import Any, Protocol

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


def configured_keys() -> tuple[tuple[str, bytes], ...]:
    """``(key id, key)`` of every key of ``DSR_ENCRYPTION_KEYS``, the current one first."""
    return _keys(settings.DSR_ENCRYPTION_KEYS)


def current_key_id() -> str:
    return _keys(settings.DSR_ENCRYPTION_KEYS)[0][0]


def _associated(key_id: str, context: bytes) -> bytes:
    # Without a context the associated data is the key id alone, as for every value written before
    # contexts existed; with one, it is bound too (a NUL cannot occur in a key id).
    return key_id.encode() + (b"\x00" + context if context else b"")


def encrypt(plaintext: str, *, context: bytes = b"") -> str:
    """Encrypt under the first key. ``context`` is authenticated, not stored: ``decrypt`` needs the
    same bytes, so a value bound to a row's identity cannot be moved to or reused by another row."""
    key_id, key = _keys(settings.DSR_ENCRYPTION_KEYS)[0]
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), _associated(key_id, context))
    return f"{PREFIX}:{key_id}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, context: bytes = b"") -> str:
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
        return AESGCM(key).decrypt(blob[:12], blob[12:], _associated(key_id, context)).decode()
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


# --- streamed files (access parts and packages) --------------------------------------------------
#
# ``encrypt_bytes`` holds a whole file in memory; access packages can be gigabytes, so files are
# written in a chunked AEAD format instead (the STREAM construction of Hoang, Reyhanitabar, Rogaway
# and Vizár, "Online Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", 2015):
#
#   header  = b"DSRS1" || len(key id) (1 byte) || key id || nonce prefix (8 random bytes)
#   chunk i = AES-256-GCM(key, nonce = prefix || i (4 bytes), plaintext <= 64 KiB,
#                         associated data = header || i (4 bytes) || final flag (1 byte))
#
# Every chunk but the last holds exactly STREAM_CHUNK bytes of plaintext. The index stops chunks
# being reordered or dropped, the final flag stops the file being cut short at a chunk boundary, and
# the header (in every chunk's associated data) names the key, so keys rotate as for identity values.


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...

    def flush(self) -> object: ...


STREAM_MAGIC = b"DSRS1"
STREAM_CHUNK = 64 * 1024
_TAG = 16


class EncryptingWriter(io.RawIOBase):
    """A write-only binary file that encrypts what it is given into ``dest`` as a DSRS1 stream.

    Use as a context manager or call ``close()``: the last chunk (flagged final) is written then.
    ``key_id``/``key`` default to the first key of ``DSR_ENCRYPTION_KEYS``; pass a one-off key for
    scratch files that only this process must read.
    """

    def __init__(self, dest: Writable, *, key_id: str | None = None, key: bytes | None = None) -> None:
        super().__init__()
        if key is None or key_id is None:
            key_id, key = _keys(settings.DSR_ENCRYPTION_KEYS)[0]
        encoded_id = key_id.encode()
        if not 0 < len(encoded_id) < 256:
            raise ValueError("a key id is 1 to 255 bytes")
        self._dest = dest
        self._aead = AESGCM(key)
        self._prefix = os.urandom(8)
        self._header = STREAM_MAGIC + bytes([len(encoded_id)]) + encoded_id + self._prefix
        self._buffer = bytearray()
        self._index = 0
        self.plaintext_size = 0
        dest.write(self._header)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("write to a closed EncryptingWriter")
        view = memoryview(data).cast("B")
        self._buffer += view
        self.plaintext_size += len(view)
        # Keep at least one full chunk buffered: only close() knows which chunk is the last.
        start = 0
        while len(self._buffer) - start > STREAM_CHUNK:
            self._seal(bytes(self._buffer[start : start + STREAM_CHUNK]), final=False)
            start += STREAM_CHUNK
        if start:
            del self._buffer[:start]
        return len(view)

    def _seal(self, chunk: bytes, *, final: bool) -> None:
        index = self._index.to_bytes(4, "big")
        associated = self._header + index + (b"\x01" if final else b"\x00")
        self._dest.write(self._aead.encrypt(self._prefix + index, chunk, associated))
        self._index += 1
        if self._index >= 2**32:
            raise ValueError("file too large for one DSRS1 stream")

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._buffer), final=True)
            self._buffer.clear()
            self._dest.flush()
        super().close()


class DecryptingReader(io.RawIOBase):
    """A read-only binary file over a DSRS1 stream; raises ``DecryptionError`` when it was altered.

    Wrap it in ``io.BufferedReader`` to read lines. ``keys`` overrides the configured key ring.
    """

    def __init__(self, source: Readable, *, keys: dict[str, bytes] | None = None) -> None:
        super().__init__()
        head = _read_exactly(source, len(STREAM_MAGIC) + 1)
        if len(head) != len(STREAM_MAGIC) + 1 or head[: len(STREAM_MAGIC)] != STREAM_MAGIC:
            raise DecryptionError("not an encrypted stream")
        key_id = _read_exactly(source, head[-1])
        prefix = _read_exactly(source, 8)
        if len(prefix) != 8:
            raise DecryptionError("encrypted stream is truncated")
        ring = keys if keys is not None else dict(_keys(settings.DSR_ENCRYPTION_KEYS))
        key = ring.get(key_id.decode(errors="replace"))
        if key is None:
            raise DecryptionError(f"no configured key has id {key_id.decode(errors='replace')!r}")
        self._source = source
        self._aead = AESGCM(key)
        self._prefix = prefix
        self._header = head + key_id + prefix
        self._index = 0
        self._pending = _read_exactly(source, STREAM_CHUNK + _TAG)
        self._plain = b""
        self._offset = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> bytes:
        sealed = self._pending
        # The chunk is the last one when nothing follows it; a missing final chunk fails below.
        self._pending = _read_exactly(self._source, STREAM_CHUNK + _TAG) if sealed else b""
        final = not self._pending
        index = self._index.to_bytes(4, "big")
        associated = self._header + index + (b"\x01" if final else b"\x00")
        try:
            plain = self._aead.decrypt(self._prefix + index, sealed, associated)
        except Exception:
            raise DecryptionError("file was altered, truncated, or the key is wrong") from None
        self._index += 1
        self._done = final
        return plain

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while self._offset >= len(self._plain):
            if self._done:
                return 0
            self._plain, self._offset = self._next_chunk(), 0
        count = min(len(view), len(self._plain) - self._offset)
        view[:count] = self._plain[self._offset : self._offset + count]
        self._offset += count
        return count

    def chunks(self) -> Iterator[bytes]:
        """The plaintext, chunk by chunk (for streaming a download)."""
        if self._offset < len(self._plain):
            yield self._plain[self._offset :]
            self._offset = len(self._plain)
        while not self._done:
            chunk = self._next_chunk()
            if chunk:
                yield chunk


def _read_exactly(source: Readable, size: int) -> bytes:
    parts: list[bytes] = []
    while size > 0:
        part = source.read(size)
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def stream_key_id(source: Readable) -> str:
    """The key id named in a DSRS1 stream's header (reads only the header)."""
    head = _read_exactly(source, len(STREAM_MAGIC) + 1)
    if head[: len(STREAM_MAGIC)] != STREAM_MAGIC or len(head) != len(STREAM_MAGIC) + 1:
        raise DecryptionError("not an encrypted stream")
    return _read_exactly(source, head[-1]).decode(errors="replace")
