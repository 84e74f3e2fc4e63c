"""Requests and the per-system jobs that fulfil them."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dsr.identity.fields import EncryptedTextField


class RequestType(models.TextChoices):
    ACCESS = "access", _("Access (see my data)")
    ERASURE = "erasure", _("Erasure (delete my data)")
    CORRECTION = "correction", _("Correction (correct my data)")
    OPT_OUT = "opt_out", _("Opt-out of the sale or sharing of my data")
    MARKETING = "marketing", _("Opt-out of direct marketing")


# Requests that are not "verifiable requests": an opt-out of sale/sharing needs no identity
# verification (11 CCR §7026(d), §7060(b)) and an objection to direct marketing is absolute
# (GDPR Art. 21(3)); both go straight to work without a code or an approval.
UNVERIFIED_TYPES = frozenset({RequestType.OPT_OUT, RequestType.MARKETING})


class Status(models.TextChoices):
    PENDING_VERIFICATION = "pending_verification", _("Waiting for verification")
    AWAITING_APPROVAL = "awaiting_approval", _("Waiting for approval")
    IN_PROGRESS = "in_progress", _("In progress")
    ACTION_REQUIRED = "action_required", _("Action required")
    COMPLETED = "completed", _("Completed")
    DENIED = "denied", _("Denied")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


TERMINAL_STATUSES = frozenset({Status.COMPLETED, Status.DENIED, Status.EXPIRED, Status.CANCELLED})


class DenyReason(models.TextChoices):
    """Reason codes for a denial (GDPR Art. 12(2), 12(5); 11 CCR §7102 breakdown)."""

    UNVERIFIABLE = "unverifiable", _("The identity could not be verified")
    CANNOT_IDENTIFY = "cannot_identify", _("The person cannot be identified in our systems (GDPR Art. 11(2))")
    NOT_A_CONSUMER = "not_a_consumer", _("The requester is not a consumer covered by the law")
    EXEMPT = "exempt", _("An exemption applies")
    EXCESSIVE = "excessive", _("Manifestly unfounded or excessive (GDPR Art. 12(5))")
    OUTSIDE_JURISDICTION = "outside_jurisdiction", _("Outside the law's jurisdiction")
    FRAUD = "fraud", _("Suspected fraud")
    OTHER = "other", _("Other")


class Channel(models.TextChoices):
    API = "api", _("API")
    PORTAL = "portal", _("Web portal")
    STAFF = "staff", _("Entered by staff")
    # Where a request imported from a backlog (``import_requests``) originally came in.
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Telephone")
    MAIL = "mail", _("Postal mail")
    IMPORT = "import", _("Imported")


_REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: easy to read out


def new_reference() -> str:
    body = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"DSR-{body[:4]}-{body[4:]}"


class DataSubjectRequest(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=20, unique=True, default=new_reference, editable=False)
    type = models.CharField(max_length=20, choices=RequestType.choices)
    jurisdiction = models.CharField(max_length=10)
    regime = models.CharField(max_length=20)
    status = models.CharField(
        max_length=30, choices=Status.choices, default=Status.PENDING_VERIFICATION, db_index=True
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.API)
    language = models.CharField(max_length=8, default="en")

    # Identity, encrypted at rest; the blind index finds the same e-mail without decrypting.
    email = EncryptedTextField()
    email_index = models.CharField(max_length=64, db_index=True)
    full_name = EncryptedTextField(blank=True, default="")
    phone = EncryptedTextField(blank=True, default="")

    # The legal clock starts at receipt, not at verification (11 CCR §7021(b)).
    received_at = models.DateTimeField(db_index=True)
    ack_due_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(db_index=True)
    due_explanation = models.TextField(blank=True)
    extended_at = models.DateTimeField(null=True, blank=True)
    # Staff free text, encrypted at rest like identities (it can name the person or their case);
    # audit events refer to the request instead of copying it.
    extension_reason = EncryptedTextField(blank=True, default="")

    verified_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    deny_reason = models.CharField(max_length=30, choices=DenyReason.choices, blank=True)
    deny_message = EncryptedTextField(blank=True, default="")
    cancel_note = EncryptedTextField(blank=True, default="")  # why staff cancelled, if they said
    status_reason = models.TextField(blank=True)  # why the request needs action, in plain words
    identity_purged_at = models.DateTimeField(null=True, blank=True)
    # What the person says is wrong and how it should read (a correction, GDPR Art. 16), encrypted.
    details = EncryptedTextField(blank=True, default="")
    # Sent from a browser with the Global Privacy Control signal (Sec-GPC: 1, 11 CCR §7025).
    gpc_signalled = models.BooleanField(default=False)
    # The request's id in the spreadsheet or tool it was imported from (or a batch intake's id):
    # a second import of the same row finds it and creates nothing.
    external_id = models.CharField(max_length=200, unique=True, null=True, blank=True)
    # A test request (staff-created): connectors run in dry-run mode, nobody is e-mailed, and it
    # is left out of the §7102 metrics and the reports.
    is_test = models.BooleanField(default=False, db_index=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class Action(models.TextChoices):
    ACCESS = "access", _("Access")
    ERASE = "erase", _("Erase")
    CORRECT = "correct", _("Correct")
    OPT_OUT = "opt_out", _("Opt out")


class JobStatus(models.TextChoices):
    BLOCKED = "blocked", _("Waiting for other systems")  # declared erase ordering
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    WAITING = "waiting", _("Waiting for the vendor")  # an asynchronous vendor job to poll
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


JOB_TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


class ConnectorJob(models.Model):
    """One (request, system, action): the unit of work a worker claims."""

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="jobs")
    system = models.ForeignKey("systems.System", on_delete=models.PROTECT, related_name="jobs")
    action = models.CharField(max_length=10, choices=Action.choices)
    status = models.CharField(
        max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)

    records_found = models.PositiveIntegerField(null=True, blank=True)
    records_erased = models.PositiveIntegerField(null=True, blank=True)
    records_retained = models.PositiveIntegerField(null=True, blank=True)
    method = models.CharField(max_length=30, blank=True)
    detail = models.JSONField(default=dict, blank=True)  # per-table counts, retained bases, notes
    external_handle = models.JSONField(null=True, blank=True)  # the vendor's async job, stored first
    result_path = models.CharField(max_length=300, blank=True)  # access records, in storage
    error = models.TextField(blank=True)

    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "system", "action"], name="one_job_per_request_system_action"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.system_id} for {self.request_id}"

    @property
    def kept_records(self) -> list[KeptRecords]:
        """What an erasure kept on purpose, per table or category, with its legal basis and how
        long it is kept (GDPR Art. 17(3), CCPA §1798.105(d)): what the person and staff are told.

        Read from ``detail["retained"]`` as the worker stored it; ``retention`` falls back to the
        system's inventory for jobs finished before it was stored. A count without detail (an old
        job) gives one entry without a category or basis.
        """
        if not self.records_retained:
            return []
        inventory = self.system.retention if self.system_id else ""
        items = [
            KeptRecords(
                system=self.system.name,
                category=str(item.get("category") or ""),
                count=int(item.get("count") or 0),
                basis=str(item.get("basis") or ""),
                retention=str(item.get("retention") or inventory),
            )
            for item in (self.detail or {}).get("retained", [])
            if isinstance(item, dict) and item.get("count")
        ]
        if not items:
            items = [
                KeptRecords(
                    system=self.system.name,
                    category="",
                    count=self.records_retained,
                    basis="",
                    retention=inventory,
                )
            ]
        return items


@dataclass(frozen=True)
class KeptRecords:
    """Records an erasure kept: ``count`` rows of ``category`` in ``system``, why and for how long."""

    system: str
    category: str
    count: int
    basis: str
    retention: str


class AuthorizedAgent(models.Model):
    """Someone who files a request for the person (11 CCR §7063) with the person's signed permission.

    The permission file is stored encrypted through Django's storage; the person still verifies
    their own e-mail address with a code (§7063(a)(2)), and staff check the permission on approval.
    """

    request = models.OneToOneField(DataSubjectRequest, on_delete=models.CASCADE, related_name="agent")
    name = EncryptedTextField()
    email = EncryptedTextField()
    permission_path = models.CharField(max_length=300)
    permission_content_type = models.CharField(max_length=40)
    permission_size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"agent of {self.request_id}"


# --- casework (``dsr.workflow.casework``) ------------------------------------------------------------
# Created by the dashboard app and moved here without moving data: the tables keep their names.


class Assignment(models.Model):
    """The staff member working on a request (at most one)."""

    request = models.OneToOneField(DataSubjectRequest, on_delete=models.CASCADE, related_name="assignment")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    assigned_at = models.DateTimeField()
    assigned_by = models.CharField(max_length=150)

    class Meta:
        db_table = "dashboard_assignment"

    def __str__(self) -> str:
        return f"{self.request_id} -> {self.assignee_id}"


class Note(models.Model):
    """An internal note: never shown to the data subject, never e-mailed."""

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = EncryptedTextField()  # encrypted at rest; the audit event names the note's id only
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "dashboard_note"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note {self.pk} on {self.request_id}"
