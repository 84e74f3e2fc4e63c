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
import tempfile
import zipfile
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

from dsr.exports.cover import cover_context
from dsr.exports.csvsafe import csv_row_safe
from dsr.exports.parts import BUFFER, ENCODE
from dsr.exports.spool import HTML_ROWS_PER_TABLE, SystemData, Table, spool_system
from dsr.identity import crypto

if TYPE_CHECKING:
    from dsr.exports.models import AccessPackage
    from dsr.workflow.models import DataSubjectRequest


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


def _write_csv(archive: zipfile.ZipFile, table: Table, manifest: list[dict[str, Any]]) -> None:
    columns = list(table.columns)
    # utf-8-sig: the byte-order mark makes spreadsheet programs read accents correctly.
    with io.TextIOWrapper(
        io.BufferedWriter(_Entry(archive, table.csv_path, manifest), BUFFER),
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
    systems: list[SystemData],
    manifest: list[dict[str, Any]],
) -> None:
    """data.json, streamed: each record is copied as the JSON line it was spooled as."""
    with io.BufferedWriter(_Entry(archive, "data.json", manifest), BUFFER) as out:
        out.write(b'{\n"request": ' + ENCODE(header).encode() + b',\n"systems": {')
        for i, item in enumerate(systems):
            withheld = [
                {"table": w.category, "field": w.field, "kind": w.kind, "count": w.count}
                for w in item.withheld
            ]
            out.write(b"," if i else b"")
            out.write(
                b"\n"
                + ENCODE(item.system.key).encode()
                + b': {"name": '
                + ENCODE(item.system.name).encode()
                + b', "withheld": '
                + ENCODE(withheld).encode()
                + b', "records": {'
            )
            for j, table in enumerate(item.tables):
                out.write((b"," if j else b"") + b"\n  " + ENCODE(table.category).encode() + b": [")
                for k, line in enumerate(table.lines()):
                    out.write((b",\n    " if k else b"\n    ") + line)
                out.write(b"\n  ]")
            out.write(b"}}")
        out.write(b"\n}\n}\n")


def _html_rows(table: Table, columns: list[str]) -> list[list[str]]:
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
    *, request: DataSubjectRequest, systems: list[SystemData], generated_at: datetime, out: io.RawIOBase
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
        systems: list[SystemData] = []
        try:
            # The redaction notices written into the records are in the request's language too.
            with translation.override(request.language):
                for job in jobs:
                    systems.append(
                        spool_system(system=job.system, part_path=job.result_path, scratch=Path(scratch_dir))
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
