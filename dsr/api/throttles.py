"""The public API's adapter to the product's one limiter (``dsr.ratelimit``).

A view's ``throttle_scope`` names the limiter's action; the address counted is the posted
``email`` (request creation) or that of the request named in the URL (codes and downloads). The
portal counts on the same counters, so an address the API refused is refused there too.
"""

from __future__ import annotations

import uuid
from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from dsr import ratelimit
from dsr.workflow.models import DataSubjectRequest

ACTION_FOR_SCOPE = {"public_create": "create", "public_verify": "verify"}


class LimiterThrottle(BaseThrottle):
    """Per client IP (``DSR_NUM_PROXIES``) and per e-mail address (its blind index)."""

    def __init__(self) -> None:
        self.retry_after = 0

    def allow_request(self, request: Request, view: Any) -> bool:
        action = ACTION_FOR_SCOPE[str(getattr(view, "throttle_scope", ""))]
        verdict = ratelimit.check(request, action=action, email_index=self._email_index(request, view))
        self.retry_after = verdict.retry_after
        return verdict.allowed

    def wait(self) -> float | None:
        return float(self.retry_after) if self.retry_after else None

    @staticmethod
    def _email_index(request: Request, view: Any) -> str | None:
        request_id = view.kwargs.get("request_id")
        if request_id is not None:
            try:
                pk = uuid.UUID(str(request_id))
            except ValueError:
                return None
            return DataSubjectRequest.objects.filter(pk=pk).values_list("email_index", flat=True).first()
        email = request.data.get("email") if hasattr(request.data, "get") else None
        return ratelimit.email_index_of(email)
