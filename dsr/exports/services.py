"""Access results and the access package.

Each access job streams the records its connector yields into an encrypted **part** (one JSON line
per record). When every job is done, ``package_build`` turns the parts into one zip:

* ``index.html`` — the cover letter (GDPR Art. 15(1)(a)-(h) and 15(2), generated from the systems
  inventory; for CCPA the categories and the fields held but not disclosed, 11 CCR §7024(d)), then a
  section per system with its records. Self-contained: no external asset, readable on a phone.
* ``data.json`` — every record, grouped by system and table, machine-readable (GDPR Art. 20).
* ``csv/<system>/<table>.csv`` — the same records, one spreadsheet per system and table.
* ``README.txt`` — what is where, in plain text; ``manifest.json`` — size and SHA-256 of each file.

Memory stays flat however many rows a subject has: records are written as they are read, scratch
files live on local disk encrypted under a one-off key held only in memory, and the zip is encrypted
(``dsr.identity.crypto.EncryptingWriter``, chunked AES-GCM) as it is written. Files go through
Django's storage API, so S3-compatible storage works with django-storages.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from connectors import Record
from dsr.audit.services import audit_record
from dsr.exports.cover import cover_context
from dsr.exports.csvsafe import csv_row_safe
from dsr.exports.redaction import Redactor, Withheld
from dsr.identity import crypto

if TYPE_CHECKING:
    from dsr.exports.models import AccessPackage
    from dsr.systems.models import System
    from dsr.workflow.models import ConnectorJob, DataSubjectRequest

#: Rows per table shown in index.html; the CSV files and data.json always hold every row.
HTML_ROWS_PER_TABLE = 200
_BUFFER = 256 * 1024


class _Encoder(DjangoJSONEncoder):
    """Django's encoder (dates, decimals, UUIDs) plus read-only mappings such as ``Record.data``."""

    def default(self, o: Any) -> Any:
        if isinstance(o, Mapping):
            return dict(o)
        return super().default(o)


_ENCODE = _Encoder(ensure_ascii=False, separators=(",", ":")).encode
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


# --- access parts -------------------------------------------------------------------------------


def access_part_write(*, job: ConnectorJob, records: Iterable[Record]) -> tuple[str, dict[str, int]]:
    """Stream the records a connector yields into an encrypted part; return (path, counts per table).

    One line per record: ``<category as JSON>\\t<record id as JSON>\\t<data as JSON>``. Re-running the
    job overwrites its part, so a retried access never duplicates records.
    """
    counts: dict[str, int] = defaultdict(int)
    prefixes: dict[str, bytes] = {}
    with tempfile.TemporaryFile() as sealed:
        with io.BufferedWriter(crypto.EncryptingWriter(sealed), _BUFFER) as plain:
            for record in records:
                prefix = prefixes.get(record.category)
                if prefix is None:
                    prefix = prefixes[record.category] = _ENCODE(record.category).encode() + b"\t"
                plain.write(
                    prefix
                    + _ENCODE(record.record_id).encode()
                    + b"\t"
                    + _ENCODE(dict(record.data)).encode()
                    + b"\n"
                )
                counts[record.category] += 1
        path = f"access-parts/{job.request_id}/{job.system.key}-{job.pk}.jsonl.enc"
        if default_storage.exists(path):
            default_storage.delete(path)
        sealed.seek(0)
        saved = default_storage.save(path, File(sealed, name=path))
    return saved, dict(counts)


def _part_lines(path: str) -> Iterator[tuple[str, bytes]]:
    """(category, data JSON) of each record of a part, decrypted as it is read."""
    categories: dict[bytes, str] = {}
    with default_storage.open(path, "rb") as handle:
        reader = io.BufferedReader(crypto.DecryptingReader(handle), _BUFFER)
        for line in reader:
            raw_category, _, rest = line.partition(b"\t")
            category = categories.get(raw_category)
            if category is None:
                category = categories[raw_category] = str(json.loads(raw_category))
            yield category, rest.partition(b"\t")[2].rstrip(b"\n")


# --- package assembly ---------------------------------------------------------------------------


class _Table:
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
            crypto.EncryptingWriter(self._file, key_id="scratch", key=self._key), _BUFFER
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
        reader = io.BufferedReader(crypto.DecryptingReader(self._file, keys={"scratch": self._key}), _BUFFER)
        for line in reader:
            yield line.rstrip(b"\n")

    def close(self) -> None:
        self._file.close()


@dataclass
class _SystemData:
    system: System
    tables: list[_Table] = field(default_factory=list)
    withheld: list[Withheld] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(t.count for t in self.tables)


