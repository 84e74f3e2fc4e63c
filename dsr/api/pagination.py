"""Pages of the staff API: ``?limit`` is capped, so no caller lists the whole table at once."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.pagination import LimitOffsetPagination


class StaffPagination(LimitOffsetPagination):
    """``?limit=&offset=`` pages; a ``limit`` above ``DSR_API_MAX_PAGE_SIZE`` (default 100) gives
    that many rows, not an error (DRF's ``max_limit``), and the schema states the maximum."""

    default_limit = settings.REST_FRAMEWORK["PAGE_SIZE"]
    max_limit = settings.DSR_API_MAX_PAGE_SIZE

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["description"] = (
                    f"Number of results to return per page (default {self.default_limit}, "
                    f"at most {self.max_limit}; a larger value returns {self.max_limit})."
                )
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_limit}
        return parameters
