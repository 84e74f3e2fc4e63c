"""Access parts: each access job streams the records its connector yields into an encrypted part
(one JSON line per record), read back once when the package is assembled."""

from __future__ import annotations

import io
import json
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder

from connectors import Record
from dsr.identity import crypto

if TYPE_CHECKING:
    from dsr.workflow.models import ConnectorJob


BUFFER = 256 * 1024


class _Encoder(DjangoJSONEncoder):
    """Django's encoder (dates, decimals, UUIDs) plus read-only mappings such as ``Record.data``."""

    def default(self, o: Any) -> Any:
        if isinstance(o, Mapping):
            return dict(o)
        return super().default(o)


ENCODE = _Encoder(ensure_ascii=False, separators=(",", ":")).encode


def access_part_write(*, job: ConnectorJob, records: Iterable[Record]) -> tuple[str, dict[str, int]]:
    """Stream the records a connector yields into an encrypted part; return (path, counts per table).

    One line per record: ``<category as JSON>\\t<record id as JSON>\\t<data as JSON>``. Re-running the
    job overwrites its part, so a retried access never duplicates records.
    """
    counts: dict[str, int] = defaultdict(int)
    prefixes: dict[str, bytes] = {}
    with tempfile.TemporaryFile() as sealed:
        with io.BufferedWriter(crypto.EncryptingWriter(sealed), BUFFER) as plain:
            for record in records:
                prefix = prefixes.get(record.category)
                if prefix is None:
                    prefix = prefixes[record.category] = ENCODE(record.category).encode() + b"\t"
                plain.write(
                    prefix
                    + ENCODE(record.record_id).encode()
                    + b"\t"
                    + ENCODE(dict(record.data)).encode()
                    + b"\n"
                )
                counts[record.category] += 1
        path = f"access-parts/{job.request_id}/{job.system.key}-{job.pk}.jsonl.enc"
        if default_storage.exists(path):
            default_storage.delete(path)
        sealed.seek(0)
        saved = default_storage.save(path, File(sealed, name=path))
    return saved, dict(counts)


def part_lines(path: str) -> Iterator[tuple[str, bytes]]:
    """(category, data JSON) of each record of a part, decrypted as it is read."""
    categories: dict[bytes, str] = {}
    with default_storage.open(path, "rb") as handle:
        reader = io.BufferedReader(crypto.DecryptingReader(handle), BUFFER)
        for line in reader:
            raw_category, _, rest = line.partition(b"\t")
            category = categories.get(raw_category)
            if category is None:
                category = categories[raw_category] = str(json.loads(raw_category))
            yield category, rest.partition(b"\t")[2].rstrip(b"\n")
