"""Rate limiting shared by every worker: a token bucket per vendor account, kept in Redis.

Many Celery workers on many machines call the same vendor account; the vendor's limit is per
account, so the bucket must be shared. :class:`RedisRateLimiter` keeps one bucket per key in Redis
and updates it atomically with a Lua script that reads the Redis server's clock (no clock skew
between machines). It also stores a **pause**: after a 429 with ``Retry-After: N``, every worker
using that key waits N seconds (a pause is only ever lengthened, never shortened).

Keys name a vendor account without revealing its credentials: use :func:`account_key`
(``account_key("hubspot", token)`` -> ``"hubspot:3f2a9c0d1e4b5a6f"``).

Workers must never sleep for long: :meth:`RateLimiter.acquire` waits at most ``max_wait`` seconds
and otherwise raises :class:`~connectors.errors.RateLimited` with the remaining delay, so the task
is retried later with a countdown instead of holding a worker.

Which limiter a connector uses: :func:`default_limiter`, configured once per process with
:func:`configure` (the platform passes its Redis URL at worker start-up) or the environment
variable ``DSR_RATELIMIT_URL``. Without a URL it is an in-process :class:`MemoryRateLimiter`, which
is correct only for a single process (development, tests). Redis is imported lazily.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.errors import RateLimited, TransientError

__all__ = [
    "MemoryRateLimiter",
    "Rate",
    "RateLimiter",
    "RedisRateLimiter",
    "account_key",
    "configure",
    "default_limiter",
    "limiter_for_url",
    "set_default_limiter",
]

ENV_VAR = "DSR_RATELIMIT_URL"


@dataclass(frozen=True, slots=True)
class Rate:
    """A token bucket: refills ``per_second`` tokens a second, holds at most ``burst``."""

    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if not (self.per_second > 0 and math.isfinite(self.per_second)) or self.burst < 1:
            raise ValueError("a Rate needs per_second > 0 and burst >= 1")

    @classmethod
    def per(cls, count: int, seconds: float, *, burst: int | None = None) -> Rate:
        """``Rate.per(100, 10)``: 100 requests per 10 seconds, bursting up to 100."""
        return cls(per_second=count / seconds, burst=burst if burst is not None else count)


def account_key(vendor: str, *identity: str) -> str:
    """A limiter key for one vendor account, e.g. ``account_key("hubspot", token)``.

    The identity (a token, an account id) is hashed, so keys can be logged and listed in Redis.
    """
    digest = hashlib.sha256("\x00".join(identity).encode()).hexdigest()[:16]
    return f"{vendor}:{digest}"


class RateLimiter:
    """Interface and shared waiting logic. Subclasses implement :meth:`try_acquire`, :meth:`pause`
    and :meth:`paused_for`."""

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sleep = sleep
        self._clock = clock

    def try_acquire(self, key: str, rate: Rate, *, pause_key: str | None = None) -> float:
        """Take one token for ``key`` if possible: return 0.0, else the seconds to wait.

        The bucket is also blocked while ``key`` (or ``pause_key``) is paused.
        """
        raise NotImplementedError

    def pause(self, key: str, seconds: float) -> None:
        """Make every user of ``key`` wait ``seconds`` (extends, never shortens a pause)."""
        raise NotImplementedError

    def paused_for(self, key: str) -> float:
        """Seconds left in ``key``'s pause (0.0 if not paused)."""
        raise NotImplementedError

    def acquire(self, key: str, rate: Rate, *, max_wait: float = 10.0, pause_key: str | None = None) -> None:
        """Block until a token for ``key`` is taken, for at most ``max_wait`` seconds.

        Raises ``RateLimited(retry_after=...)`` when the wait would exceed ``max_wait``.
        """
        deadline = self._clock() + max_wait
        while True:
            wait = self.try_acquire(key, rate, pause_key=pause_key)
            if wait <= 0:
                return
            remaining = deadline - self._clock()
            if wait > remaining:
                raise RateLimited(f"rate limit for {key}: wait {wait:.2f}s", retry_after=wait)
            self._sleep(wait)

    def wait_if_paused(self, key: str, *, max_wait: float = 10.0) -> None:
        """Wait out a pause on ``key`` if it is short, else raise ``RateLimited``."""
        wait = self.paused_for(key)
        if wait <= 0:
            return
        if wait > max_wait:
            raise RateLimited(f"{key} is paused by the vendor for {wait:.2f}s", retry_after=wait)
        self._sleep(wait)


