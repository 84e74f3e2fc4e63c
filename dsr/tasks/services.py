"""Tasks: ad-hoc checklist items staff add to a request, and the hand-offs of connectors.

Staff add ad-hoc tasks with :func:`task_create`. For hand-offs this is the platform side of
:mod:`connectors.handoff`: the worker calls :func:`task_open` with the handle a hand-off connector
returned and :func:`task_poll` whenever the waiting job is due. Staff complete every kind of task
with :func:`task_complete` (dashboard and API), processors with :func:`vendor_confirm` (the signed
link of the instruction e-mail). Completing a hand-off stores the result on the task and wakes the
job, so the outcome is still recorded by the worker that holds the job, through the same path as
any connector.
"""

from __future__ import annotations

import csv
import io
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from connectors import ErasureMethod, ErasureResult, JobHandle, PermanentError, Record, TransientError
from connectors.handoff import handoff_kind
from dsr.audit.services import audit_record
from dsr.errors import RequestInputError
from dsr.notifications.services import email_render, email_send
from dsr.staff.roles import has_permission
from dsr.tasks.models import Task, TaskKind, TaskStatus
from dsr.workflow.inputs import InputRejected, json_parse
from dsr.workflow.models import Action, ConnectorJob, DataSubjectRequest, Status

log = logging.getLogger(__name__)

#: Upload limits: a person's export of one system, not a warehouse dump.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_RECORDS = 50_000
DEFAULT_CATEGORY = "records"
#: Methods a person may report for an erasure.
ERASURE_METHODS = (ErasureMethod.DELETED, ErasureMethod.ANONYMISED, ErasureMethod.SUPPRESSED)
_SIGNING_SALT = "dsr.tasks.vendor-confirmation"
_OPEN_REQUEST = (Status.IN_PROGRESS, Status.ACTION_REQUIRED)


