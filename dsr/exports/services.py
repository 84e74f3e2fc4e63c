"""Access results: each access job stores its records as an encrypted part; when every job is
done the parts become one zip (``data.json``, one CSV per system and table, ``README.txt``),
stored encrypted through Django's storage API."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from connectors import Record
from dsr.identity import crypto

if TYPE_CHECKING:
    from dsr.workflow.models import ConnectorJob, DataSubjectRequest


def access_part_write(*, job: ConnectorJob, records: Iterable[Record]) -> tuple[str, dict[str, int]]:
    """Write the records a connector yields to an encrypted part file; return (path, counts).

    Re-running the job overwrites its part, so a retried access never duplicates records.
    """
    counts: dict[str, int] = defaultdict(int)
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as buffer:
        for record in records:
            line = {"category": record.category, "id": record.record_id, "data": dict(record.data)}
            buffer.write(json.dumps(line, cls=DjangoJSONEncoder).encode() + b"\n")
            counts[record.category] += 1
        buffer.seek(0)
        blob = crypto.encrypt_bytes(buffer.read())
    path = f"access-parts/{job.request_id}/{job.system.key}-{job.pk}.jsonl.enc"
    if default_storage.exists(path):
        default_storage.delete(path)
    saved = default_storage.save(path, ContentFile(blob))
    return saved, dict(counts)


def _read_part(path: str) -> Iterator[dict[str, Any]]:
    with default_storage.open(path, "rb") as handle:
        plain = crypto.decrypt_bytes(handle.read())
    for line in plain.splitlines():
        if line:
            yield json.loads(line)


def _csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in row.items()})
    return out.getvalue().encode()


def package_build(*, request: DataSubjectRequest) -> Any:
    """Assemble and store the request's package once; later calls return the existing one."""
    from django.conf import settings

    from dsr.exports.models import AccessPackage

    existing = AccessPackage.objects.filter(request=request).first()
    if existing is not None:
        return existing
    jobs = list(
        request.jobs.filter(action="access", status="succeeded")
        .select_related("system")
        .order_by("system__key")
    )
    data: dict[str, Any] = {
        "request": {
            "reference": request.reference,
            "type": request.type,
            "received_at": request.received_at,
            "generated_at": timezone.now(),
        },
        "systems": {},
    }
    zip_buffer = io.BytesIO()
    total = 0
    with zipfile.ZipFile(zip_buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        summary = []
        for job in jobs:
            categories: dict[str, list[dict[str, Any]]] = defaultdict(list)
            if job.result_path:
                for line in _read_part(job.result_path):
                    categories[line["category"]].append(line["data"])
            data["systems"][job.system.key] = {"name": job.system.name, "records": dict(categories)}
            for category, rows in sorted(categories.items()):
                archive.writestr(f"csv/{job.system.key}/{category}.csv", _csv_bytes(rows))
                total += len(rows)
            summary.append(
                {"system": job.system, "counts": {c: len(r) for c, r in sorted(categories.items())}}
            )
        archive.writestr("data.json", json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False))
        readme = render_to_string(
            "exports/README.txt", {"request": request, "summary": summary, "total": total}
        )
        archive.writestr("README.txt", readme)
    plain = zip_buffer.getvalue()
    path = default_storage.save(f"packages/{request.pk}.zip.enc", ContentFile(crypto.encrypt_bytes(plain)))
    try:
        with transaction.atomic():
            package = AccessPackage.objects.create(
                request=request,
                path=path,
                size=len(plain),
                sha256=hashlib.sha256(plain).hexdigest(),
                records=total,
                expires_at=timezone.now() + settings.DSR_PACKAGE_TTL,
            )
    except IntegrityError:  # built concurrently by another worker; keep theirs
        default_storage.delete(path)
        return AccessPackage.objects.get(request=request)
    for job in jobs:
        if job.result_path and default_storage.exists(job.result_path):
            default_storage.delete(job.result_path)
    return package


def package_read(*, request: DataSubjectRequest) -> bytes:
    """The plain zip bytes of the request's package (raises AccessPackage.DoesNotExist)."""
    from dsr.exports.models import AccessPackage

    package = AccessPackage.objects.get(request=request, purged_at__isnull=True)
    with default_storage.open(package.path, "rb") as handle:
        return crypto.decrypt_bytes(handle.read())