class MemoryRateLimiter(RateLimiter):
    """An in-process limiter (thread-safe). Use only when no Redis URL is configured."""

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(sleep=sleep, clock=clock)
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill time)
        self._pauses: dict[str, float] = {}  # key -> pause end time

    def _pause_left(self, key: str, now: float) -> float:
        return max(0.0, self._pauses.get(key, 0.0) - now)

    def try_acquire(self, key: str, rate: Rate, *, pause_key: str | None = None) -> float:
        with self._lock:
            now = self._clock()
            paused = max(self._pause_left(key, now), self._pause_left(pause_key, now) if pause_key else 0.0)
            if paused > 0:
                return paused
            tokens, last = self._buckets.get(key, (float(rate.burst), now))
            tokens = min(float(rate.burst), tokens + max(0.0, now - last) * rate.per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate.per_second

    def pause(self, key: str, seconds: float) -> None:
        with self._lock:
            end = self._clock() + max(0.0, seconds)
            self._pauses[key] = max(end, self._pauses.get(key, 0.0))

    def paused_for(self, key: str) -> float:
        with self._lock:
            return self._pause_left(key, self._clock())


# KEYS[1] bucket hash, KEYS[2] pause key, KEYS[3] extra pause key (may equal KEYS[2]);
# ARGV[1] tokens per second, ARGV[2] burst. Returns 0 when a token was taken, else ms to wait.
_ACQUIRE_LUA = """
local pause = math.max(redis.call('PTTL', KEYS[2]), redis.call('PTTL', KEYS[3]))
if pause > 0 then return pause end
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
"""

# KEYS[1] pause key; ARGV[1] ms. Lengthens the pause only.
_PAUSE_LUA = """
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then
  redis.call('SET', KEYS[1], '1', 'PX', ms)
end
return 1
"""


class RedisRateLimiter(RateLimiter):
    """A token bucket per key in Redis, shared by every process that uses the same Redis.

    ``url``: e.g. ``redis://127.0.0.1:6379/0``. ``prefix`` namespaces the keys. Redis being down
    is a ``TransientError`` (the job retries), never a silent bypass of the limit.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "dsr:ratelimit:",
        socket_timeout: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(sleep=sleep, clock=clock)
        import redis  # lazily: the SDK imports without redis installed

        self._redis_errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self.prefix = prefix
        self.redis: Any = redis.Redis.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
        )
        self._acquire_script = self.redis.register_script(_ACQUIRE_LUA)
        self._pause_script = self.redis.register_script(_PAUSE_LUA)

    def _bucket(self, key: str) -> str:
        return f"{self.prefix}bucket:{key}"

    def _pause(self, key: str) -> str:
        return f"{self.prefix}pause:{key}"

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except self._redis_errors as exc:
            raise TransientError(f"rate limiter unavailable ({what}: {type(exc).__name__})") from None

    def try_acquire(self, key: str, rate: Rate, *, pause_key: str | None = None) -> float:
        keys = [self._bucket(key), self._pause(key), self._pause(pause_key or key)]
        ms = self._call(
            "acquire", lambda: self._acquire_script(keys=keys, args=[rate.per_second, rate.burst])
        )
        return max(0.0, float(ms) / 1000.0)

    def pause(self, key: str, seconds: float) -> None:
        ms = math.ceil(max(0.0, seconds) * 1000)
        if ms <= 0:
            return
        self._call("pause", lambda: self._pause_script(keys=[self._pause(key)], args=[ms]))

    def paused_for(self, key: str) -> float:
        ms = self._call("pttl", lambda: self.redis.pttl(self._pause(key)))
        return max(0.0, float(ms) / 1000.0)

    def reset(self, key: str) -> None:
        """Forget ``key``'s bucket and pause (tests, or an operator clearing a stuck pause)."""
        self._call("reset", lambda: self.redis.delete(self._bucket(key), self._pause(key)))

    def close(self) -> None:
        self.redis.close()


def limiter_for_url(url: str | None) -> RateLimiter:
    """A Redis limiter for ``url``, or an in-memory one when ``url`` is empty."""
    return RedisRateLimiter(url) if url else MemoryRateLimiter()


_default: RateLimiter | None = None
_default_lock = threading.Lock()


def configure(url: str | None) -> RateLimiter:
    """Set the process-wide limiter from a Redis URL (``None``: in-memory). Returns it."""
    global _default
    with _default_lock:
        _default = limiter_for_url(url)
        return _default


def set_default_limiter(limiter: RateLimiter | None) -> RateLimiter | None:
    """Replace the process-wide limiter (``None``: rebuild lazily); returns the previous one.

    Tests use it to give each test a fresh in-memory limiter.
    """
    global _default
    with _default_lock:
        previous, _default = _default, limiter
        return previous


def default_limiter() -> RateLimiter:
    """The process-wide limiter: as configured, else from ``$DSR_RATELIMIT_URL``, else in-memory."""
    global _default
    with _default_lock:
        if _default is None:
            _default = limiter_for_url(os.environ.get(ENV_VAR) or None)
        return _default
