"""Pages of the staff API: ``?limit`` is capped, so no caller lists the whole table at once, and
limit/offset that cannot be honoured are refused instead of guessed.

DRF's ``LimitOffsetPagination`` ignores a malformed ``limit`` and passes any ``offset`` to the
database, where ``?offset=9223372036854775808`` is "bigint out of range" (a 500). Here both must be
decimal integers (``limit`` at least 1, ``offset`` at least 0) within PostgreSQL's bigint, or the
answer is 400 with the API's error shape. A ``limit`` above ``DSR_API_MAX_PAGE_SIZE`` (default 100)
gives that many rows, not an error (DRF's ``max_limit``), and the schema states the maximum.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
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


class StaffPagination(LimitOffsetPagination):
    """``?limit=&offset=`` pages, validated (400 otherwise) and capped at ``DSR_API_MAX_PAGE_SIZE``."""

    default_limit = settings.REST_FRAMEWORK["PAGE_SIZE"]
    max_limit = settings.DSR_API_MAX_PAGE_SIZE

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
            if parameter["name"] == self.limit_query_param:
                parameter["description"] = (
                    f"Number of results to return per page (default {self.default_limit}, "
                    f"at most {self.max_limit}; a larger value returns {self.max_limit})."
                )
                # Any limit up to bigint is accepted and clamped to the page size (DRF's max_limit).
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": INT8_MAX}
            elif parameter["name"] == self.offset_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 0, "maximum": INT8_MAX}
        return parameters
