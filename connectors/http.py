"""An httpx-based HTTP client for SaaS connectors, mapping HTTP failures to SDK errors.

Use one :class:`HttpClient` per connector instance::

    self.http = HttpClient(
        self.config.base_url,
        vendor="acme",
        headers={"Authorization": f"Bearer {token}"},
        secrets=self.secret_values(),
        timeout=self.config.timeout,
        logger=self.log,
    )
    data = self.http.get_json("/v1/customers", params={"email": subject.email})

What it guarantees:

- **One host.** Every request goes to ``base_url``'s scheme, host and port. A relative path is
  appended to ``base_url``'s path; an absolute URL (a vendor's "next" link) is accepted only on the
  same origin, anything else raises :class:`~connectors.errors.PermanentError` before a byte is
  sent. Redirects are never followed (a 3xx is a ``PermanentError``), so no hop can leave the host.
- **Only allowed hosts.** Before every request the ``policy``
  (:class:`connectors.outbound.HostPolicy`: the connector's declared ``allowed_hosts`` plus the
  operator's ``DSR_OUTBOUND_ALLOW_HOSTS``) must accept the URL, including the addresses its host
  name resolves to (no loopback or private address unless allowed); the connection then goes to
  the checked address (Host and TLS SNI keep the name), so DNS rebinding cannot swap it. A refusal is an
  :class:`~connectors.outbound.OutboundRefused` (a ``PermanentError``). Without a ``policy`` no host
  is allowed.
- **Timeouts always set** (connect, read, write, pool); a timeout is a ``TransientError``.
- **Error mapping** (the worker's retry policy keys on the class):

  ============================  ===============================================================
  429                           ``RateLimited(retry_after=...)`` from ``Retry-After`` (seconds
                                or an HTTP-date) or the ``retry_after`` hook (vendor headers)
  5xx, timeouts, network        ``TransientError``
  401, 403                      ``AuthError``
  other 4xx, 3xx                ``PermanentError`` carrying the vendor's message
  2xx with a broken JSON body   ``TransientError`` (from :meth:`HttpClient.json` helpers)
  ============================  ===============================================================

  Statuses passed in ``allow=`` (e.g. ``allow=(404,)``) are returned instead of raised.
- **No secrets or identities in logs or errors.** Only ``METHOD /path`` (no query string, no
  headers, no body) is logged, at DEBUG. Vendor messages put into errors are stripped of the
  configured ``secrets`` and of anything that looks like an email address, and truncated.
- **Rate limiting.** With a ``limiter`` (see :mod:`connectors.ratelimit`), each request first takes
  a token from the shared bucket ``limit_key`` and a 429 pauses that key for every worker.

Pagination helpers: :func:`paginate_cursor` (cursor / next-link, detects a repeated cursor) and
:func:`paginate_offset` (count/offset, detects a page that makes no progress); both cap the number
of pages and raise ``PermanentError`` rather than loop.
"""

from __future__ import annotations

import email.utils
import logging
import math
import re
import time
import urllib.parse
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC
from typing import Any, TypeVar

import httpx

from connectors.errors import AuthError, PermanentError, RateLimited, TransientError
from connectors.outbound import HostPolicy
from connectors.ratelimit import Rate, RateLimiter

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_PAGES",
    "HttpClient",
    "paginate_cursor",
    "paginate_offset",
    "parse_retry_after",
    "quote_segment",
    "scrub",
    "validate_base_url",
]

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
MAX_PAGES = 10_000
MAX_MESSAGE_LENGTH = 300
_EMAIL_RE = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")

# httpx logs every request's full URL (query string included: emails, tokens in URLs) at INFO.
# Unless the application configured that logger itself, keep it to warnings.
if logging.getLogger("httpx").level == logging.NOTSET:
    logging.getLogger("httpx").setLevel(logging.WARNING)

RetryAfterHook = Callable[[httpx.Response], float | None]
MessageHook = Callable[[httpx.Response], str | None]


