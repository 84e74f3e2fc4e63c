"""Backlog import: requests from a spreadsheet or another tool, as CSV, through the normal intake.

Policy (README "Importing a backlog"): a file is imported **whole or not at all**. Every row is
checked first; if any row is invalid nothing is created and each problem is reported with its row
number (the header is row 1), its column and a message. A dry run does everything a real import
does inside a transaction that is then rolled back, so it shows exactly what would be created.
Rows whose ``external_id`` is already in the database are skipped: importing the same file again
creates nothing new. Every created request goes through ``intake.request_create`` (the one
intake path) and follows the normal workflow from there.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from dsr.audit.services import audit_record
from dsr.errors import RequestInputError
from dsr.workflow import deadlines
from dsr.workflow.intake import request_create, request_types_for
from dsr.workflow.models import UNVERIFIED_TYPES, Channel, DataSubjectRequest, RequestType, Status

REQUIRED_COLUMNS = ("type", "email", "jurisdiction", "received_at", "external_id")
OPTIONAL_COLUMNS = ("name", "details", "channel", "verified", "test")
# The channel a backlog request originally arrived by; "import" when the file does not say.
IMPORT_CHANNELS = (
    Channel.EMAIL,
    Channel.PHONE,
    Channel.MAIL,
    Channel.PORTAL,
    Channel.API,
    Channel.STAFF,
    Channel.IMPORT,
)
MAX_ROWS = 10_000
_TRUE = {"yes", "y", "true", "1", "x"}
_FALSE = {"no", "n", "false", "0", ""}
# request_create's error keys -> the CSV column the person fixes.
_COLUMN_FOR_FIELD = {"full_name": "name", "received_at": "received_at"}


@dataclass(frozen=True)
class RowError:
    row: int  # as in the spreadsheet: the header is row 1, the first request row 2
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.message}"


@dataclass(frozen=True)
class ImportRow:
    row: int
    external_id: str
    type: str
    email: str
    jurisdiction: str
    received_at: datetime
    full_name: str = ""
    details: str = ""
    channel: str = Channel.IMPORT
    verified: bool = False
    test: bool = False


@dataclass(frozen=True)
class RowOutcome:
    """What happened (or, in a dry run, would happen) to one valid row. No identity in here."""

    row: int
    external_id: str
    created: bool  # False: a request with this external_id already exists and was left alone
    reference: str
    type: str
    jurisdiction: str
    received_at: datetime
    due_at: datetime
    status: str
    verified: bool
    test: bool
    received_on: date  # calendar dates in the jurisdiction's timezone, as its deadlines count them
    due_on: date

    @property
    def status_label(self) -> str:
        return str(Status(self.status).label)


@dataclass
class ImportReport:
    dry_run: bool
    rows: list[RowOutcome] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    sha256: str = ""

    @property
    def imported(self) -> bool:
        """True when requests were (or, in a dry run, would be) written: no row had an error."""
        return not self.errors

    @property
    def created(self) -> int:
        return sum(1 for r in self.rows if r.created)

    @property
    def existing(self) -> int:
        return sum(1 for r in self.rows if not r.created)


def _flag(value: str, *, row: int, column: str, errors: list[RowError]) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text not in _FALSE:
        errors.append(RowError(row, column, "Write yes or no (or leave it empty for no)."))
    return False


def _received_at(value: str, *, jurisdiction: str | None) -> datetime:
    """An ISO 8601 date or date-time. A date alone, or a time without an offset, is read in the
    jurisdiction's timezone (the one its deadlines are counted in); raises ValueError."""
    text = value.strip()
    if not text:
        raise ValueError("Enter the date the request was originally received (YYYY-MM-DD).")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"'{text}' is not a date; write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM (ISO 8601)."
        ) from None
    if parsed.tzinfo is None:
        zone = deadlines.zone_for(jurisdiction) if jurisdiction else UTC
        only_date = len(text) == 10
        parsed = (
            datetime.combine(date.fromisoformat(text), time(0, 0), zone)
            if only_date
            else parsed.replace(tzinfo=zone)
        )
    if parsed > timezone.now():
        raise ValueError("The date of receipt lies in the future.")
    return parsed


def _delimiter(header: str) -> str:
    """Comma, or the semicolon (or tab) that spreadsheets in many locales write instead."""
    return max((",", ";", "\t"), key=header.count) if header else ","


