"""The chunked AES-GCM file format (DSRS1) that access parts and packages are stored in."""

from __future__ import annotations

import base64
import io

import pytest

from dsr.identity import crypto
from dsr.identity.crypto import STREAM_CHUNK, DecryptingReader, DecryptionError, EncryptingWriter

OLD_KEY = "old:" + base64.b64encode(b"o" * 32).decode()
NEW_KEY = "new:" + base64.b64encode(b"n" * 32).decode()
HEADER = len(b"DSRS1") + 1 + len(b"new") + 8
SEALED_CHUNK = STREAM_CHUNK + 16


def seal(plain: bytes, *, writes: int = 1) -> bytes:
    out = io.BytesIO()
    with EncryptingWriter(out) as writer:
        step = max(1, len(plain) // writes)
        for start in range(0, len(plain), step):
            writer.write(plain[start : start + step])
    return out.getvalue()


def open_(blob: bytes) -> bytes:
    return DecryptingReader(io.BytesIO(blob)).read()


@pytest.fixture(autouse=True)
def _keys(settings):
    settings.DSR_ENCRYPTION_KEYS = NEW_KEY


@pytest.mark.parametrize(
    "size", [0, 1, STREAM_CHUNK - 1, STREAM_CHUNK, STREAM_CHUNK + 1, 3 * STREAM_CHUNK, 3 * STREAM_CHUNK + 7]
)
def test_any_size_round_trips_whatever_the_write_sizes(size):
    plain = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    for writes in (1, 3, 1000):
        blob = seal(plain, writes=writes)
        assert open_(blob) == plain
        chunks = max(1, -(-size // STREAM_CHUNK))
        assert len(blob) == HEADER + size + 16 * chunks


def test_the_header_names_the_key_and_nothing_of_the_plaintext_shows():
    blob = seal(b"jane.doe@example.com " * 100)
    assert blob.startswith(b"DSRS1\x03new")
    assert b"jane" not in blob
    assert crypto.stream_key_id(io.BytesIO(blob)) == "new"


def test_chunks_yields_the_plaintext_in_order():
    plain = b"x" * (2 * STREAM_CHUNK + 5)
    chunks = list(DecryptingReader(io.BytesIO(seal(plain))).chunks())
    assert [len(c) for c in chunks] == [STREAM_CHUNK, STREAM_CHUNK, 5]
    assert b"".join(chunks) == plain


def test_a_flipped_bit_anywhere_is_detected():
    blob = bytearray(seal(b"a" * (2 * STREAM_CHUNK)))
    for position in (HEADER - 1, HEADER + 10, len(blob) - 1):
        altered = bytearray(blob)
        altered[position] ^= 1
        with pytest.raises(DecryptionError):
            open_(bytes(altered))


def test_a_file_cut_at_a_chunk_boundary_is_detected_because_the_last_chunk_is_not_flagged_final():
    blob = seal(b"a" * (2 * STREAM_CHUNK + 100))
    with pytest.raises(DecryptionError, match="altered, truncated"):
        open_(blob[: HEADER + 2 * SEALED_CHUNK])
    with pytest.raises(DecryptionError, match="altered, truncated"):
        open_(blob[: HEADER + SEALED_CHUNK])


def test_swapped_chunks_are_detected():
    blob = seal(b"a" * STREAM_CHUNK + b"b" * STREAM_CHUNK + b"c")
    first, second = (
        blob[HEADER : HEADER + SEALED_CHUNK],
        blob[HEADER + SEALED_CHUNK : HEADER + 2 * SEALED_CHUNK],
    )
    swapped = blob[:HEADER] + second + first + blob[HEADER + 2 * SEALED_CHUNK :]
    with pytest.raises(DecryptionError):
        open_(swapped)


def test_a_header_without_chunks_and_a_foreign_file_are_refused():
    with pytest.raises(DecryptionError, match="altered, truncated"):
        open_(seal(b"abc")[:HEADER])
    with pytest.raises(DecryptionError, match="not an encrypted stream"):
        open_(b"PK\x03\x04 a plain zip")


def test_a_file_written_under_an_old_key_opens_while_that_key_is_in_the_ring(settings):
    settings.DSR_ENCRYPTION_KEYS = OLD_KEY
    blob = seal(b"secret")
    settings.DSR_ENCRYPTION_KEYS = f"{NEW_KEY},{OLD_KEY}"
    assert open_(blob) == b"secret"
    assert crypto.stream_key_id(io.BytesIO(seal(b"new"))) == "new"
    settings.DSR_ENCRYPTION_KEYS = NEW_KEY
    with pytest.raises(DecryptionError, match="no configured key has id 'old'"):
        open_(blob)


def test_a_one_off_key_is_only_readable_with_that_key():
    out = io.BytesIO()
    with EncryptingWriter(out, key_id="scratch", key=b"k" * 32) as writer:
        writer.write(b"spooled")
    assert DecryptingReader(io.BytesIO(out.getvalue()), keys={"scratch": b"k" * 32}).read() == b"spooled"
    with pytest.raises(DecryptionError, match="no configured key has id 'scratch'"):
        open_(out.getvalue())