def quote_segment(value: str) -> str:
    """Percent-encode ``value`` for use as ONE path segment (``/`` and ``..`` cannot escape it)."""
    return urllib.parse.quote(value, safe="")


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def validate_base_url(value: str) -> str:
    """Validate a connector's ``base_url`` config value; return it without a trailing slash.

    ``https`` is required, except for loopback hosts (local fakes and tunnels). Credentials, a
    query string or a fragment in the URL are refused. Raises ``ValueError`` (pydantic turns it
    into a config error when used in a ``field_validator``).
    """
    split = urllib.parse.urlsplit(value.strip())
    host = (split.hostname or "").lower()
    if split.scheme not in ("http", "https") or not host:
        raise ValueError("must be an http(s) URL with a host")
    if split.scheme == "http" and host not in LOOPBACK_HOSTS:
        raise ValueError("must use https (plain http is allowed for localhost only)")
    if split.username or split.password:
        raise ValueError("must not contain credentials")
    if split.query or split.fragment:
        raise ValueError("must not contain a query string or fragment")
    try:
        split.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError("has an invalid port") from None
    return value.strip().rstrip("/")


def scrub(text: str, secrets: Iterable[str] = (), *, limit: int = MAX_MESSAGE_LENGTH) -> str:
    """Remove ``secrets`` and email addresses from ``text`` and truncate it."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _EMAIL_RE.sub("<email>", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date (never negative)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


def default_error_message(response: httpx.Response) -> str | None:
    """The vendor's message from common JSON error envelopes, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:MAX_MESSAGE_LENGTH] or None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        for key in ("message", "detail", "title", "error_description", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            first = errors[0]
            if isinstance(first, dict):
                for key in ("message", "detail", "title"):
                    if isinstance(first.get(key), str):
                        return str(first[key])
    return None


