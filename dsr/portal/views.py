"""The data subject's portal. Views parse forms, call a service or selector, and render."""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, get_supported_language_variant, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from dsr import ratelimit
from dsr.errors import RequestInputError
from dsr.exports.selectors import package_current
from dsr.identity.services import (
    CodeExpired,
    CodeInvalid,
    CodeLocked,
    NoActiveCode,
    ResendRefused,
    VerificationError,
)
from dsr.notifications.services import download_token, status_signature
from dsr.portal.context import gpc_signalled, portal
from dsr.portal.forms import (
    HONEYPOT_FIELD,
    JurisdictionForm,
    RequestForm,
    StatusLookupForm,
    VerifyForm,
    describe_fields,
)
from dsr.portal.rights import RIGHTS, rights_offered, suggest_country
from dsr.portal.selectors import (
    request_get_for_status_link,
    request_progress,
    status_explanation,
    status_label,
)
from dsr.portal.services import status_link_request
from dsr.workflow import deadlines
from dsr.workflow.intake import (
    AgentInput,
    not_in_force_message,
    request_create,
    request_resend_code,
    request_types_for,
    request_verify,
)
from dsr.workflow.jurisdiction_names import jurisdiction_name
from dsr.workflow.models import (
    UNVERIFIED_TYPES,
    AuthorizedAgent,
    Channel,
    DataSubjectRequest,
    RequestType,
    Status,
)
from dsr.workflow.selectors import request_get_for_subject
from dsr.workflow.timeline import request_timeline
from dsr.workflow.transitions import TransitionNotAllowed


def _error_summary(
    form: RequestForm | JurisdictionForm | VerifyForm | StatusLookupForm,
) -> list[tuple[str, str]]:
    """(field id, message) pairs for the error summary at the top of the page (WCAG 3.3.1)."""
    summary: list[tuple[str, str]] = []
    for name, errors in form.errors.items():
        target = form[name].id_for_label if name in form.fields else ""
        summary.extend((target, str(message)) for message in errors)
    return summary


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/rate_limited.html", status=429)


def _jurisdiction_or_404(code: str) -> str:
    code = code.upper()
    try:
        deadlines.regime_for(code)
    except deadlines.UnknownJurisdiction:
        raise Http404 from None
    return code


def _status_path(request: DataSubjectRequest) -> str:
    return reverse(
        "portal:status",
        kwargs={"reference": request.reference, "signature": status_signature(reference=request.reference)},
    )


@vary_on_headers("Sec-GPC")
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    """Step 1: where the person lives (suggested from the browser's languages)."""
    if "country" in request.GET:
        form = JurisdictionForm(request.GET)
        if form.is_valid():
            return redirect("portal:rights", jurisdiction=form.jurisdiction)
    else:
        form = JurisdictionForm(
            initial={"country": suggest_country(request.headers.get("Accept-Language", ""))}
        )
    describe_fields(form)
    return render(request, "portal/start.html", {"form": form, "error_summary": _error_summary(form)})


@vary_on_headers("Sec-GPC")
@require_GET
def rights(request: HttpRequest, jurisdiction: str) -> HttpResponse:
    """Step 2: the rights the jurisdiction grants, each with what happens next and by when."""
    jurisdiction = _jurisdiction_or_404(jurisdiction)
    not_in_force = ""
    try:
        offers = rights_offered(jurisdiction)
    except deadlines.NotInForce as exc:  # the state's law takes effect later: nothing to offer yet
        offers, not_in_force = [], not_in_force_message(exc)
    return render(
        request,
        "portal/rights.html",
        {
            "jurisdiction": jurisdiction,
            "jurisdiction_name": jurisdiction_name(jurisdiction),
            "offers": offers,
            "not_in_force": not_in_force,
        },
    )


