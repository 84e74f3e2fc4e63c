"""The one inbound rate limiter of the whole product: public API, portal forms, the download page,
the dashboard's and the Django admin's sign-in.

Every surface asks :func:`check` (or :func:`login_attempt`) with an *action* and, where it knows
one, the person's e-mail address as its blind index. Each action has a limit per client IP (an
IPv6 client counts per /64, the block one subscriber gets) and a limit per e-mail address, so
neither many IPs against one person nor one IP against many people get further than the limits.
The API and the portal count on the same counters: an address the API refused is refused by the
portal too, from any IP.

Counters live in Django's cache (``CACHE_URL``; production needs a cache every web process
shares, such as Redis, and ``check --deploy`` warns otherwise). A counter is incremented first
and compared afterwards (``cache.add`` then ``cache.incr``, both atomic in Redis and in the local
memory cache), so a burst of concurrent requests cannot overshoot a limit: the n-th request of a
window sees n. Windows are fixed and aligned to the clock (a key per window), so a counter never
needs to be reset and a stale key simply expires.

The client IP is :func:`client_ip`: ``REMOTE_ADDR``, unless ``DSR_NUM_PROXIES`` says how many
proxies in front of the app append to ``X-Forwarded-For`` (a client can send any header it likes,
so without proxies the header is ignored).
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from connectors.types import normalise_email
from dsr.identity import crypto

IPV6_PREFIX = 64  # one subscriber's block: counting single IPv6 addresses would be no limit at all
EMAIL_MAX_LENGTH = 320

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour|d|day)s?\s*$")


@dataclass(frozen=True)
class Rate:
    """``limit`` hits per ``seconds``."""

    limit: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"10/hour"``, ``"5/15min"``, ``"60/m"`` -> ``Rate``; raises ``ValueError`` otherwise."""
        match = _RATE_RE.match(text)
        if match is None:
            raise ValueError(f"not a rate: {text!r} (use count/period, e.g. 10/hour or 5/15min)")
        count, multiple, unit = match.groups()
        seconds = int(multiple or 1) * _UNITS[unit[0]]
        if seconds < 1:
            raise ValueError(f"not a rate: {text!r}")
        return cls(limit=int(count), seconds=seconds)


@dataclass(frozen=True)
class Verdict:
    """The answer for one request: allowed or not, and when the refusing window ends."""

    allowed: bool
    retry_after: int = 0  # seconds


ALLOWED = Verdict(allowed=True)


# --- who is asking ----------------------------------------------------------------------------------