def _spool_system(*, system: System, part_path: str, scratch: Path) -> _SystemData:
    """Read one part once: redact each record and route it to its table's scratch file."""
    redactor = Redactor.for_system(system)
    by_category: dict[str, _Table] = {}
    result = _SystemData(system=system)
    if part_path:
        for category, raw in _part_lines(part_path):
            table = by_category.get(category)
            if table is None:
                table = by_category[category] = _Table(
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
                    raw = _ENCODE(redacted).encode()
            table.add(raw)
    for table in by_category.values():
        table.seal()
    result.tables = sorted(by_category.values(), key=lambda t: t.category)
    result.withheld = redactor.withheld()
    return result


class _Entry(io.RawIOBase):
    """A file being written into the zip; counts its size and SHA-256 for the manifest."""

    def __init__(self, archive: zipfile.ZipFile, name: str, manifest: list[dict[str, Any]]) -> None:
        super().__init__()
        self.name = name
        # Sizes are unknown up front; ZIP64 headers keep a file over 2 GiB valid.
        self._target = archive.open(name, "w", force_zip64=True)
        self._manifest = manifest
        self._sha = hashlib.sha256()
        self._size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._sha.update(view)
        self._size += len(view)
        self._target.write(view)
        return len(view)

    def close(self) -> None:
        if not self.closed:
            self._target.close()
            self._manifest.append({"path": self.name, "size": self._size, "sha256": self._sha.hexdigest()})
        super().close()


class _Digest(io.RawIOBase):
    """Passes the plain zip to the encrypting writer, counting its size and SHA-256 on the way."""

    def __init__(self, target: crypto.Writable) -> None:
        super().__init__()
        self._target = target
        self.sha = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self.sha.update(view)
        self.size += len(view)
        self._target.write(view)
        return len(view)


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _write_csv(archive: zipfile.ZipFile, table: _Table, manifest: list[dict[str, Any]]) -> None:
    columns = list(table.columns)
    # utf-8-sig: the byte-order mark makes spreadsheet programs read accents correctly.
    with io.TextIOWrapper(
        io.BufferedWriter(_Entry(archive, table.csv_path, manifest), _BUFFER),
        encoding="utf-8-sig",
        newline="",
    ) as text:
        writer = csv.writer(text)
        writer.writerow(csv_row_safe(columns))  # column names come from the systems too
        for line in table.lines():
            data = json.loads(line.decode())
            if isinstance(data, dict):
                writer.writerow(csv_row_safe(_cell(data.get(c)) for c in columns))
            else:
                writer.writerow(csv_row_safe([_cell(data)]))


def _write_data_json(
    archive: zipfile.ZipFile,
    header: dict[str, Any],
    systems: list[_SystemData],
    manifest: list[dict[str, Any]],
) -> None:
    """data.json, streamed: each record is copied as the JSON line it was spooled as."""
    with io.BufferedWriter(_Entry(archive, "data.json", manifest), _BUFFER) as out:
        out.write(b'{\n"request": ' + _ENCODE(header).encode() + b',\n"systems": {')
        for i, item in enumerate(systems):
            withheld = [
                {"table": w.category, "field": w.field, "kind": w.kind, "count": w.count}
                for w in item.withheld
            ]
            out.write(b"," if i else b"")
            out.write(
                b"\n"
                + _ENCODE(item.system.key).encode()
                + b': {"name": '
                + _ENCODE(item.system.name).encode()
                + b', "withheld": '
                + _ENCODE(withheld).encode()
                + b', "records": {'
            )
            for j, table in enumerate(item.tables):
                out.write((b"," if j else b"") + b"\n  " + _ENCODE(table.category).encode() + b": [")
                for k, line in enumerate(table.lines()):
                    out.write((b",\n    " if k else b"\n    ") + line)
                out.write(b"\n  ]")
            out.write(b"}}")
        out.write(b"\n}\n}\n")


def _html_rows(table: _Table, columns: list[str]) -> list[list[str]]:
    rows = []
    for number, line in enumerate(table.lines()):
        if number >= HTML_ROWS_PER_TABLE:
            break
        data = json.loads(line)
        if not isinstance(data, dict):
            data = {"value": data}
        rows.append(["" if data.get(c) is None else str(_cell(data.get(c))) for c in columns])
    return rows


def _write_text(
    archive: zipfile.ZipFile, name: str, text: str, manifest: list[dict[str, Any]] | None
) -> None:
    if manifest is None:
        archive.writestr(name, text.encode())
        return
    with _Entry(archive, name, manifest) as entry:
        entry.write(text.encode())


def _assemble(
    *, request: DataSubjectRequest, systems: list[_SystemData], generated_at: datetime, out: io.RawIOBase
) -> None:
    """Write the whole zip to ``out`` (not seekable: the zip uses data descriptors)."""
    header = {
        "reference": request.reference,
        "type": request.type,
        "regime": request.regime,
        "received_at": request.received_at,
        "generated_at": generated_at,
    }
    manifest: list[dict[str, Any]] = []
    tables_html = {
        (item.system.key, table.category): {
            "columns": list(table.columns),
            "rows": _html_rows(table, list(table.columns)),
        }
        for item in systems
        for table in item.tables
    }
    with translation.override(request.language):
        context = cover_context(
            request=request, systems=systems, tables_html=tables_html, generated_at=generated_at
        )
        index = render_to_string("exports/index.html", context)
        readme = render_to_string("exports/README.txt", context)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _write_text(archive, "index.html", index, manifest)
        _write_text(archive, "README.txt", readme, manifest)
        _write_data_json(archive, header, systems, manifest)
        for item in systems:
            for table in item.tables:
                _write_csv(archive, table, manifest)
        document = {
            "reference": request.reference,
            "generated_at": generated_at,
            "algorithm": "sha256",
            "files": manifest,
        }
        _write_text(archive, "manifest.json", json.dumps(document, cls=DjangoJSONEncoder, indent=2), None)


def package_build(*, request: DataSubjectRequest) -> AccessPackage:
    """Assemble, encrypt and store the request's package once; later calls return the existing one."""
    from dsr.exports.models import AccessPackage

    existing = AccessPackage.objects.filter(request=request).first()
    if existing is not None:
        return existing
    jobs = list(
        request.jobs.filter(action="access", status="succeeded")
        .select_related("system")
        .order_by("system__name", "system__key")
    )
    generated_at = timezone.now()
    with (
        tempfile.TemporaryDirectory(prefix="dsr-package-") as scratch_dir,
        tempfile.TemporaryFile() as sealed,
    ):
        systems: list[_SystemData] = []
        try:
            # The redaction notices written into the records are in the request's language too.
            with translation.override(request.language):
                for job in jobs:
                    systems.append(
                        _spool_system(system=job.system, part_path=job.result_path, scratch=Path(scratch_dir))
                    )
            encrypted = crypto.EncryptingWriter(sealed)
            digest = _Digest(encrypted)
            _assemble(request=request, systems=systems, generated_at=generated_at, out=digest)
            encrypted.close()
        finally:
            for item in systems:
                for table in item.tables:
                    table.close()
        sealed.seek(0)
        path = default_storage.save(f"packages/{request.pk}.zip.enc", File(sealed, name="package.zip.enc"))
    try:
        with transaction.atomic():
            package = AccessPackage.objects.create(
                request=request,
                path=path,
                size=digest.size,
                sha256=digest.sha.hexdigest(),
                records=sum(item.records for item in systems),
                expires_at=generated_at + settings.DSR_PACKAGE_TTL,
            )
    except IntegrityError:  # built concurrently by another worker; keep theirs
        default_storage.delete(path)
        return AccessPackage.objects.get(request=request)
    for job in jobs:
        if job.result_path and default_storage.exists(job.result_path):
            default_storage.delete(job.result_path)
    return package


# --- reading and purging ------------------------------------------------------------------------


def package_get_current(*, request: DataSubjectRequest) -> AccessPackage:
    """The request's package while it can still be downloaded (raises AccessPackage.DoesNotExist)."""
    from dsr.exports.models import AccessPackage

    return AccessPackage.objects.get(request=request, purged_at__isnull=True, expires_at__gt=timezone.now())


def package_stream(*, package: AccessPackage) -> Iterator[bytes]:
    """The plain zip, decrypted chunk by chunk as it is read from storage.

    Every chunk is authenticated before it is yielded, so an altered file stops the stream instead
    of handing out altered bytes.
    """
    with default_storage.open(package.path, "rb") as handle:
        yield from crypto.DecryptingReader(handle).chunks()


def package_download(*, request: DataSubjectRequest, actor: str) -> tuple[AccessPackage, Iterator[bytes]]:
    """The request's current package and its decrypted chunks; the download is counted and audited.

    Raises ``AccessPackage.DoesNotExist`` when there is none, or it expired or was purged.
    """
    from django.db.models import F

    from dsr.exports.models import AccessPackage

    package = package_get_current(request=request)
    with transaction.atomic():
        AccessPackage.objects.filter(pk=package.pk).update(downloads=F("downloads") + 1)
        audit_record(actor=actor, action="package.downloaded", request_id=request.pk)
    return package, package_stream(package=package)


def package_read(*, request: DataSubjectRequest) -> bytes:
    """The whole plain zip in memory; for tests and small packages. Downloads use ``package_stream``."""
    return b"".join(package_stream(package=package_get_current(request=request)))


def packages_purge_expired(*, batch_size: int = 100) -> int:
    """Delete expired packages from storage and mark them purged; at most ``batch_size`` per call.

    Returns how many were purged. Safe to run on several machines at once (rows are locked with
    SKIP LOCKED) and to re-run after a crash (deleting a missing file is a no-op).
    """
    from dsr.exports.models import AccessPackage

    now = timezone.now()
    due = list(
        AccessPackage.objects.filter(purged_at__isnull=True, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", flat=True)[:batch_size]
    )
    purged = 0
    for pk in due:
        with transaction.atomic():
            package = (
                AccessPackage.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, purged_at__isnull=True)
                .first()
            )
            if package is None:
                continue
            default_storage.delete(package.path)
            package.purged_at = now
            package.save(update_fields=["purged_at"])
            audit_record(
                actor="system",
                action="package.purged",
                request_id=package.request_id,
                data={"expired_at": package.expires_at, "downloads": package.downloads},
            )
            purged += 1
    return purged
