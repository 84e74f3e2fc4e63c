"""Request bodies are capped before anything reads them.

Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` guards ``request.body`` and form fields, but not file parts
of a multipart body (those spool to a temporary file, however large) nor DRF's JSON parser, which
reads the stream itself. So this middleware refuses, from the ``Content-Length`` header alone and
without reading a byte of the body:

* a multipart body (file uploads: an agent's signed permission, a manual task's data) larger than
  ``DSR_MAX_REQUEST_BYTES``;
* any other body (JSON, a form without files) larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE``.

The answer is 413 with a JSON ``detail`` under ``/api/`` and a short page elsewhere. A body without
``Content-Length`` (chunked) is read by Django as empty, so it cannot get round the cap; the web
server in front (nginx ``client_max_body_size``, see README) should refuse it earlier still.
Uploads under the cap but over their own limit (5 MB permission file, 10 MB task data) get the
field's message: a form error on the portal, a 400 from the API.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import formats
from django.utils.translation import gettext


def body_limit_for(request: HttpRequest) -> int:
    """The largest body, in bytes, that ``request`` may carry."""
    if request.content_type == "multipart/form-data":
        return int(settings.DSR_MAX_REQUEST_BYTES)
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or settings.DSR_MAX_REQUEST_BYTES)


def _megabytes(size: int) -> str:
    """``2.5`` (``2,5`` in German); whole megabytes without decimals."""
    megabytes = size / (1024 * 1024)
    if megabytes == int(megabytes):
        return str(int(megabytes))
    return formats.number_format(round(megabytes, 1), decimal_pos=1, use_l10n=True)


class BodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # as Django reads it: no body
        limit = body_limit_for(request)
        if length > limit:
            message = gettext("The request is too large: at most %(size)s MB can be sent.") % {
                "size": _megabytes(limit)
            }
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": message, "errors": {}}, status=413
                )  # the API's one error shape
            return render(request, "portal/too_large.html", {"message": message}, status=413)
        return self.get_response(request)