def _valid_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The client's IP address as the limiter, the audit log and the sign-in pages see it.

    ``REMOTE_ADDR`` when ``DSR_NUM_PROXIES`` is 0 (the default). With N trusted proxies, each of
    which appends the address it received the request from to ``X-Forwarded-For``, the client is
    the N-th entry from the right; entries further left were written by the client and are never
    trusted. A malformed entry falls back to ``REMOTE_ADDR``.
    """
    remote = str(request.META.get("REMOTE_ADDR", "") or "")
    proxies = int(settings.DSR_NUM_PROXIES)
    if proxies > 0:
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", "") or "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            address = _valid_ip(hops[-min(proxies, len(hops))])
            if address is not None:
                return str(address)
    address = _valid_ip(remote)
    return str(address) if address is not None else remote


def ip_bucket(ip: str) -> str:
    """What one IP counts against: the IPv4 address, or the /64 network of an IPv6 address (an
    IPv4-mapped IPv6 address counts as its IPv4 address)."""
    address = _valid_ip(ip)
    if address is None:
        return ip or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


def email_index_of(value: object) -> str | None:
    """The blind index of an e-mail address, or None when ``value`` cannot be one (not a string,
    no ``@``, too long, or not encodable such as a lone surrogate): then only the IP is counted."""
    if not isinstance(value, str) or "@" not in value or len(value) > EMAIL_MAX_LENGTH:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return crypto.blind_index(normalise_email(value), purpose="email")


# --- counters ---------------------------------------------------------------------------------------


def _key(scope: str, ident: str, rate: Rate, now: float) -> tuple[str, int]:
    """The cache key of the current window (the identity hashed: the cache holds no IP or
    address) and the seconds until the window ends."""
    window = int(now // rate.seconds)
    digest = hashlib.sha256(f"{scope}\x00{ident}".encode()).hexdigest()[:32]
    remaining = max(1, int((window + 1) * rate.seconds - now))
    return f"dsr:rl:{scope}:{rate.seconds}:{window}:{digest}", remaining


def _increment(key: str, timeout: int) -> int:
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # evicted between add and incr: start the window's count again
        cache.add(key, 0, timeout=timeout)
        return int(cache.incr(key))


def hit(*, scope: str, ident: str, rate: Rate) -> Verdict:
    """Count one hit of ``ident`` in ``scope`` and say whether it is within ``rate``."""
    now = time.time()
    key, remaining = _key(scope, ident, rate, now)
    # The key outlives its window by a whole window: no increment can recreate it without expiry.
    count = _increment(key, timeout=2 * rate.seconds + 1)
    return ALLOWED if count <= rate.limit else Verdict(allowed=False, retry_after=remaining)


def refund(*, scope: str, ident: str, rate: Rate) -> None:
    """Take back one hit of the current window (an attempt that turned out not to count)."""
    key, _ = _key(scope, ident, rate, time.time())
    with contextlib.suppress(ValueError):  # the window ended meanwhile: nothing to take back
        cache.decr(key)


def reset(*, scope: str, ident: str, rate: Rate) -> None:
    key, _ = _key(scope, ident, rate, time.time())
    cache.delete(key)


# --- the product's limits ---------------------------------------------------------------------------

ACTIONS = ("create", "verify")  # creating requests; sending or checking codes and downloading


def rate_for(action: str, kind: str) -> Rate:
    """The configured rate of ``action`` per ``kind`` ("ip" or "email"), ``DSR_RATE_LIMITS``."""
    return Rate.parse(str(settings.DSR_RATE_LIMITS[f"{action}:{kind}"]))


def check(request: HttpRequest, *, action: str, email_index: str | None = None) -> Verdict:
    """Count one ``action`` by this client (and for this address, when known); refuse past a limit.

    ``action`` is ``"create"`` (a new request) or ``"verify"`` (sending a code, checking a code,
    a download). The IP is counted first; a request the IP limit refused does not also use up the
    address's allowance. The same limits apply to any address, known to us or not, so being
    refused reveals nothing.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    verdict = hit(scope=f"{action}:ip", ident=ip_bucket(client_ip(request)), rate=rate_for(action, "ip"))
    if not verdict.allowed or email_index is None:
        return verdict
    return hit(scope=f"{action}:email", ident=email_index, rate=rate_for(action, "email"))


def check_email(*, action: str, email_index: str | None) -> Verdict:
    """Count one ``action`` for an address only (its IP was counted already, before the address
    was known, e.g. before a form was validated)."""
    if email_index is None:
        return ALLOWED
    return hit(scope=f"{action}:email", ident=email_index, rate=rate_for(action, "email"))


def _login_rates() -> tuple[Rate, Rate]:
    window = int(settings.DSR_LOGIN_WINDOW.total_seconds())
    return (
        Rate(limit=settings.DSR_LOGIN_MAX_FAILURES_PER_USER, seconds=window),
        Rate(limit=settings.DSR_LOGIN_MAX_FAILURES_PER_IP, seconds=window),
    )


def _username(username: str) -> str:
    return username.strip().lower()[:150]


def login_attempt(request: HttpRequest, *, username: str) -> Verdict:
    """Count a sign-in attempt (password or second factor) before it is checked.

    Counting first is what makes concurrent guesses unable to overshoot; an attempt that succeeds
    is given back (:func:`login_succeeded`), so the limits count failures. The dashboard's two
    steps and the Django admin's form share these counters (``DSR_LOGIN_*``).
    """
    per_user, per_ip = _login_rates()
    verdict = hit(scope="login:ip", ident=ip_bucket(client_ip(request)), rate=per_ip)
    if not verdict.allowed:
        return verdict
    return hit(scope="login:user", ident=_username(username), rate=per_user)


def login_passed_step(request: HttpRequest, *, username: str) -> None:
    """A correct password before the second factor: the attempt was not a failure."""
    per_user, per_ip = _login_rates()
    refund(scope="login:ip", ident=ip_bucket(client_ip(request)), rate=per_ip)
    refund(scope="login:user", ident=_username(username), rate=per_user)


def login_succeeded(request: HttpRequest, *, username: str) -> None:
    """Signed in: the attempt was not a failure, and the username's earlier failures are forgiven."""
    per_user, per_ip = _login_rates()
    refund(scope="login:ip", ident=ip_bucket(client_ip(request)), rate=per_ip)
    reset(scope="login:user", ident=_username(username), rate=per_user)
