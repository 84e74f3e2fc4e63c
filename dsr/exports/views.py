"""The page behind the completion e-mail's link: ask for a fresh code, then download.

Refusals are pages the person can act on: a link that was altered (403), a link or package that
expired (410), and a download attempted without a fresh, correct code (400).
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from dsr import ratelimit
from dsr.exports.download import package_download
from dsr.exports.selectors import package_current
from dsr.identity.models import Purpose
from dsr.identity.services import VerificationError, challenge_check, challenge_issue
from dsr.notifications.models import EmailKind
from dsr.notifications.outbox import email_queue
from dsr.notifications.services import download_token_state
from dsr.workflow.models import DataSubjectRequest
from dsr.workflow.selectors import request_get_for_subject


def package_response(*, dsr: DataSubjectRequest, actor: str) -> StreamingHttpResponse:
    """Stream the decrypted package (memory stays flat however large it is); counted and audited.

    Raises ``AccessPackage.DoesNotExist`` when there is nothing to download; each caller answers
    that in its own way (a JSON 404, a 404 page).
    """
    package, chunks = package_download(request=dsr, actor=actor)
    response = StreamingHttpResponse(chunks, content_type="application/zip")
    response["Content-Length"] = str(package.size)
    response["Content-Disposition"] = f'attachment; filename="{dsr.reference}.zip"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def download_page(request: HttpRequest, request_id: uuid.UUID) -> HttpResponseBase:
    dsr = request_get_for_subject(request_id=request_id)
    token = request.GET.get("token") or request.POST.get("token") or ""
    context = {"dsr": dsr, "token": token, "code_sent": False, "error": "", "state": "ready"}
    state = download_token_state(request_id=str(dsr.pk), token=token)
    if state == "valid" and package_current(request=dsr) is None:
        state = "expired"  # purged, past its expiry, or never built: the link leads nowhere now
    if state != "valid":
        return render(
            request,
            "portal/download.html",
            {**context, "state": state},
            status=403 if state == "invalid" else 410,
        )
    status = 200
    if request.method == "POST":
        # Sending and checking download codes count with the code endpoints of the API and portal.
        if not ratelimit.check(request, action="verify", email_index=dsr.email_index).allowed:
            return render(request, "portal/rate_limited.html", status=429)
        try:
            if request.POST.get("action") == "send":
                with transaction.atomic():
                    issued = challenge_issue(request_id=dsr.pk, purpose=Purpose.DOWNLOAD, resend=True)
                    email_queue(request=dsr, kind=EmailKind.DOWNLOAD_CODE, issued=issued)
                context["code_sent"] = True
            else:
                challenge_check(
                    request_id=dsr.pk, code=request.POST.get("code", ""), purpose=Purpose.DOWNLOAD
                )
                return package_response(dsr=dsr, actor="subject")
        except VerificationError as exc:
            context["error"] = exc.message
            context["code_sent"] = request.POST.get("action") != "send"
            status = 400
    return render(request, "portal/download.html", context, status=status)
