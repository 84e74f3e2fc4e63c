"""Dashboard pages for staff intake and troubleshooting: the CSV backlog import, test requests and
the per-request diagnostics bundle. Roles are checked by ``staff_view`` (``dsr.staff.roles``)."""

from __future__ import annotations

import base64
import uuid
import zlib
from typing import Any

from django import forms
from django.contrib import messages
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dsr.dashboard.auth import staff_view
from dsr.dashboard.views import _page
from dsr.identity import crypto
from dsr.staff.roles import has_permission
from dsr.workflow import deadlines
from dsr.workflow.casework import staff_actor
from dsr.workflow.diagnostics import request_diagnostics_export
from dsr.workflow.imports import requests_import
from dsr.workflow.models import Channel, RequestType
from dsr.workflow.selectors import request_get_for_staff
from dsr.workflow.services import RequestInputError, request_create

IMPORT_MAX_BYTES = 1024 * 1024  # larger backlogs: ``manage.py import_requests``
IMPORT_SALT = "dsr.dashboard.import"
IMPORT_PAYLOAD_MAX_AGE = 3600  # the checked file can be imported for an hour after its dry run


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"))


class TestRequestForm(forms.Form):
    type = forms.ChoiceField(label=gettext_lazy("Type"), choices=RequestType.choices)
    email = forms.EmailField(label=gettext_lazy("Test subject's e-mail address"), max_length=254)
    jurisdiction = forms.ChoiceField(label=gettext_lazy("Jurisdiction"), choices=())
    details = forms.CharField(label=gettext_lazy("Details (corrections)"), required=False, max_length=4000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["jurisdiction"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(j.code, f"{j.code} · {j.name}") for j in deadlines.supported_jurisdictions()]


def _seal(text: str) -> str:
    """The checked file, carried in the page between the dry run and the import: compressed,
    encrypted with the identity keys (it holds e-mail addresses) and signed with an expiry."""
    sealed = crypto.encrypt_bytes(zlib.compress(text.encode()))
    return signing.dumps(base64.urlsafe_b64encode(sealed).decode(), salt=IMPORT_SALT)


def _unseal(payload: str) -> str:
    """Raises ``signing.BadSignature`` (also when expired) or ``ValueError``."""
    sealed = signing.loads(payload, salt=IMPORT_SALT, max_age=IMPORT_PAYLOAD_MAX_AGE)
    return zlib.decompress(crypto.decrypt_bytes(base64.urlsafe_b64decode(str(sealed)))).decode()


def _render(request: HttpRequest, *, status: int = 200, **context: Any) -> HttpResponse:
    defaults = {
        "upload_form": ImportUploadForm(),
        "test_form": TestRequestForm(auto_id="test_%s"),
        "report": None,
        "payload": "",
        "max_kb": IMPORT_MAX_BYTES // 1024,
    }
    return _page(request, "dashboard/import.html", {**defaults, **context}, status=status)


def _run_import(request: HttpRequest, text: str, *, dry_run: bool) -> HttpResponse:
    report = requests_import(
        text=text,
        actor=staff_actor(request.user),
        dry_run=dry_run,
        allow_verified=has_permission(request.user, "request.import_verified"),
        source="dashboard",
    )
    payload = ""
    if dry_run and not report.errors and report.created:
        payload = _seal(text)
    if not dry_run and not report.errors:
        messages.success(
            request,
            _("%(created)d requests imported, %(existing)d already imported before.")
            % {"created": report.created, "existing": report.existing},
        )
    return _render(request, report=report, payload=payload, status=400 if report.errors else 200)


@require_http_methods(["GET", "POST"])
@staff_view("request.import")
def import_view(request: HttpRequest) -> HttpResponse:
    """Step 1 (upload): a dry run that shows every row's outcome or every problem. Step 2 (import):
    the file checked in step 1, carried signed in the page, imported all rows or none."""
    if request.method == "GET":
        return _render(request)
    if request.POST.get("step") == "import":
        try:
            text = _unseal(request.POST.get("payload", ""))
        except (signing.BadSignature, ValueError):
            messages.error(request, _("Check the file again (dry run) before importing it."))
            return redirect("dashboard:import")
        return _run_import(request, text, dry_run=False)
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, upload_form=form, status=400)
    upload = form.cleaned_data["file"]
    if upload.size > IMPORT_MAX_BYTES:
        messages.error(
            request,
            _("The file is larger than %(kb)d KB; import it with manage.py import_requests.")
            % {"kb": IMPORT_MAX_BYTES // 1024},
        )
        return _render(request, status=400)
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        messages.error(request, _("The file is not UTF-8 text; save it as CSV UTF-8."))
        return _render(request, status=400)
    return _run_import(request, text, dry_run=True)


@require_POST
@staff_view("request.test")
def test_request_view(request: HttpRequest) -> HttpResponse:
    """Start a test request: the real connectors in dry-run mode, no e-mail, not in the reports."""
    form = TestRequestForm(request.POST, auto_id="test_%s")
    if not form.is_valid():
        return _render(request, test_form=form, status=400)
    try:
        created = request_create(
            type=form.cleaned_data["type"],
            email=form.cleaned_data["email"],
            jurisdiction=form.cleaned_data["jurisdiction"],
            details=form.cleaned_data["details"],
            channel=Channel.STAFF,
            is_test=True,
            actor=staff_actor(request.user),
        )
    except RequestInputError as exc:
        messages.error(request, " ".join(exc.errors.values()))
        return _render(request, test_form=form, status=400)
    messages.success(request, _("Test request %(ref)s started.") % {"ref": created.reference})
    return redirect("dashboard:request", request_id=created.pk)


@require_GET
@staff_view("request.diagnostics")
def request_diagnostics_view(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    dsr = request_get_for_staff(user=request.user, request_id=request_id)
    body = request_diagnostics_export(request=dsr, actor=staff_actor(request.user))
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="diagnostics-{dsr.reference}.json"'
    response["Cache-Control"] = "no-store"
    return response
