"""Input and output shapes of the API: one pair per operation, no business logic."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import QueryDict
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.fields import empty

from dsr.audit.models import AuditEvent
from dsr.staff.roles import mask_email
from dsr.workflow.deadlines import supported_jurisdictions
from dsr.workflow.inputs import INT4_MAX, email_problem
from dsr.workflow.models import ConnectorJob, DataSubjectRequest, DenyReason, RequestType, Status

PHONE_RE = re.compile(r"^\+?[0-9 ().-]{6,30}$")


def _jurisdiction_choices() -> list[tuple[str, str]]:
    """The rule table's codes (``jurisdictions.yaml``), exactly as the service accepts them."""
    return [(j.code, f"{j.code}: {j.name}") for j in supported_jurisdictions()]


class DeliverableEmailField(serializers.EmailField):
    """An address that is valid text and can be written into an SMTP envelope (``email_problem``)."""

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, str) and (problem := email_problem(data)):
            raise serializers.ValidationError(problem)
        return str(super().to_internal_value(data))


class StrictInput(serializers.Serializer):
    """An input whose values must have the type the schema documents.

    DRF coerces: ``5`` for a string field, ``"5"`` for an integer, ``"yes"`` or ``1`` for a boolean.
    A JSON body must carry the JSON type itself; a query string or form carries text, so there an
    integer must be digits and a boolean ``true`` or ``false``.
    """

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            from_json = not isinstance(data, QueryDict)
            errors = {}
            for name, field in self.fields.items():
                if not field.read_only and name in data:
                    value = data[name] if from_json else data.get(name)
                    if problem := _type_problem(field, value, from_json=from_json):
                        errors[name] = [problem]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def _type_problem(field: serializers.Field, value: Any, *, from_json: bool) -> str | None:
    if value is None:
        return None  # the field itself answers "may not be null" where null is not allowed
    if not from_json and value == "" and not getattr(field, "allow_blank", False):
        # DRF treats an empty optional query or form value as absent; the schema says it is invalid.
        return "This field may not be blank."
    if isinstance(field, serializers.BooleanField):
        ok = isinstance(value, bool) if from_json else value in ("true", "false")
        return None if ok else "Must be true or false."
    if isinstance(field, serializers.IntegerField):
        ok = (
            isinstance(value, int) and not isinstance(value, bool)
            if from_json
            else isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value) is not None
        )
        return None if ok else "A whole number is required."
    text = isinstance(field, serializers.CharField | serializers.ChoiceField)
    if text and from_json and not isinstance(value, str):
        return "Must be a string."
    # DRF checks max_length after trimming whitespace; the schema's maxLength is of the value sent.
    limit = getattr(field, "max_length", None) if isinstance(field, serializers.CharField) else None
    if limit is not None and isinstance(value, str) and len(value) > limit:
        return f"Ensure this field has no more than {limit} characters."
    return None


class QueryBooleanField(serializers.BooleanField):
    """A boolean query parameter: absent means no filter (DRF's HTML default would be False)."""

    default_empty_html = empty


@extend_schema_serializer(component_name="Error")
class ErrorOutput(serializers.Serializer):
    """Every error of the API: a sentence, and the messages per field for invalid input."""

    detail = serializers.CharField(help_text="What went wrong, in one sentence.")

    def get_fields(self) -> dict[str, serializers.Field]:
        # Added here, not as a class attribute: that would hide ``Serializer.errors``.
        fields = dict(super().get_fields())
        fields["errors"] = serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text='Messages per invalid field ("non_field_errors" for the input as a whole); '
            "empty when the error is not about a field.",
        )
        return fields


class RequestCreateInput(StrictInput):
    type = serializers.ChoiceField(
        choices=RequestType.choices,
        help_text="Which types a jurisdiction grants comes from its rule table; another type is a 400.",
        error_messages={
            "invalid_choice": '"{input}" is not a valid choice. Valid types: '
            + ", ".join(RequestType.values)
            + "."
        },
    )
    email = DeliverableEmailField(max_length=254)
    jurisdiction = serializers.ChoiceField(
        choices=_jurisdiction_choices(),
        help_text="ISO 3166 code of where the person lives.",
        error_messages={"invalid_choice": "'{input}' is not a supported jurisdiction code."},
    )
    full_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    phone = serializers.RegexField(
        PHONE_RE.pattern,
        max_length=30,
        required=False,
        allow_blank=True,
        default="",
        error_messages={"invalid": "Enter a phone number of digits, with an optional leading +."},
    )
    language = serializers.ChoiceField(
        choices=[c for c, _ in settings.LANGUAGES], required=False, default="en"
    )
    details = serializers.CharField(
        max_length=4000,
        required=False,
        allow_blank=True,
        default="",
        help_text="For a correction: what is wrong and how it should read (required for that type).",
    )