class HttpClient:
    """A thin, safe wrapper over ``httpx.Client`` bound to one vendor origin.

    Parameters:
        base_url: ``https://api.vendor.com/v3`` (tests pass the fake server's URL).
        vendor: a short name used in log lines and error messages.
        headers: default headers (auth goes here or in ``auth``).
        auth: an ``httpx`` auth object or a ``(user, password)`` pair for Basic auth.
        timeout: seconds for connect/read/write/pool, or an ``httpx.Timeout`` (always finite).
        secrets: plain secret values to scrub from error messages.
        logger: where ``METHOD /path -> status`` lines go (DEBUG).
        limiter / limit_key / rate: optional shared rate limiting (see :mod:`connectors.ratelimit`);
            ``max_wait`` caps how long a request waits for a token before raising ``RateLimited``.
        retry_after: hook reading a vendor's own rate-limit headers when ``Retry-After`` is absent.
        error_message: hook extracting the vendor's error message (default: common envelopes).
        transport: an ``httpx`` transport (tests only; production uses the default).
        policy: the hosts this client may call (``Connector.outbound`` in a connector); the
            default allows none.
    """

    def __init__(
        self,
        base_url: str,
        *,
        vendor: str,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        secrets: Iterable[str] = (),
        logger: logging.Logger | None = None,
        limiter: RateLimiter | None = None,
        limit_key: str | None = None,
        rate: Rate | None = None,
        max_wait: float = 10.0,
        retry_after: RetryAfterHook | None = None,
        error_message: MessageHook | None = None,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = "dsr-hub-connector/1.0",
        policy: HostPolicy | None = None,
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise PermanentError(f"{vendor}: base_url must be an http(s) URL with a host")
        if parsed.username or parsed.password:
            raise PermanentError(f"{vendor}: base_url must not contain credentials")
        self.vendor = vendor
        self.policy = policy if policy is not None else HostPolicy(vendor=vendor)
        self.base_url = base_url.rstrip("/")
        self._origin = _origin(parsed)
        self.secrets = [s for s in secrets if s]
        self.log = logger or logging.getLogger(f"connectors.{vendor}")
        self.limiter = limiter
        self.limit_key = limit_key or vendor
        self.rate = rate
        self.max_wait = max_wait
        self._retry_after_hook = retry_after
        self._message_hook = error_message or default_error_message
        if isinstance(timeout, httpx.Timeout):
            if None in (timeout.connect, timeout.read, timeout.write, timeout.pool):
                raise PermanentError(f"{vendor}: every timeout must be set")
            self.timeout = timeout
        else:
            if not (timeout > 0 and math.isfinite(timeout)):
                raise PermanentError(f"{vendor}: timeout must be a positive number of seconds")
            self.timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self._client = httpx.Client(
            headers={"User-Agent": user_agent, "Accept": "application/json", **dict(headers or {})},
            auth=auth,
            timeout=self.timeout,
            follow_redirects=False,
            transport=transport,
            trust_env=False,  # no proxy or netrc picked up from the environment
        )

    # -- lifecycle ------------------------------------------------------------------------------
    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- URLs -----------------------------------------------------------------------------------
    def url_for(self, path_or_url: str) -> str:
        """The absolute URL for a path under ``base_url`` or a same-origin absolute URL.

        Raises ``PermanentError`` for any other host, scheme or port.
        """
        split = urllib.parse.urlsplit(path_or_url)
        if split.scheme or split.netloc:
            if split.scheme not in ("http", "https") or _origin(split) != self._origin:
                raise PermanentError(
                    f"{self.vendor}: refused a request to an unexpected host ({split.hostname or '?'})"
                )
            return path_or_url
        if not path_or_url.startswith("/"):
            path_or_url = "/" + path_or_url
        return f"{self.base_url}{path_or_url}"

    # -- requests -------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        allow: Sequence[int] = (),
        rate: Rate | None = None,
        bucket: str | None = None,
        log_as: str | None = None,
    ) -> httpx.Response:
        """Send one request and return the response, or raise the mapped SDK error.

        ``allow``: non-2xx statuses to return instead of raising (e.g. ``(404,)``).
        ``bucket`` / ``rate``: a sub-bucket of the rate limit key with its own rate (e.g. a
        vendor's stricter search endpoint): the key becomes ``"<limit_key>:<bucket>"``.
        ``log_as``: the path to show in logs and errors instead of the real one, when the path holds
        an identifier of the person (``/lists/{id}/members/{hash}``).
        """
        url = self.url_for(path)
        method = method.upper()
        log_path = log_as or urllib.parse.urlsplit(url).path
        pinned = self.policy.check(url)
        extensions: dict[str, Any] = {}
        if pinned is not None:
            # Connect to the address the policy checked, not to a second DNS answer (rebinding):
            # the URL names the address, Host and TLS SNI (certificate check) keep the name.
            split = urllib.parse.urlsplit(url)
            address = f"[{pinned}]" if ":" in pinned else pinned
            netloc = address if split.port is None else f"{address}:{split.port}"
            headers = {**dict(headers or {}), "Host": split.netloc}
            extensions["sni_hostname"] = split.hostname
            url = urllib.parse.urlunsplit(split._replace(netloc=netloc))
        self._acquire(bucket, rate)
        started = time.monotonic()
        try:
            response = self._client.request(
                method, url, params=params, json=json, data=data, headers=headers, extensions=extensions
            )
        except httpx.TimeoutException:
            self.log.warning("%s %s %s timed out", self.vendor, method, log_path)
            raise TransientError(f"{self.vendor}: {method} {log_path} timed out") from None
        except httpx.TransportError as exc:
            self.log.warning("%s %s %s failed: %s", self.vendor, method, log_path, type(exc).__name__)
            raise TransientError(
                f"{self.vendor}: {method} {log_path} failed ({type(exc).__name__})"
            ) from None
        except httpx.HTTPError as exc:
            raise PermanentError(
                f"{self.vendor}: {method} {log_path} failed ({type(exc).__name__})"
            ) from None
        elapsed = time.monotonic() - started
        self.log.debug("%s %s %s -> %s (%.3fs)", self.vendor, method, log_path, response.status_code, elapsed)
        status = response.status_code
        if 200 <= status < 300 or status in allow:
            return response
        self._raise_for(response, method, log_path)
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def get_json(self, path: str, **kwargs: Any) -> Any:
        """``GET`` and parse the JSON body (``TransientError`` if it is not JSON)."""
        return self.json(self.request("GET", path, **kwargs))

    def post_json(self, path: str, **kwargs: Any) -> Any:
        """``POST`` and parse the JSON body (``TransientError`` if it is not JSON)."""
        return self.json(self.request("POST", path, **kwargs))

    def json(self, response: httpx.Response) -> Any:
        """Parse ``response``'s body as JSON; a malformed body is a ``TransientError``."""
        try:
            return response.json()
        except ValueError:
            path = response.request.url.path if response.request else "?"
            raise TransientError(
                f"{self.vendor}: {response.request.method if response.request else ''} {path} "
                f"returned a malformed JSON body (status {response.status_code})"
            ) from None

    # -- internals ------------------------------------------------------------------------------
    def _acquire(self, bucket: str | None, rate: Rate | None) -> None:
        if self.limiter is None:
            return
        key = f"{self.limit_key}:{bucket}" if bucket else self.limit_key
        effective = rate or self.rate
        if effective is None:
            self.limiter.wait_if_paused(self.limit_key, max_wait=self.max_wait)
        else:
            self.limiter.acquire(key, effective, max_wait=self.max_wait, pause_key=self.limit_key)

    def _retry_after(self, response: httpx.Response) -> float | None:
        seconds = parse_retry_after(response.headers.get("Retry-After"))
        if seconds is None and self._retry_after_hook is not None:
            seconds = self._retry_after_hook(response)
        return seconds

    def _message(self, response: httpx.Response) -> str:
        try:
            raw = self._message_hook(response)
        except Exception:  # a broken vendor envelope must not hide the status
            raw = None
        return scrub(raw, self.secrets) if raw else response.reason_phrase or "no message"

    def _raise_for(self, response: httpx.Response, method: str, log_path: str) -> None:
        status = response.status_code
        where = f"{self.vendor}: {method} {log_path} -> {status}"
        if status == 429:
            retry_after = self._retry_after(response)
            if self.limiter is not None and retry_after:
                self.limiter.pause(self.limit_key, retry_after)
            self.log.warning(
                "%s %s %s rate limited (retry after %s s)", self.vendor, method, log_path, retry_after
            )
            raise RateLimited(f"{where}: {self._message(response)}", retry_after=retry_after)
        if 500 <= status < 600:
            self.log.warning("%s %s %s -> %s", self.vendor, method, log_path, status)
            raise TransientError(f"{where}: {self._message(response)}")
        if status in (401, 403):
            raise AuthError(f"{where}: {self._message(response)}")
        if 300 <= status < 400:
            target = urllib.parse.urlsplit(response.headers.get("Location", "")).hostname or "?"
            raise PermanentError(f"{where}: unexpected redirect (to {target}); redirects are not followed")
        if status == 408:
            raise TransientError(f"{where}: {self._message(response)}")
        raise PermanentError(f"{where}: {self._message(response)}")


