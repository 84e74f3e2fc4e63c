"""One system's records during package assembly: read its part once, redact each record and
spool it to its table's encrypted scratch file (``SystemData``, read by the cover letter too)."""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dsr.exports.parts import BUFFER, ENCODE, part_lines
from dsr.exports.redaction import Redactor, Withheld
from dsr.identity import crypto

if TYPE_CHECKING:
    from dsr.systems.models import System


#: Rows per table shown in index.html; the CSV files and data.json always hold every row.
HTML_ROWS_PER_TABLE = 200
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


class Table:
    """One system's records of one table, spooled to an encrypted scratch file during assembly."""

    def __init__(self, *, scratch: Path, system_key: str, category: str, number: int) -> None:
        self.category = category
        safe = _SAFE_NAME.sub("_", category).strip("._") or f"table-{number}"
        self.csv_path = f"csv/{system_key}/{safe}.csv"
        self.columns: dict[str, None] = {}  # ordered set of every column seen
        self.count = 0
        self._key = os.urandom(32)  # one-off: nobody but this process can read the scratch file
        self._file = tempfile.TemporaryFile(dir=scratch)  # noqa: SIM115 - closed by close() after assembly
        self._writer: io.BufferedWriter | None = io.BufferedWriter(
            crypto.EncryptingWriter(self._file, key_id="scratch", key=self._key), BUFFER
        )

    def add(self, line: bytes) -> None:
        assert self._writer is not None
        self._writer.write(line + b"\n")
        self.count += 1

    def seal(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def lines(self) -> Iterator[bytes]:
        self._file.seek(0)
        reader = io.BufferedReader(crypto.DecryptingReader(self._file, keys={"scratch": self._key}), BUFFER)
        for line in reader:
            yield line.rstrip(b"\n")

    def close(self) -> None:
        self._file.close()


@dataclass
class SystemData:
    system: System
    tables: list[Table] = field(default_factory=list)
    withheld: list[Withheld] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(t.count for t in self.tables)


def spool_system(*, system: System, part_path: str, scratch: Path) -> SystemData:
    """Read one part once: redact each record and route it to its table's scratch file."""
    redactor = Redactor.for_system(system)
    by_category: dict[str, Table] = {}
    result = SystemData(system=system)
    if part_path:
        for category, raw in part_lines(part_path):
            table = by_category.get(category)
            if table is None:
                table = by_category[category] = Table(
                    scratch=scratch, system_key=system.key, category=category, number=len(by_category) + 1
                )
                if any(t.csv_path == table.csv_path for t in by_category.values() if t is not table):
                    # Two names that differ only in characters a file name cannot hold.
                    table.csv_path = table.csv_path.removesuffix(".csv") + f"-{len(by_category)}.csv"
            data = json.loads(raw.decode())  # str: skips json's encoding detection
            if isinstance(data, dict):
                table.columns.update(dict.fromkeys(data))
                redacted = redactor.apply(category, data)
                if redacted is not data:
                    raw = ENCODE(redacted).encode()
            table.add(raw)
    for table in by_category.values():
        table.seal()
    result.tables = sorted(by_category.values(), key=lambda t: t.category)
    result.withheld = redactor.withheld()
    return result