def import_parse(*, text: str, allow_verified: bool) -> tuple[list[ImportRow], list[RowError]]:
    """Read and check every row of a CSV file; returns the valid rows and every problem found.

    ``allow_verified``: whether the importer may mark rows as already verified (admins only).
    """
    errors: list[RowError] = []
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text.partition("\n")[0]))
    try:
        header = next(reader)
    except StopIteration:
        return [], [RowError(1, "(file)", "The file is empty; the first row must name the columns.")]
    except csv.Error as exc:
        return [], [RowError(1, "(file)", f"Not a readable CSV file: {exc}")]
    names = [h.strip().lower() for h in header]
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    for name in names:
        if name not in known:
            errors.append(
                RowError(
                    1,
                    name or "(empty)",
                    f"Unknown column; use {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}.",
                )
            )
    for name in REQUIRED_COLUMNS:
        if name not in names:
            errors.append(RowError(1, name, "This column is required."))
    if len(set(names)) != len(names):
        errors.append(RowError(1, "(header)", "A column is named twice."))
    if errors:
        return [], errors

    rows: list[ImportRow] = []
    seen: dict[str, int] = {}
    line = 1
    try:
        for values in reader:
            line += 1
            if not any(v.strip() for v in values):
                continue  # a blank line between rows
            if line - 1 > MAX_ROWS:
                errors.append(RowError(line, "(file)", f"At most {MAX_ROWS} rows per file; split it."))
                break
            if len(values) != len(names):
                errors.append(
                    RowError(line, "(row)", f"Has {len(values)} cells where the header names {len(names)}.")
                )
                continue
            cell = dict(zip(names, values, strict=True))
            row = _parse_row(line, cell, seen=seen, allow_verified=allow_verified, errors=errors)
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        errors.append(RowError(line, "(file)", f"Not a readable CSV row: {exc}"))
    if not rows and not errors:
        errors.append(RowError(2, "(file)", "The file has a header but no requests."))
    return rows, errors


def _parse_row(
    line: int, cell: dict[str, str], *, seen: dict[str, int], allow_verified: bool, errors: list[RowError]
) -> ImportRow | None:
    before = len(errors)

    def bad(column: str, message: str) -> None:
        errors.append(RowError(line, column, message))

    external_id = cell["external_id"].strip()
    if not external_id:
        bad("external_id", "Enter the request's id in the tool it comes from (it makes re-imports safe).")
    elif len(external_id) > 200:
        bad("external_id", "At most 200 characters.")
    elif external_id in seen:
        bad("external_id", f"Already used on row {seen[external_id]} of this file.")
    else:
        seen[external_id] = line

    type_ = cell["type"].strip().lower()
    if type_ not in RequestType.values:
        bad("type", f"'{type_}' is not a request type; use {', '.join(RequestType.values)}.")

    email = cell["email"].strip()
    try:
        if len(email) > 254:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        bad("email", "Enter a valid e-mail address.")

    jurisdiction: str | None = cell["jurisdiction"].strip().upper()
    try:
        deadlines.regime_for(jurisdiction or "")
    except deadlines.UnknownJurisdiction:
        bad("jurisdiction", f"'{jurisdiction}' is not a supported jurisdiction code (DE, FR, US-CA, ...).")
        jurisdiction = None
    if jurisdiction and type_ in RequestType.values and type_ not in request_types_for(jurisdiction):
        bad("type", f"The law of {jurisdiction} does not grant a right of {type_} requests.")

    received_at: datetime | None = None
    try:
        received_at = _received_at(cell["received_at"], jurisdiction=jurisdiction)
    except ValueError as exc:
        bad("received_at", str(exc))

    full_name = cell.get("name", "").strip()
    if len(full_name) > 200:
        bad("name", "At most 200 characters.")
    details = cell.get("details", "").strip()
    if len(details) > 4000:
        bad("details", "At most 4000 characters.")
    if type_ == RequestType.CORRECTION and not details:
        bad("details", "A correction needs details: what is wrong and how it should read.")

    channel = cell.get("channel", "").strip().lower() or Channel.IMPORT
    if channel not in IMPORT_CHANNELS:
        bad("channel", f"'{channel}' is not a channel; use {', '.join(IMPORT_CHANNELS)}.")

    verified = _flag(cell.get("verified", ""), row=line, column="verified", errors=errors)
    if verified and not allow_verified:
        bad("verified", "Only an administrator may import requests as already verified.")
    test = _flag(cell.get("test", ""), row=line, column="test", errors=errors)

    if len(errors) > before or received_at is None or jurisdiction is None:
        return None
    return ImportRow(
        row=line,
        external_id=external_id,
        type=type_,
        email=email,
        jurisdiction=jurisdiction,
        received_at=received_at,
        full_name=full_name,
        details=details,
        channel=channel,
        verified=verified and type_ not in UNVERIFIED_TYPES,
        test=test,
    )


