from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from dsr.staff.roles import has_permission


class StaffPermission(BasePermission):
    """Grants access when the view's ``required_permission`` is held by the user's role."""

    message = "Your role does not allow this."

    def has_permission(self, request: Any, view: Any) -> bool:
        required = getattr(view, "required_permission", None)
        return isinstance(required, str) and has_permission(request.user, required)