class VendorLinkError(Exception):
    """The confirmation link is invalid, expired, or already used; ``message`` says which."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- the worker's side -----------------------------------------------------------------------------


def _assignee(username: str) -> Any:
    """The active staff member named ``username`` who may complete tasks, else None (unassigned)."""
    if not username:
        return None
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    return user if user is not None and has_permission(user, "task.complete") else None


def task_open(*, job: ConnectorJob, handle: JobHandle) -> JobHandle:
    """Open the task a hand-off handle asks for (once per job) and return the handle to store.

    The task is due ``due_days`` from now, or at the request's legal due date if that is earlier.
    A ``vendor_email`` task e-mails the processor here; a failed send raises ``TransientError`` so
    the job retries, and a retry finds the task and sends only what was not sent.
    """
    data = handle.data
    kind = handoff_kind(handle)
    if kind not in TaskKind.values:
        raise PermanentError(f"unknown hand-off kind {kind!r}")
    with transaction.atomic():
        task = Task.objects.select_for_update().filter(job=job).first()
        if task is None:
            now = timezone.now()
            due = min(job.request.due_at, now + timedelta(days=int(data.get("due_days", "7"))))
            wanted = str(data.get("assignee", ""))
            assignee = _assignee(wanted)
            values: dict[str, Any] = {}
            if kind == TaskKind.VENDOR_EMAIL:
                values = {
                    "recipient": str(data["processor_email"]),
                    "recipient_name": str(data.get("processor_name", "")),
                    "link_expires_at": now + timedelta(days=int(data.get("link_valid_days", "14"))),
                }
            task = Task.objects.create(
                job=job,
                request=job.request,
                system=job.system,
                kind=kind,
                action=job.action,
                instructions=str(data.get("instructions", "")),
                assignee=assignee,
                due_at=due,
                **values,
            )
            audit_record(
                actor="worker",
                action="task.opened",
                request_id=job.request_id,
                data={
                    "task": task.pk,
                    "job": job.pk,
                    "system": job.system.key,
                    "kind": kind,
                    "action": job.action,
                    "assignee": assignee.get_username() if assignee else None,
                    "assignee_not_found": wanted if wanted and assignee is None else None,
                    "due_at": task.due_at,
                },
            )
    if task.kind == TaskKind.VENDOR_EMAIL and task.sent_at is None and task.status == TaskStatus.OPEN:
        vendor_email_send(task=task, controller_name=str(data.get("controller_name", "")))
    return handle


def task_poll(
    *, job: ConnectorJob, handle: JobHandle
) -> ErasureResult | JobHandle | tuple[str, dict[str, int]]:
    """The platform's answer to ``poll`` for a hand-off handle.

    Returns the handle again while the task is open; once completed, an ``ErasureResult`` built
    from the person's counts, or for an access the ``(part path, counts)`` of the uploaded data,
    which is what the worker records for any access job.
    """
    task = Task.objects.filter(job=job).first()
    if task is None:  # the task was never opened (e.g. a handle stored by an older version)
        return task_open(job=job, handle=handle)
    if task.status == TaskStatus.OPEN:
        if task.kind == TaskKind.VENDOR_EMAIL and task.sent_at is None:
            vendor_email_send(task=task, controller_name=str(handle.data.get("controller_name", "")))
        return handle
    if task.action == Action.ACCESS:
        return task.result_path, {str(k): int(v) for k, v in task.result_counts.items()}
    found, erased = task.records_found or 0, task.records_erased or 0
    return ErasureResult(
        found=found,
        erased=erased,
        method=ErasureMethod(task.method) if erased else ErasureMethod.NONE,
        per_category={job.system.key: erased} if erased else {},
        # The person's note stays on the task (encrypted); the job's outcome points to it.
        notes=f"Reported by {task.completed_by} (task {task.pk})",
    )


# --- ad-hoc tasks ----------------------------------------------------------------------------------

TITLE_MAX = 200


def task_create(*, request_id: uuid.UUID | str, title: str, actor: str) -> Task:
    """An ad-hoc task on an open request, due when the request is. The audit event names the task
    and its kind; the title stays on the task, encrypted."""
    title = title.strip()
    if not title:
        raise RequestInputError({"title": _("Say what has to be done.")})
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update().get(pk=request_id)
        if request.is_terminal:
            raise RequestInputError({"request": _("A closed request takes no new tasks.")})
        task = Task.objects.create(
            request=request,
            kind=TaskKind.ADHOC,
            title=title[:TITLE_MAX],
            created_by=actor[:150],
            due_at=request.due_at,
        )
        audit_record(
            actor=actor,
            action="task.created",
            request_id=request.pk,
            data={"task": task.pk, "kind": TaskKind.ADHOC},
        )
    return task


# --- completing a task -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """An uploaded access data file: its name (for the format) and its bytes."""

    name: str
    content: bytes


def _check_value(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _check_value(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_value(item, f"{where}[{i}]")
    elif not (value is None or isinstance(value, bool | int | float | str)):
        raise RequestInputError({"file": f"{where}: unsupported value"})


def upload_parse(*, upload: Upload, category: str = DEFAULT_CATEGORY) -> list[Record]:
    """The records of an uploaded JSON or CSV file, validated. Raises ``RequestInputError``.

    JSON: a list of objects (all in ``category``), or an object mapping categories to lists of
    objects. CSV: UTF-8 with a header row; every row becomes one object of ``category``. Empty
    files, rows wider than the header, duplicate or blank column names are refused.
    """
    if len(upload.content) > MAX_UPLOAD_BYTES:
        raise RequestInputError({"file": f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."})
    try:
        text = upload.content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RequestInputError({"file": "The file is not UTF-8 text."}) from None
    name = upload.name.lower()
    category = (category or DEFAULT_CATEGORY).strip() or DEFAULT_CATEGORY
    if name.endswith(".json"):
        records = _parse_json(text, category)
    elif name.endswith(".csv"):
        records = _parse_csv(text, category)
    else:
        raise RequestInputError({"file": "Upload a .json or a .csv file."})
    if not records:
        raise RequestInputError({"file": "The file holds no records; report an empty result instead."})
    if len(records) > MAX_UPLOAD_RECORDS:
        raise RequestInputError({"file": f"The file holds more than {MAX_UPLOAD_RECORDS} records."})
    return records


def _parse_json(text: str, category: str) -> list[Record]:
    try:
        # Strict: NaN/Infinity would make the package's data.json invalid, deep nesting a 500.
        doc = json_parse(text)
    except InputRejected as exc:
        raise RequestInputError({"file": str(exc)}) from None
    groups: dict[str, Any] = doc if isinstance(doc, dict) else {category: doc}
    records: list[Record] = []
    for group, items in groups.items():
        if not isinstance(items, list):
            raise RequestInputError({"file": f"{group}: expected a list of objects"})
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not item:
                raise RequestInputError({"file": f"{group}[{i}]: expected a non-empty object"})
            _check_value(item, f"{group}[{i}]")
            records.append(Record(category=str(group), data=item, record_id=f"{group}-{i + 1}"))
    return records


def _parse_csv(text: str, category: str) -> list[Record]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header or not any(column.strip() for column in header):
            raise RequestInputError({"file": "The CSV file needs a header row."})
        columns = [column.strip() for column in header]
        if any(not column for column in columns):
            raise RequestInputError({"file": "The CSV header has a blank column name."})
        if len(set(columns)) != len(columns):
            raise RequestInputError({"file": "The CSV header names a column twice."})
        records: list[Record] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # blank lines, e.g. at the end of a spreadsheet export
            if len(row) > len(columns):
                raise RequestInputError(
                    {"file": f"Line {reader.line_num}: {len(row)} values for {len(columns)} columns."}
                )
            data = dict(zip(columns, [*row, *[""] * (len(columns) - len(row))], strict=True))
            records.append(Record(category=category, data=data, record_id=f"{category}-{len(records) + 1}"))
    except csv.Error as exc:
        raise RequestInputError({"file": f"Line {reader.line_num}: not valid CSV ({exc})."}) from None
    return records


def task_complete(
    *,
    task_id: int,
    actor: str,
    upload: Upload | None = None,
    category: str = DEFAULT_CATEGORY,
    records_found: int | None = None,
    records_erased: int | None = None,
    method: str = ErasureMethod.DELETED,
    note: str = "",
) -> Task:
    """Complete a task of any kind; returns it. Raises ``RequestInputError`` for invalid input or
    a completed task.

    Ad-hoc: ``note`` is the outcome; nothing else is asked. Hand-offs record a person's result and
    wake the job waiting on the task, so they need an open request. Access: ``upload`` (JSON or
    CSV) is validated and written into the request's encrypted access part, the same part a
    connector's records go to. Erasure: ``records_found``/``records_erased`` (erased <= found), a
    ``method`` and a ``note``. The audit event ``task.completed`` names the kind.
    """
    from dsr.exports.parts import access_part_write
    from dsr.workflow.jobs import job_wake

    note = note.strip()[:4000]
    with transaction.atomic():
        # Lock order: the request row, then the task, then the audit chain.
        request_id = Task.objects.values_list("request_id", flat=True).get(pk=task_id)
        request = DataSubjectRequest.objects.select_for_update().get(pk=request_id)
        task = Task.objects.select_for_update(of=("self",)).select_related("job", "system").get(pk=task_id)
        task.request = request
        if task.status != TaskStatus.OPEN:
            raise RequestInputError({"task": _("This task is already completed.")})
        if not task.is_handoff:
            task.note = note
            task.status = TaskStatus.COMPLETED
            task.completed_by = actor[:254]
            task.completed_at = timezone.now()
            task.save(update_fields=["note", "status", "completed_by", "completed_at", "updated_at"])
            audit_record(
                actor=actor,
                action="task.completed",
                request_id=task.request_id,
                data={"task": task.pk, "kind": task.kind, "has_note": bool(note)},
            )
            return task
        if request.status not in _OPEN_REQUEST:
            raise RequestInputError({"task": _("The request is closed; its tasks cannot be completed.")})
        assert task.job is not None
        assert task.system is not None
        if task.action == Action.ACCESS:
            if upload is None:
                raise RequestInputError({"file": _("Upload the data found, as a JSON or CSV file.")})
            records = upload_parse(upload=upload, category=category)
            task.result_path, task.result_counts = access_part_write(job=task.job, records=records)
            task.records_found = sum(task.result_counts.values())
        else:
            if records_found is None or records_erased is None:
                raise RequestInputError({"records_found": _("Give the records found and erased.")})
            if records_found < 0 or records_erased < 0 or records_erased > records_found:
                raise RequestInputError(
                    {"records_erased": _("Erased must be between 0 and the records found.")}
                )
            if method not in ERASURE_METHODS:
                raise RequestInputError({"method": _("Choose deleted, anonymised or suppressed.")})
            task.records_found, task.records_erased, task.method = records_found, records_erased, method
        task.note = note
        task.status = TaskStatus.COMPLETED
        task.completed_by = actor[:254]
        task.completed_at = timezone.now()
        task.save()
        audit_record(
            actor=actor,
            action="task.completed",
            request_id=task.request_id,
            data={
                "task": task.pk,
                "job": task.job_id,
                "system": task.system.key,
                "kind": task.kind,
                "action": task.action,
                "found": task.records_found,
                "erased": task.records_erased,
                "per_category": task.result_counts or None,
                "has_note": bool(note),  # the text stays on the task, encrypted
            },
        )
        job_id = task.job.pk
        transaction.on_commit(lambda: job_wake(job_id=job_id), robust=True)
    return task


# --- processors: the instruction e-mail and its signed confirmation link ---------------------------


def _legal_basis(*, regime: str, action: str) -> str:
    """The rule that obliges the controller to pass the request on, cited in the instruction."""
    if regime in ("GDPR", "UK_GDPR"):
        if action == Action.ERASE:
            return _("GDPR Art. 17 and Art. 19 (notification of erasure to recipients); Art. 28(3)(e)")
        return _("GDPR Art. 15; your assistance as processor under Art. 28(3)(e)")
    if regime == "CCPA":
        if action == Action.ERASE:
            return _("Cal. Civ. Code §1798.105(c) and 11 CCR §7022(b) (service providers and contractors)")
        return _("Cal. Civ. Code §1798.110 and 11 CCR §7024(i) (service providers and contractors)")
    return _("the data protection law that applies to this request (%(regime)s)") % {"regime": regime}


def vendor_link_token(*, task: Task) -> str:
    """A signed token naming the task and the address it was sent to (expiry checked on use)."""
    return signing.dumps({"task": task.pk, "to": task.recipient.lower()}, salt=_SIGNING_SALT, compress=True)


def vendor_link_url(*, task: Task) -> str:
    return settings.SITE_URL + reverse("vendor-confirm", kwargs={"token": vendor_link_token(task=task)})


def vendor_task_for_token(*, token: str) -> Task:
    """The open ``vendor_email`` task of a confirmation link. Raises ``VendorLinkError``.

    The signature proves the link came from us; the task's ``link_expires_at`` bounds its life (the
    signature's timestamp is checked against the longest validity any config allows, too).
    """
    try:
        payload = signing.loads(token, salt=_SIGNING_SALT, max_age=timedelta(days=61))
    except signing.SignatureExpired:
        raise VendorLinkError(_("This confirmation link has expired.")) from None
    except signing.BadSignature:
        raise VendorLinkError(_("This confirmation link is not valid.")) from None
    task = (
        Task.objects.select_related("request", "system")
        .filter(pk=payload.get("task"), kind=TaskKind.VENDOR_EMAIL)
        .first()
    )
    if task is None or task.recipient.lower() != payload.get("to"):
        raise VendorLinkError(_("This confirmation link is not valid."))
    if task.status != TaskStatus.OPEN:
        raise VendorLinkError(_("This instruction was already confirmed. Thank you."))
    if task.link_expires_at is None or timezone.now() > task.link_expires_at:
        raise VendorLinkError(_("This confirmation link has expired."))
    if task.request.status not in _OPEN_REQUEST:
        raise VendorLinkError(_("This request is closed; no confirmation is needed any more."))
    return task


def vendor_email_send(*, task: Task, controller_name: str = "") -> None:
    """E-mail the processor the instruction with its confirmation link, and note when it was sent.

    The message carries the identities the processor needs to find the person, and nothing else.
    """
    request, system = task.request, task.system
    assert system is not None  # a vendor_email task is a hand-off: it has its job's system
    context = {
        "task": task,
        "request": request,
        "system": system,
        "processor_name": task.recipient_name,
        "controller_name": _controller_name(controller_name),
        "is_erasure": task.action == Action.ERASE,
        "legal_basis": _legal_basis(regime=request.regime, action=task.action),
        "confirm_url": vendor_link_url(task=task),
        "due_at": task.due_at,
        "link_expires_at": task.link_expires_at,
        "subject_email": request.email,
        "subject_name": request.full_name,
        "subject_phone": request.phone,
    }
    title = (
        _("Erasure instruction %(ref)s: please erase a data subject's personal data")
        if task.action == Action.ERASE
        else _("Access instruction %(ref)s: please send a data subject's personal data")
    ) % {"ref": request.reference}
    text, html = email_render(template="vendor_instruction", context=context)
    try:
        email_send(
            subject=title,
            to=task.recipient,
            text=text,
            html=html,
            headers={"X-DSR-Reference": request.reference},
        )
    except OSError as exc:  # SMTP down: the job retries with backoff, the task stays unsent
        raise TransientError(f"could not send the instruction e-mail: {type(exc).__name__}") from None
    now = timezone.now()
    Task.objects.filter(pk=task.pk, sent_at__isnull=True).update(sent_at=now)
    task.sent_at = now
    audit_record(
        actor="worker",
        action="task.vendor_instructed",
        request_id=request.pk,
        data={"task": task.pk, "system": system.key, "to": task.recipient, "action": task.action},
    )


def _controller_name(configured: str) -> str:
    """The configured controller name, else the display name of the sender address."""
    if configured.strip():
        return configured.strip()
    sender = str(settings.DEFAULT_FROM_EMAIL)
    return sender.split("<", 1)[0].strip() or sender


def vendor_confirm(
    *,
    token: str,
    upload: Upload | None = None,
    category: str = DEFAULT_CATEGORY,
    records_found: int | None = None,
    records_erased: int | None = None,
    method: str = ErasureMethod.DELETED,
    note: str = "",
) -> Task:
    """The processor confirms through its signed link: complete the task as ``processor:<address>``."""
    task = vendor_task_for_token(token=token)
    return task_complete(
        task_id=task.pk,
        actor=f"processor:{task.recipient}",
        upload=upload,
        category=category,
        records_found=records_found,
        records_erased=records_erased,
        method=method,
        note=note,
    )
