"""The processor's confirmation form (the page behind the instruction e-mail's signed link)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

METHODS = [
    ("deleted", _("Deleted")),
    ("anonymised", _("Anonymised")),
    ("suppressed", _("Suppressed (kept only to prevent re-contact)")),
]


class ErasureConfirmForm(forms.Form):
    records_found = forms.IntegerField(label=_("Records found about the person"), min_value=0)
    records_erased = forms.IntegerField(label=_("Records erased"), min_value=0)
    method = forms.ChoiceField(label=_("How they were erased"), choices=METHODS, initial="deleted")
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=4000, widget=forms.Textarea)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        found, erased = data.get("records_found"), data.get("records_erased")
        if found is not None and erased is not None and erased > found:
            self.add_error("records_erased", _("Cannot be more than the records found."))
        return data


class AccessConfirmForm(forms.Form):
    file = forms.FileField(label=_("The person's data, as a .json or .csv file"))
    category = forms.CharField(label=_("Kind of records (optional)"), required=False, max_length=100)
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=4000, widget=forms.Textarea)
