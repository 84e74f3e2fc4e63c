"""Portal forms: they parse and check input; the services decide and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from dsr.portal.rights import country_choices, state_choices
from dsr.workflow.models import RequestType

# The identity fields each right needs, and no more (GDPR Art. 5(1)(c); 11 CCR §7060(c)).
FIELDS_FOR_TYPE: dict[str, tuple[str, ...]] = {
    RequestType.ACCESS: ("email", "full_name"),
    RequestType.ERASURE: ("email", "full_name"),
    RequestType.CORRECTION: ("email", "full_name", "details"),
    RequestType.OPT_OUT: ("email",),
    RequestType.MARKETING: ("email",),
}
HONEYPOT_FIELD = "website"


class JurisdictionForm(forms.Form):
    country = forms.ChoiceField(label=_("Country where you live"))
    state = forms.ChoiceField(
        label=_("State (United States only)"),
        required=False,
        help_text=_("Only needed if you live in the United States."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        country, state = self.fields["country"], self.fields["state"]
        assert isinstance(country, forms.ChoiceField)
        assert isinstance(state, forms.ChoiceField)
        country.choices = [("", _("Choose a country")), *country_choices()]
        state.choices = [("", _("Choose a state")), *state_choices()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("country") == "US" and not data.get("state"):
            self.add_error("state", _("Choose the state where you live."))
        return data

    @property
    def jurisdiction(self) -> str:
        country = self.cleaned_data["country"]
        return str(self.cleaned_data["state"]) if country == "US" else str(country)


class RequestForm(forms.Form):
    email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        help_text=_("The address you use with us. We send messages about your request here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    full_name = forms.CharField(
        label=_("Your full name (optional)"),
        max_length=200,
        required=False,
        help_text=_("Helps us find records that are not linked to your e-mail address."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    details = forms.CharField(
        label=_("What is wrong, and how should it read?"),
        max_length=4000,
        help_text=_("For example: my postal address is out of date; it should be 12 Hill Street, Leeds."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    is_agent = forms.BooleanField(
        label=_("I am an authorized agent making this request for someone else"), required=False
    )
    agent_name = forms.CharField(label=_("Agent's name"), max_length=200, required=False)
    agent_email = forms.EmailField(label=_("Agent's e-mail address"), max_length=254, required=False)
    agent_permission = forms.FileField(
        label=_("Signed permission from the person"),
        required=False,
        help_text=_("A PDF, PNG or JPEG file of 5 MB or less, signed by the person you act for."),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"}
        ),
    )
    # A field people never see: bots that fill every input give themselves away (no CAPTCHA).
    website = forms.CharField(label=_("Leave this field empty"), required=False)

    def __init__(self, *args: Any, request_type: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        needed = FIELDS_FOR_TYPE[request_type]
        for name in ("email", "full_name", "details"):
            if name not in needed:
                del self.fields[name]
        self.fields[HONEYPOT_FIELD].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    @property
    def identity_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("email", "full_name", "details") if name in self.fields]

    @property
    def agent_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("agent_name", "agent_email", "agent_permission")]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("is_agent"):
            if not data.get("agent_name"):
                self.add_error("agent_name", _("Enter the agent's name."))
            if not data.get("agent_email") and "agent_email" not in self.errors:
                self.add_error("agent_email", _("Enter the agent's e-mail address."))
            if not data.get("agent_permission") and "agent_permission" not in self.errors:
                self.add_error("agent_permission", _("Upload the signed permission."))
        return data


class VerifyForm(forms.Form):
    code = forms.RegexField(
        label=_("Code from the e-mail"),
        regex=r"^\s*\d{6}\s*$",
        max_length=20,
        help_text=_("6 digits, for example 123456."),
        error_messages={
            "invalid": _("Enter the 6-digit code from the e-mail."),
            "required": _("Enter the 6-digit code from the e-mail."),
        },
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "spellcheck": "false"}
        ),
    )


class StatusLookupForm(forms.Form):
    reference = forms.RegexField(
        label=_("Reference"),
        regex=r"^\s*[Dd][Ss][Rr]-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}\s*$",
        max_length=30,
        help_text=_("It looks like DSR-AB12-CD34 and is in every e-mail about your request."),
        error_messages={
            "invalid": _("Enter the reference as it appears in our e-mails, like DSR-AB12-CD34.")
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


def describe_fields(form: forms.Form) -> None:
    """Point each input at its hint and error (``aria-describedby``) and flag invalid ones, so a
    screen reader announces them with the field (WCAG 1.3.1, 3.3.1)."""
    errors = form.errors if form.is_bound else {}
    for name, field in form.fields.items():
        bound = form[name]
        ids = []
        if field.help_text:
            ids.append(f"{bound.auto_id}_helptext")
        if name in errors:
            ids.append(f"{bound.auto_id}_error")
            field.widget.attrs["aria-invalid"] = "true"
        if ids:
            field.widget.attrs["aria-describedby"] = " ".join(ids)