class RequestCreatedOutput(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    received_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()


class VerifyInput(StrictInput):
    code = serializers.RegexField(
        r"^\s*\d{6}\s*$", error_messages={"invalid": "Enter the 6-digit code from the e-mail."}
    )


class RequestStatusOutput(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)


class DownloadCodeInput(StrictInput):
    token = serializers.CharField(max_length=500)


class DownloadInput(StrictInput):
    token = serializers.CharField(max_length=500)
    code = serializers.RegexField(
        r"^\s*\d{6}\s*$", error_messages={"invalid": "Enter the 6-digit code from the e-mail."}
    )


class DetailOutput(serializers.Serializer):
    detail = serializers.CharField()


# --- staff --------------------------------------------------------------------------------------


class SystemRefOutput(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()


class JobOutput(serializers.ModelSerializer):
    system = SystemRefOutput()

    class Meta:
        model = ConnectorJob
        fields = [
            "id",
            "system",
            "action",
            "status",
            "attempts",
            "records_found",
            "records_erased",
            "records_retained",
            "method",
            "detail",
            "error",
            "next_attempt_at",
            "started_at",
            "finished_at",
        ]


def mask_text(value: str) -> str:
    """A name or phone number as every list and detail shows it: ``***`` when there is one."""
    return "***" if value else ""


class _IdentityMixin(serializers.Serializer):
    """Identities are masked for every role (as on the dashboard); ``POST .../reveal`` gives them in
    clear to roles with ``request.reveal_identity``, one audit event per reveal."""

    email = serializers.SerializerMethodField(help_text="Masked: j******@example.com")

    def get_email(self, obj: DataSubjectRequest) -> str:
        return mask_email(obj.email)


class RequestListOutput(_IdentityMixin, serializers.ModelSerializer):
    jobs_total = serializers.SerializerMethodField()
    jobs_done = serializers.SerializerMethodField()

    class Meta:
        model = DataSubjectRequest
        fields = [
            "id",
            "reference",
            "type",
            "jurisdiction",
            "regime",
            "status",
            "email",
            "received_at",
            "due_at",
            "closed_at",
            "jobs_total",
            "jobs_done",
        ]

    def get_jobs_total(self, obj: DataSubjectRequest) -> int:
        return len(obj.jobs.all())

    def get_jobs_done(self, obj: DataSubjectRequest) -> int:
        return sum(1 for job in obj.jobs.all() if job.status == "succeeded")


class PackageOutput(serializers.Serializer):
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    records = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    downloads = serializers.IntegerField()


class AgentMaskedOutput(serializers.Serializer):
    name = serializers.SerializerMethodField(help_text="Masked: ***")
    email = serializers.SerializerMethodField(help_text="Masked: j******@example.com")

    def get_name(self, agent: Any) -> str:
        return mask_text(agent.name)

    def get_email(self, agent: Any) -> str:
        return mask_email(agent.email)


class RequestDetailOutput(_IdentityMixin, serializers.ModelSerializer):
    full_name = serializers.SerializerMethodField(help_text="Masked: *** when given")
    phone = serializers.SerializerMethodField(help_text="Masked: *** when given")
    agent = serializers.SerializerMethodField(help_text="The authorized agent who filed it, masked")
    jobs = JobOutput(many=True)
    package = serializers.SerializerMethodField()

    class Meta:
        model = DataSubjectRequest
        fields = [
            "id",
            "reference",
            "type",
            "jurisdiction",
            "regime",
            "status",
            "status_reason",
            "channel",
            "language",
            "email",
            "full_name",
            "phone",
            "agent",
            "received_at",
            "ack_due_at",
            "due_at",
            "due_explanation",
            "verified_at",
            "approved_at",
            "closed_at",
            "deny_reason",
            "deny_message",
            "cancel_note",
            "extension_reason",
            "jobs",
            "package",
        ]

    def get_full_name(self, obj: DataSubjectRequest) -> str:
        return mask_text(obj.full_name)

    def get_phone(self, obj: DataSubjectRequest) -> str:
        return mask_text(obj.phone)

    @extend_schema_field(AgentMaskedOutput(allow_null=True))
    def get_agent(self, obj: DataSubjectRequest) -> dict[str, Any] | None:
        agent = getattr(obj, "agent", None)
        return dict(AgentMaskedOutput(agent).data) if agent is not None else None

    def get_package(self, obj: DataSubjectRequest) -> dict[str, Any] | None:
        package = getattr(obj, "package", None)
        if package is None or package.purged_at:
            return None
        return dict(PackageOutput(package).data)


class AgentIdentityOutput(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.CharField()


class IdentityOutput(serializers.Serializer):
    """The identity in clear, from ``POST .../reveal`` (audited as ``request.identity_revealed``)."""

    reference = serializers.CharField()
    email = serializers.CharField()
    full_name = serializers.CharField()
    phone = serializers.CharField()
    agent = AgentIdentityOutput(allow_null=True)


class DenyInput(StrictInput):
    reason = serializers.ChoiceField(choices=DenyReason.choices)
    message = serializers.CharField(max_length=5000)


class CancelInput(StrictInput):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AuditEventOutput(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "created_at", "actor", "action", "data", "prev_hash", "hash"]


class RequestFilterInput(StrictInput):
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    type = serializers.ChoiceField(choices=RequestType.choices, required=False)
    jurisdiction = serializers.ChoiceField(choices=_jurisdiction_choices(), required=False)
    overdue = QueryBooleanField(required=False)
    due_before = serializers.DateTimeField(required=False)
    email = DeliverableEmailField(required=False, max_length=254)
    reference = serializers.CharField(max_length=20, required=False)


# --- staff operations added with the dashboard (extend, assign, notes) -------------------------


class ExtendInput(StrictInput):
    reason = serializers.CharField(
        max_length=2000, help_text="Why more time is needed; sent to the person in the extension notice."
    )


class ExtendedOutput(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    due_at = serializers.DateTimeField()
    due_explanation = serializers.CharField()
    extended_at = serializers.DateTimeField()
    extension_reason = serializers.CharField()


class AssignInput(StrictInput):
    assignee = serializers.CharField(
        max_length=150,
        allow_blank=True,
        allow_null=True,
        help_text="A staff username; empty or null unassigns.",
    )


class AssignmentOutput(serializers.Serializer):
    reference = serializers.CharField()
    assignee = serializers.CharField(allow_null=True)


class NoteInput(StrictInput):
    body = serializers.CharField(max_length=10000)


class NoteOutput(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.CharField(source="author.username")
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


# --- tasks: ad-hoc, and the manual and vendor_email hand-offs ------------------------------------


class TaskOutput(serializers.Serializer):
    """A task of any kind. Ad-hoc tasks have a ``title`` and no system, job or action."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    action = serializers.CharField(help_text='Hand-offs: "access" or "erase"; empty for ad-hoc tasks')
    status = serializers.CharField()
    request_id = serializers.UUIDField()
    reference = serializers.CharField(source="request.reference")
    system = SystemRefOutput(allow_null=True)
    job_id = serializers.IntegerField(allow_null=True)
    job_status = serializers.SerializerMethodField()
    title = serializers.CharField(help_text="Ad-hoc: what has to be done")
    created_by = serializers.CharField(help_text="Ad-hoc: who added the task")
    instructions = serializers.CharField()
    assignee = serializers.SerializerMethodField()
    due_at = serializers.DateTimeField()
    recipient = serializers.CharField(help_text="vendor_email: the processor's address")
    sent_at = serializers.DateTimeField(allow_null=True)
    link_expires_at = serializers.DateTimeField(allow_null=True)
    records_found = serializers.IntegerField(allow_null=True)
    records_erased = serializers.IntegerField(allow_null=True)
    method = serializers.CharField()
    note = serializers.CharField()
    result_counts = serializers.DictField(child=serializers.IntegerField())
    completed_by = serializers.CharField()
    completed_at = serializers.DateTimeField(allow_null=True)

    def get_assignee(self, task: Any) -> str | None:
        return task.assignee.get_username() if task.assignee_id else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_job_status(self, task: Any) -> str | None:
        return task.job.status if task.job_id else None


class TaskFilterInput(StrictInput):
    status = serializers.ChoiceField(choices=["open", "completed"], required=False)
    kind = serializers.ChoiceField(choices=["adhoc", "manual", "vendor_email"], required=False)
    assignee = serializers.CharField(
        required=False, allow_blank=True, help_text='A username; "me" for yourself; empty for unassigned.'
    )


class TaskCompleteJsonInput(StrictInput):
    """An erasure report as JSON: ``records_found``, ``records_erased`` and a ``note`` (an access
    task's file is uploaded as multipart/form-data, ``TaskCompleteInput``)."""

    category = serializers.CharField(
        required=False, default="records", max_length=100, help_text="Access: the records' category"
    )
    # Bounded to their int4 columns (PositiveIntegerField).
    records_found = serializers.IntegerField(required=False, min_value=0, max_value=INT4_MAX)
    records_erased = serializers.IntegerField(required=False, min_value=0, max_value=INT4_MAX)
    method = serializers.ChoiceField(
        choices=["deleted", "anonymised", "suppressed"], required=False, default="deleted"
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class TaskCompleteInput(TaskCompleteJsonInput):
    """Access: ``file`` (JSON or CSV). Erasure: ``records_found``, ``records_erased`` and a ``note``."""

    file = serializers.FileField(required=False, help_text="Access: the data found, as .json or .csv")
