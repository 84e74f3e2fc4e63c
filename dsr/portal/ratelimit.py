"""Per-IP rate limits for the portal's forms, counted in Django's cache (shared when it is Redis).

A honeypot field and these limits replace a third-party CAPTCHA: nothing about the person is sent
to another company, and nobody has to solve a puzzle.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.http import HttpRequest

_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"10/hour"`` -> ``(10, 3600)``."""
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip().rstrip("s")]


def client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is set by the client unless a trusted proxy rewrites it.
    return str(request.META.get("REMOTE_ADDR", ""))


def rate_limit_exceeded(*, request: HttpRequest, scope: str, rate: str) -> bool:
    """Count one hit for the client's IP in ``scope``; True once the limit is passed.

    The window is fixed (it starts at the first hit); the IP is hashed so the cache holds none.
    """
    limit, seconds = parse_rate(rate)
    ip = hashlib.sha256(client_ip(request).encode()).hexdigest()[:32]
    key = f"portal-rate:{scope}:{ip}"
    if cache.add(key, 1, timeout=seconds):
        return limit < 1
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=seconds)
        return limit < 1
    return count > limit
