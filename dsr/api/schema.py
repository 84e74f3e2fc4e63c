"""The OpenAPI contract, exact: every status an operation can answer, with its body.

``ApiAutoSchema`` (DRF's ``DEFAULT_SCHEMA_CLASS``) adds to what each view declares the errors that
follow from how the view is built, all with the one ``Error`` body (``dsr/api/errors.py``):

- 400 for an operation that reads a body or query parameters (invalid input, malformed JSON);
- 401 and 403 for staff operations (no or a bad credential; a role without the permission);
- 404 for an operation with path parameters (unknown id, or a segment that is not an id);
- 413 and 415 for an operation with a body (too large; a content type it does not parse);
- 429 for the public operations (throttled per client and per e-mail address);
- 500 for every operation (logged; the body is still ``Error``).

``postprocess_strings`` documents what ``CharField`` enforces beyond length: NUL (U+0000) is refused
everywhere, and a required text must hold more than whitespace (DRF trims it first).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework.generics import ListAPIView

from dsr.api.permissions import StaffPermission
from dsr.api.serializers import ErrorOutput

DESCRIPTIONS = {
    400: "Invalid input: a message per field in `errors`, or a malformed body in `detail`.",
    401: "No credential, or one that is invalid, expired or revoked.",
    403: "The caller's role does not allow this operation.",
    404: "No such object, or a path segment that is not a valid id.",
    405: "The path does not have this method.",
    409: "The request's status does not allow this change.",
    413: "The request body is larger than the server accepts.",
    415: "The body's content type is not one this operation parses.",
    429: "Too many requests: wait for the time in `Retry-After`.",
    500: "Server error; it was logged.",
}

EXAMPLES = {
    404: OpenApiExample("Not found", value={"detail": "Not found.", "errors": {}}, response_only=True),
}

# Text that is not only whitespace and holds no NUL (JSON Schema "pattern" is an ECMA-262 regex).
NON_BLANK = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
NO_NUL = r"^[^\u0000]*$"


def _error(code: int, description: str | None = None) -> OpenApiResponse:
    examples = [EXAMPLES[code]] if code in EXAMPLES else []
    description = description or DESCRIPTIONS.get(code, "")
    return OpenApiResponse(ErrorOutput, description=description, examples=examples)


class ApiAutoSchema(AutoSchema):
    def _is_staff(self) -> bool:
        return any(isinstance(p, StaffPermission) for p in self.view.get_permissions())

    def _reads_input(self) -> bool:
        if self.method in ("POST", "PUT", "PATCH"):
            return self.get_request_serializer() is not None
        return isinstance(self.view, ListAPIView)  # filters and limit/offset in the query

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        bodies: dict[str, Any] = super()._get_response_bodies(direction=direction)
        has_body = self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None
        codes = {500}
        if self._reads_input():
            codes.add(400)
        codes |= {401, 403} if self._is_staff() else {429}
        if "{" in self.path:
            codes.add(404)
        if has_body:
            codes |= {413, 415}
        declared: Any = self.get_response_serializers()
        keys: list[Any] = list(declared) if isinstance(declared, dict) else []
        for key in keys:
            status = key[0] if isinstance(key, tuple) else key
            if isinstance(status, int) and status >= 400:
                codes.add(status)
        for code in sorted(codes):
            # A declared error keeps its description; every error gets the one body.
            description = bodies.get(str(code), {}).get("description") or DESCRIPTIONS.get(code, "")
            bodies[str(code)] = self._get_response_for_code(
                _error(code, description), str(code), direction=direction
            )
        return dict(sorted(bodies.items()))


def postprocess_strings(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Request bodies' and query parameters' free-text strings: the NUL and whitespace rules."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if not name.endswith("Request"):
            continue
        required = set(component.get("required", []))
        for field, prop in component.get("properties", {}).items():
            _constrain(prop, non_blank=field in required and prop.get("minLength", 0) >= 1)
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    _constrain(parameter.get("schema", {}), non_blank=False)
    return result


def _constrain(prop: dict[str, Any], *, non_blank: bool) -> None:
    if prop.get("type") != "string" or "enum" in prop or "format" in prop or "pattern" in prop:
        return
    prop["pattern"] = NON_BLANK if non_blank else NO_NUL
    note = "NUL (U+0000) is refused." + (" Not only whitespace." if non_blank else "")
    prop["description"] = f"{prop['description']} {note}" if prop.get("description") else note