class _RollBack(Exception):
    """Raised inside the import's transaction to undo it (a dry run, or a row that failed)."""


def requests_import(
    *, text: str, actor: str, dry_run: bool, allow_verified: bool, source: str = "csv"
) -> ImportReport:
    """Check and import a CSV backlog, all rows or none (see the module docstring).

    ``actor`` is the audit actor (``staff:alice``, ``command:import_requests``); ``allow_verified``
    whether the ``verified`` column may say yes (``request.import_verified``). Each created request
    is audited by the intake (``request.received`` with its ``external_id``), and the import itself
    as ``requests.imported``, ``requests.import_checked`` (dry run) or ``requests.import_refused``.
    """
    report = ImportReport(dry_run=dry_run, sha256=hashlib.sha256(text.encode()).hexdigest())
    rows, report.errors = import_parse(text=text, allow_verified=allow_verified)
    if not report.errors:
        try:
            with transaction.atomic():
                _create_all(rows, actor=actor, report=report)
                if report.errors or dry_run:
                    raise _RollBack
                _audit(report, actor=actor, source=source, action="requests.imported")
        except _RollBack:
            pass
    if dry_run or report.errors:
        action = "requests.import_refused" if report.errors else "requests.import_checked"
        _audit(report, actor=actor, source=source, action=action)
    return report


def _create_all(rows: list[ImportRow], *, actor: str, report: ImportReport) -> None:
    existing = dict(
        DataSubjectRequest.objects.filter(external_id__in=[r.external_id for r in rows]).values_list(
            "external_id", "pk"
        )
    )
    for row in rows:
        if row.external_id in existing:
            report.rows.append(
                _outcome(row, DataSubjectRequest.objects.get(pk=existing[row.external_id]), False)
            )
            continue
        try:
            created = request_create(
                type=row.type,
                email=row.email,
                jurisdiction=row.jurisdiction,
                full_name=row.full_name,
                details=row.details,
                channel=row.channel,
                received_at=row.received_at,
                external_id=row.external_id,
                is_test=row.test,
                verified_by=actor if row.verified else "",
                actor=actor,
            )
        except RequestInputError as exc:
            for name, message in exc.errors.items():
                report.errors.append(RowError(row.row, _COLUMN_FOR_FIELD.get(name, name), message))
        except IntegrityError:  # imported by someone else a moment ago: same as existing
            found = DataSubjectRequest.objects.get(external_id=row.external_id)
            report.rows.append(_outcome(row, found, False))
        else:
            report.rows.append(_outcome(row, created, True))


def _outcome(row: ImportRow, request: DataSubjectRequest, created: bool) -> RowOutcome:
    return RowOutcome(
        received_on=deadlines.legal_date(jurisdiction=request.jurisdiction, at=request.received_at),
        due_on=deadlines.legal_date(jurisdiction=request.jurisdiction, at=request.due_at),
        row=row.row,
        external_id=row.external_id,
        created=created,
        reference=request.reference,
        type=request.type,
        jurisdiction=request.jurisdiction,
        received_at=request.received_at,
        due_at=request.due_at,
        status=request.status,
        verified=row.verified,
        test=request.is_test,
    )


def _audit(report: ImportReport, *, actor: str, source: str, action: str) -> None:
    data: dict[str, Any] = {
        "source": source,
        "sha256": report.sha256,
        "created": report.created if not report.errors else 0,
        "existing": report.existing,
        "errors": len(report.errors),
        "dry_run": report.dry_run,
        "verified": sum(1 for r in report.rows if r.created and r.verified),
        "test": sum(1 for r in report.rows if r.created and r.test),
    }
    if action == "requests.imported":
        data["external_ids"] = [r.external_id for r in report.rows if r.created][:1000]
    audit_record(actor=actor, action=action, request_id=None, data=data)
