"""Input of the dashboard's pages: parsing and validation only, no business logic."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from dsr.staff.models import Role
from dsr.systems.models import System
from dsr.workflow.models import DenyReason, RequestType, Status


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=200)


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("6-digit code from your authenticator app, or a backup code"),
        regex=r"^\s*(\d{3}\s?\d{3}|[A-Za-z2-7]{8})\s*$",
        error_messages={
            "invalid": _(
                "Enter the 6 digits your authenticator app shows, or one of your 8-letter backup codes."
            )
        },
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )


def _blank(choices: Any, label: str) -> list[tuple[str, str]]:
    return [("", label), *[(str(v), str(lbl)) for v, lbl in choices]]


class QueueFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Reference or e-mail"),
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    type = forms.ChoiceField(label=_("Type"), required=False)
    jurisdiction = forms.CharField(label=_("Jurisdiction"), required=False, max_length=10)
    system = forms.ChoiceField(label=_("System"), required=False)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    overdue = forms.BooleanField(label=_("Overdue"), required=False)
    due_soon = forms.BooleanField(label=_("Due within 7 days"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort"), required=False, choices=[("due", _("Due soonest")), ("-due", _("Due latest"))]
    )

    def __init__(self, *args: Any, assignees: list[Any] = (), due_soon_days: int = 7, **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self._choices("status", _blank(Status.choices, str(_("Any status"))))
        # Types come from RequestType, so new types appear here without a change.
        self._choices("type", _blank(RequestType.choices, str(_("Any type"))))
        self._choices(
            "system", _blank(System.objects.order_by("name").values_list("key", "name"), str(_("Any system")))
        )
        self._choices(
            "assignee",
            [
                ("", _("Anyone")),
                ("me", _("Me")),
                ("none", _("Unassigned")),
                *[(u.get_username(), u.get_username()) for u in assignees],
            ],
        )
        self.fields["due_soon"].label = _("Due within %(n)d days") % {"n": due_soon_days}

    def _choices(self, name: str, choices: list[Any]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices


class _RequestIds(forms.MultipleChoiceField):
    """Selected request ids: any UUID (the service looks them up; unknown ones are ignored)."""

    def valid_value(self, value: Any) -> bool:
        try:
            uuid.UUID(str(value))
        except ValueError:
            return False
        return True


class BulkForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("deny", _("Deny")), ("assign", _("Assign"))]
    )
    ids = _RequestIds(required=True, error_messages={"required": _("Select at least one request.")})
    reason = forms.ChoiceField(choices=_blank(DenyReason.choices, "—"), required=False)
    message = forms.CharField(required=False, max_length=5000)
    assignee = forms.CharField(required=False, max_length=150)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "deny":
            if not data.get("reason"):
                self.add_error("reason", _("Choose the reason for the denial."))
            if not (data.get("message") or "").strip():
                self.add_error(
                    "message", _("Explain the denial to the person; the law requires the reasons.")
                )
        return data


class DenyForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=DenyReason.choices)
    message = forms.CharField(
        label=_("Message to the person"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )


class ExtendForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (sent to the person)"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class AssignForm(forms.Form):
    assignee = forms.CharField(label=_("Assignee"), required=False, max_length=150)


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Internal note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000
    )


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Manual task"), max_length=200)


class TaskDoneForm(forms.Form):
    outcome = forms.CharField(label=_("Outcome"), required=False, max_length=2000)


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action"), required=False, max_length=80)
    actor = forms.CharField(label=_("Actor"), required=False, max_length=150)
    reference = forms.CharField(label=_("Request reference"), required=False, max_length=20)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class ReportForm(forms.Form):
    year = forms.IntegerField(label=_("Calendar year"), min_value=2020, max_value=2100, required=False)
    scope = forms.ChoiceField(
        label=_("Requests from"),
        required=False,
        choices=[("ccpa", _("California consumers (CCPA)")), ("all", _("All individuals"))],
    )

    def year_or_default(self, default: int) -> int:
        # The default is chosen by reports.ccpa_default_year (year to date, else the last year).
        return (self.cleaned_data.get("year") if self.is_valid() else None) or default

    def scope_or_default(self) -> str:
        return (self.cleaned_data.get("scope") if self.is_valid() else None) or "ccpa"


class StaffCreateForm(forms.Form):
    username = forms.RegexField(label=_("Username"), regex=r"^[\w.@+-]{1,150}$", max_length=150)
    email = forms.EmailField(label=_("E-mail (for the daily digest)"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    password = forms.CharField(label=_("Initial password"), widget=forms.PasswordInput, max_length=200)


class StaffRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(label=_("Show times in"), required=False)

    def __init__(self, *args: Any, zones: list[str], default: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        label = str(_("Default (%(zone)s)")) % {"zone": default}
        self.fields["time_zone"].choices = [("", label), *[(z, z) for z in zones]]  # type: ignore[attr-defined]
