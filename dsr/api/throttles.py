"""Public API throttles per e-mail address, next to DRF's per-IP ``ScopedRateThrottle``.

The key is the address's blind index (HMAC under ``DSR_BLIND_INDEX_KEY``), so the cache never holds
an address. A limit applies to any address, known or not: being throttled reveals nothing about
whether we hold someone's data.
"""

from __future__ import annotations

import uuid
from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

from dsr.workflow.inputs import email_problem
from dsr.workflow.models import DataSubjectRequest
from dsr.workflow.services import email_blind_index


def _rate(scope: str | None) -> str | None:
    rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope or "")
    return None if rate is None else str(rate)


class IpRateThrottle(ScopedRateThrottle):
    """DRF's per-client-IP scoped throttle, reading its rates when asked rather than at import
    (DRF copies ``DEFAULT_THROTTLE_RATES`` into a class attribute once)."""

    def get_rate(self) -> str | None:
        return _rate(self.scope)


class EmailRateThrottle(SimpleRateThrottle):
    """``<view.throttle_scope>_email`` requests per period per address.

    The address is the posted ``email`` (request creation) or that of the request named in the
    URL (codes and downloads). Without one (invalid input, unknown request) nothing is counted
    here; the per-IP throttle still is.
    """

    def __init__(self) -> None:  # the scope is only known per view, in allow_request
        pass

    def allow_request(self, request: Request, view: Any) -> bool:
        self.scope = f"{getattr(view, 'throttle_scope', '')}_email"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_rate(self) -> str | None:
        return _rate(self.scope)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        index = self._email_index(request, view)
        if not index:
            return None
        return self.cache_format % {"scope": self.scope, "ident": index}

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
        if not isinstance(email, str) or "@" not in email or len(email) > 320:
            return None
        if email_problem(email):  # a lone surrogate cannot be hashed; the serializer answers 400
            return None
        return email_blind_index(email)