@never_cache
@vary_on_headers("Sec-GPC")
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest, jurisdiction: str, request_type: str) -> HttpResponse:
    """Step 3: the form for one right, asking only for the identity fields it needs."""
    jurisdiction = _jurisdiction_or_404(jurisdiction)
    if request_type not in request_types_for(jurisdiction):
        raise Http404
    try:
        offer = next(o for o in rights_offered(jurisdiction) if o.type == request_type)
    except deadlines.NotInForce:
        return redirect("portal:rights", jurisdiction=jurisdiction)
    form = RequestForm(request_type=request_type)
    if request.method == "POST":
        if not ratelimit.check(request, action="create").allowed:
            return _too_many(request)
        form = RequestForm(request.POST, request.FILES, request_type=request_type)
        if request.POST.get(HONEYPOT_FIELD):
            form.is_valid()
            form.add_error(HONEYPOT_FIELD, _("Leave this field empty: it is there to catch automated spam."))
        elif form.is_valid():
            data = form.cleaned_data
            # Per address too, on the API's counters: other IPs do not get around a refusal.
            index = ratelimit.email_index_of(data["email"])
            if not ratelimit.check_email(action="create", email_index=index).allowed:
                return _too_many(request)
            agent = None
            if data.get("is_agent"):
                agent = AgentInput(
                    name=data["agent_name"], email=data["agent_email"], permission=data["agent_permission"]
                )
            try:
                created = request_create(
                    type=request_type,
                    email=data["email"],
                    jurisdiction=jurisdiction,
                    full_name=data.get("full_name", ""),
                    details=data.get("details", ""),
                    language=get_supported_language_variant(get_language() or settings.LANGUAGE_CODE),
                    channel=Channel.PORTAL,
                    gpc_signalled=gpc_signalled(request),
                    agent=agent,
                )
            except RequestInputError as exc:
                for field, message in exc.errors.items():
                    form.add_error(field if field in form.fields else None, message)
            else:
                if request_type in UNVERIFIED_TYPES:
                    # The same page for every address: the status page (which says what each
                    # system found) is reached only through the link e-mailed to the address, so
                    # a submitter who does not own it learns nothing (no membership oracle).
                    return redirect("portal:received")
                return redirect("portal:verify", request_id=created.pk)
    describe_fields(form)
    return render(
        request,
        "portal/request_form.html",
        {
            "form": form,
            "error_summary": _error_summary(form),
            "offer": offer,
            "right": RIGHTS[request_type],
            "request_type": request_type,
            "jurisdiction": jurisdiction,
            "jurisdiction_name": jurisdiction_name(jurisdiction),
            "is_opt_out": request_type == RequestType.OPT_OUT,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@never_cache
@require_GET
def received(request: HttpRequest) -> HttpResponse:
    """What the submitter of a request that needs no code sees: static, whoever the address is."""
    return render(request, "portal/received.html")


def _verification_message(exc: VerificationError) -> str:
    """The service's person-safe message, in the page's language."""
    if isinstance(exc, CodeInvalid):
        if exc.remaining:
            return ngettext(
                "That code is not correct. You have %(n)s attempt left.",
                "That code is not correct. You have %(n)s attempts left.",
                exc.remaining,
            ) % {"n": exc.remaining}
        return _("That code is not correct, and no attempts are left. Ask for a new code below.")
    if isinstance(exc, CodeLocked):
        return _("Too many wrong codes: this code is locked. Ask for a new code below.")
    if isinstance(exc, CodeExpired):
        return _("That code has expired. Ask for a new code below.")
    if isinstance(exc, NoActiveCode):
        return _("There is no code waiting for this request. Ask for a new code below.")
    if isinstance(exc, ResendRefused):
        wait = re.search(r"(\d+) seconds", exc.message)
        if wait:
            seconds = int(wait.group(1))
            return ngettext(
                "Please wait %(n)s second before asking for a new code.",
                "Please wait %(n)s seconds before asking for a new code.",
                seconds,
            ) % {"n": seconds}
        return _("We have sent too many codes for this request. Please contact us.")
    return _("The code could not be checked.")


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    """Enter the code from the e-mail, or ask for a new one."""
    dsr = request_get_for_subject(request_id=request_id)
    form = VerifyForm()
    error = ""
    if dsr.status != Status.PENDING_VERIFICATION:
        # Already verified (or closed): the status page is reached from the e-mails only.
        return render(request, "portal/verify.html", {"dsr": dsr, "done": True})
    if request.method == "POST":
        if not ratelimit.check(request, action="verify", email_index=dsr.email_index).allowed:
            return _too_many(request)
        if request.POST.get("action") == "resend":
            try:
                request_resend_code(request_id=dsr.pk)
            except VerificationError as exc:
                error = _verification_message(exc)
            else:
                messages.success(request, _("We sent a new code. It replaces the previous one."))
                return redirect("portal:verify", request_id=dsr.pk)
        else:
            form = VerifyForm(request.POST)
            if form.is_valid():
                try:
                    dsr = request_verify(request_id=dsr.pk, code=form.cleaned_data["code"].strip())
                except VerificationError as exc:
                    error = _verification_message(exc)
                except TransitionNotAllowed:
                    return render(request, "portal/verify.html", {"dsr": dsr, "done": True})
                else:
                    messages.success(request, _("Thank you: your e-mail address is confirmed."))
                    return redirect(_status_path(dsr))
    summary = _error_summary(form)
    if error:
        summary.append(("id_code", error))
    return render(
        request,
        "portal/verify.html",
        {
            "dsr": dsr,
            "form": form,
            "error": error,
            "error_summary": summary,
            "ttl_minutes": int(settings.DSR_CODE_TTL.total_seconds() // 60),
        },
        status=400 if summary else 200,
    )


@never_cache
@require_GET
def status(request: HttpRequest, reference: str, signature: str) -> HttpResponse:
    """The request's status, reached from the link in the e-mails (the reference alone is not enough)."""
    try:
        dsr = request_get_for_status_link(reference=reference, signature=signature)
    except Http404:
        return render(request, "portal/link_invalid.html", status=404)
    download_url = ""
    if (
        dsr.type == RequestType.ACCESS
        and dsr.status == Status.COMPLETED
        and package_current(request=dsr) is not None
    ):
        download_url = (
            reverse("download-page", kwargs={"request_id": dsr.pk}) + "?token=" + download_token(request=dsr)
        )
    return render(
        request,
        "portal/status.html",
        {
            "dsr": dsr,
            "right": RIGHTS.get(dsr.type),
            "jurisdiction_name": jurisdiction_name(dsr.jurisdiction),
            "explanation": status_explanation(request=dsr),
            "status_label": status_label(request=dsr),
            "timeline": request_timeline(request=dsr),
            "progress": request_progress(request=dsr),
            "due_on": deadlines.legal_date(jurisdiction=dsr.jurisdiction, at=dsr.due_at),
            "is_open": not dsr.is_terminal,
            "download_url": download_url,
            "has_agent": AuthorizedAgent.objects.filter(request=dsr).exists(),
            "legal_basis": deadlines.regime_for(dsr.jurisdiction).rule(dsr.type).respond_citation,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def status_lookup(request: HttpRequest) -> HttpResponse:
    """A lost status link: the reference and the e-mail address bring it back by e-mail only."""
    form = StatusLookupForm()
    sent = False
    if request.method == "POST":
        if not ratelimit.check(request, action="verify").allowed:
            return _too_many(request)
        form = StatusLookupForm(request.POST)
        if form.is_valid():
            index = ratelimit.email_index_of(form.cleaned_data["email"])
            if not ratelimit.check_email(action="verify", email_index=index).allowed:
                return _too_many(request)
            status_link_request(reference=form.cleaned_data["reference"], email=form.cleaned_data["email"])
            sent = True
    describe_fields(form)
    return render(
        request,
        "portal/status_lookup.html",
        {"form": form, "sent": sent, "error_summary": _error_summary(form)},
        status=400 if form.is_bound and form.errors else 200,
    )


@require_GET
def brand_css(request: HttpRequest) -> HttpResponse:
    """The brand colour as a stylesheet of our own origin: the content security policy allows no
    inline styles on the portal, and the colour comes from settings (already checked to be hex)."""
    colour = portal(request)["brand"]["color"]
    response = HttpResponse(f":root {{ --brand: {colour}; }}\n", content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    return response
