"""Limit/offset pagination that refuses what it cannot honour instead of guessing.

DRF's ``LimitOffsetPagination`` ignores a malformed ``limit`` and passes any ``offset`` to the
database, where ``?offset=9223372036854775808`` is "bigint out of range" (a 500). Here both must be
decimal integers (``limit`` at least 1, ``offset`` at least 0) within PostgreSQL's bigint, or the
answer is 400 with the API's error shape. A ``max_limit`` (the page-size cap) still clamps ``limit``.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

from dsr.workflow.inputs import INT8_MAX


def _bounded(request: Request, name: str, *, minimum: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or not minimum <= int(raw) <= INT8_MAX:
        raise ValidationError({name: [f"Enter a whole number from {minimum} to {INT8_MAX}."]})
    return int(raw)


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    def get_limit(self, request: Request) -> int | None:
        limit = _bounded(request, self.limit_query_param, minimum=1)
        if limit is None:
            return self.default_limit
        return min(limit, self.max_limit) if self.max_limit else limit

    def get_offset(self, request: Request) -> int:
        return _bounded(request, self.offset_query_param, minimum=0) or 0

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            minimum = 1 if parameter["name"] == self.limit_query_param else 0
            maximum = self.max_limit or INT8_MAX
            if parameter["name"] == self.offset_query_param:
                maximum = INT8_MAX
            parameter["schema"] = {"type": "integer", "minimum": minimum, "maximum": maximum}
        return parameters
