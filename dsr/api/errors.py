"""One error shape for the whole API, ``{"detail": "...", "errors": {field: [messages]}}``.

``exception_handler`` (DRF's ``EXCEPTION_HANDLER``) maps service errors and DRF's own exceptions to
it, so that no known failure becomes a 500 and every 4xx body is the ``Error`` component of the
OpenAPI schema. ``ApiJsonErrorsMiddleware`` covers what never reaches a DRF view -- a URL that does
not resolve (a path segment that is not a UUID), a body over the upload limit, an unhandled
exception -- so ``/api/`` answers JSON in every mode, DEBUG included, never Django's HTML pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from connectors.errors import ConfigError
from connectors.registry import RegistryError
from dsr.errors import RequestInputError
from dsr.identity.services import CodeLocked, ResendRefused, VerificationError
from dsr.workflow.transitions import TransitionNotAllowed

API_PREFIX = "/api/"

# What a status means when nothing more specific was said (the middleware's bodies).
STATUS_DETAIL = {
    400: "Bad request.",
    401: "Authentication credentials were not provided.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    405: "Method not allowed.",
    406: "Could not satisfy the request's Accept header.",
    409: "Conflict.",
    413: "The request body is too large.",
    415: "Unsupported media type.",
    429: "Too many requests.",
    500: "Server error. The failure was logged; try again later.",
}


def error_body(detail: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"detail": detail, "errors": errors or {}}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested ``ValidationError.detail`` as ``{"field" or "field.sub": [messages]}``."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            for name, messages in _flatten(value, f"{prefix}.{key}" if prefix else str(key)).items():
                out.setdefault(name, []).extend(messages)
        return out
    if isinstance(detail, list):
        if any(isinstance(item, dict | list) for item in detail):
            out = {}
            for i, item in enumerate(detail):
                for name, messages in _flatten(item, f"{prefix}.{i}" if prefix else str(i)).items():
                    out.setdefault(name, []).extend(messages)
            return out
        return {prefix or "non_field_errors": [str(item) for item in detail]}
    return {prefix or "non_field_errors": [str(detail)]}


def _summary(errors: dict[str, list[str]]) -> str:
    field, messages = next(iter(errors.items()))
    return messages[0] if field == "non_field_errors" else f"{field}: {messages[0]}"


def _fields(errors: dict[str, str]) -> Response:
    body = {k: [v] for k, v in errors.items()}
    return Response(error_body(_summary(body), body), status=status.HTTP_400_BAD_REQUEST)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestInputError):
        return _fields(exc.errors)
    if isinstance(exc, (CodeLocked, ResendRefused)):
        return Response(error_body(exc.message), status=status.HTTP_429_TOO_MANY_REQUESTS)
    if isinstance(exc, VerificationError):
        return _fields({"code": exc.message})
    if isinstance(exc, TransitionNotAllowed):
        return Response(error_body(str(exc)), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, (ConfigError, RegistryError)):
        return Response(error_body(str(exc)), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        return _fields({"non_field_errors": "; ".join(exc.messages)})
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body(STATUS_DETAIL[413]), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a server error: Django logs it, the middleware answers the JSON 500
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        response.data = error_body(_summary(errors) if errors else "Invalid input.", errors)
    else:
        detail = response.data.get("detail") if isinstance(response.data, dict) else None
        response.data = error_body(str(detail or STATUS_DETAIL.get(response.status_code, "Error.")))
    return response


class ApiJsonErrorsMiddleware:
    """Under ``/api/`` (except the schema and docs pages), turn any error response that is not JSON
    (Django's 404/400/500 pages, debug pages included) into the API's error shape, status kept."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith(API_PREFIX)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code = response.status_code
            if code == 400 and isinstance(getattr(request, "_dsr_exception", None), RequestDataTooBig):
                code = 413
            json_response = JsonResponse(error_body(STATUS_DETAIL.get(code, "Error.")), status=code)
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    json_response[header] = response[header]
            return json_response
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        request._dsr_exception = exception  # type: ignore[attr-defined]