def _origin(split: urllib.parse.SplitResult) -> str:
    """``scheme://host:port`` with the default port made explicit, for same-origin comparison."""
    scheme = split.scheme.lower()
    host = (split.hostname or "").lower()
    try:
        port = split.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise PermanentError("invalid port in URL") from None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


# -- pagination -----------------------------------------------------------------------------------
def paginate_cursor(
    fetch: Callable[[str | None], tuple[Iterable[T], str | None]],
    *,
    max_pages: int = MAX_PAGES,
    what: str = "results",
) -> Iterator[T]:
    """Yield items page by page. ``fetch(cursor)`` returns ``(items, next_cursor)``.

    The first call gets ``None``; iteration stops when ``next_cursor`` is ``None`` or empty. A
    cursor (or next-link) that was already used raises ``PermanentError`` (the vendor would loop
    forever), as does going past ``max_pages``.
    """
    seen: set[str] = set()
    cursor: str | None = None
    for _page in range(max_pages):
        items, next_cursor = fetch(cursor)
        yield from items
        if not next_cursor:
            return
        if next_cursor in seen or next_cursor == cursor:
            raise PermanentError(f"pagination of {what} returned a repeated cursor; stopping to avoid a loop")
        seen.add(next_cursor)
        cursor = next_cursor
    raise PermanentError(f"pagination of {what} exceeded {max_pages} pages")


def paginate_offset(
    fetch: Callable[[int, int], tuple[Sequence[T], int | None]],
    *,
    page_size: int,
    key: Callable[[T], Hashable],
    max_pages: int = MAX_PAGES,
    what: str = "results",
) -> Iterator[T]:
    """Yield items of a count/offset API. ``fetch(offset, count)`` returns ``(items, total)``.

    Stops on a short or empty page or when ``offset`` reaches ``total``. A page whose items were
    all seen already (the vendor ignores ``offset``) raises ``PermanentError``, as does going past
    ``max_pages``.
    """
    if page_size <= 0:
        raise PermanentError("page_size must be positive")
    seen: set[Hashable] = set()
    offset = 0
    for _page in range(max_pages):
        items, total = fetch(offset, page_size)
        if not items:
            return
        keys = [key(item) for item in items]
        if all(k in seen for k in keys):
            raise PermanentError(f"pagination of {what} repeated a page; stopping to avoid a loop")
        fresh = [item for item, k in zip(items, keys, strict=True) if k not in seen]
        seen.update(keys)
        yield from fresh
        offset += len(items)
        if len(items) < page_size or (total is not None and offset >= total):
            return
    raise PermanentError(f"pagination of {what} exceeded {max_pages} pages")
