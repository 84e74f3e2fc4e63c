"""connectors.ratelimit: the Redis token bucket (a real Redis: these tests FAIL without one)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from connectors.errors import RateLimited, TransientError
from connectors.ratelimit import (
    MemoryRateLimiter,
    Rate,
    RateLimiter,
    RedisRateLimiter,
    account_key,
    configure,
    default_limiter,
    limiter_for_url,
    set_default_limiter,
)

REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def redis_limiter() -> Iterator[RedisRateLimiter]:
    limiter = RedisRateLimiter(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        limiter.redis.ping()
    except Exception as exc:  # deliberately a failure, not a skip: CI must run these against Redis
        pytest.fail(f"Redis is required at {REDIS_URL} for the rate limiter tests: {exc!r}")
    yield limiter
    for key in limiter.redis.scan_iter(f"{limiter.prefix}*"):
        limiter.redis.delete(key)
    limiter.close()


@pytest.fixture(params=["memory", "redis"])
def limiter(request: pytest.FixtureRequest) -> RateLimiter:
    if request.param == "memory":
        return MemoryRateLimiter()
    limiter: RateLimiter = request.getfixturevalue("redis_limiter")
    return limiter


def test_burst_then_wait(limiter: RateLimiter) -> None:
    rate = Rate(per_second=10, burst=3)
    assert [limiter.try_acquire("k", rate) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.try_acquire("k", rate)
    assert 0.0 < wait <= 0.11
    time.sleep(wait + 0.02)
    assert limiter.try_acquire("k", rate) == 0.0


def test_keys_are_independent(limiter: RateLimiter) -> None:
    rate = Rate(per_second=1, burst=1)
    assert limiter.try_acquire("hubspot:a", rate) == 0.0
    assert limiter.try_acquire("hubspot:a", rate) > 0.5
    assert limiter.try_acquire("hubspot:b", rate) == 0.0


def test_pause_blocks_the_key_and_only_lengthens(limiter: RateLimiter) -> None:
    rate = Rate(per_second=100, burst=100)
    limiter.pause("k", 2.0)
    limiter.pause("k", 0.5)  # a shorter pause does not shorten the running one
    assert 1.5 < limiter.paused_for("k") <= 2.0
    assert limiter.try_acquire("k", rate) > 1.5
    assert limiter.paused_for("other") == 0.0
    assert limiter.try_acquire("k:search", rate, pause_key="k") > 1.5  # a sub-bucket honours it


def test_acquire_raises_rate_limited_instead_of_sleeping_long(limiter: RateLimiter) -> None:
    limiter.pause("k", 30)
    started = time.monotonic()
    with pytest.raises(RateLimited) as info:
        limiter.acquire("k", Rate(per_second=10, burst=10), max_wait=0.2)
    assert time.monotonic() - started < 0.5
    assert info.value.retry_after is not None
    assert info.value.retry_after > 29
    with pytest.raises(RateLimited):
        limiter.wait_if_paused("k", max_wait=1)


def test_acquire_waits_briefly(limiter: RateLimiter) -> None:
    rate = Rate(per_second=20, burst=1)
    started = time.monotonic()
    for _ in range(3):
        limiter.acquire("k", rate, max_wait=1)
    assert 0.08 <= time.monotonic() - started < 0.5


def test_redis_bucket_is_shared_between_limiters(redis_limiter: RedisRateLimiter) -> None:
    """Two workers (two limiter instances, two connections) share one bucket and one pause."""
    other = RedisRateLimiter(REDIS_URL, prefix=redis_limiter.prefix)
    try:
        rate = Rate(per_second=0.5, burst=2)
        assert redis_limiter.try_acquire("acct", rate) == 0.0
        assert other.try_acquire("acct", rate) == 0.0
        assert redis_limiter.try_acquire("acct", rate) > 0
        assert other.try_acquire("acct", rate) > 0
        other.pause("acct2", 5)
        assert redis_limiter.paused_for("acct2") > 4
    finally:
        other.close()


def test_redis_enforces_the_rate_across_threads(redis_limiter: RedisRateLimiter) -> None:
    rate = Rate(per_second=50, burst=5)
    granted: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        mine = RedisRateLimiter(REDIS_URL, prefix=redis_limiter.prefix)
        try:
            for _ in range(5):
                mine.acquire("shared", rate, max_wait=5)
                with lock:
                    granted.append(time.monotonic())
        finally:
            mine.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert len(granted) == 20
    # 20 tokens at 50/s with a burst of 5 need at least (20 - 5) / 50 = 0.3 s.
    assert elapsed >= 0.28


def test_redis_down_is_transient_not_a_bypass() -> None:
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", socket_timeout=0.2)
    with pytest.raises(TransientError, match="rate limiter unavailable"):
        limiter.try_acquire("k", Rate(per_second=1, burst=1))
    with pytest.raises(TransientError):
        limiter.pause("k", 1)


def test_account_key_hides_the_credential() -> None:
    key = account_key("hubspot", "pat-na1-secret")
    assert key.startswith("hubspot:")
    assert "secret" not in key
    assert key == account_key("hubspot", "pat-na1-secret") != account_key("hubspot", "other")


def test_rate_validation() -> None:
    assert Rate.per(100, 10) == Rate(per_second=10.0, burst=100)
    with pytest.raises(ValueError, match="per_second > 0"):
        Rate(per_second=0, burst=1)
    with pytest.raises(ValueError, match="burst >= 1"):
        Rate(per_second=1, burst=0)


def test_default_limiter_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    previous = set_default_limiter(None)
    try:
        monkeypatch.delenv("DSR_RATELIMIT_URL", raising=False)
        assert isinstance(default_limiter(), MemoryRateLimiter)
        set_default_limiter(None)
        monkeypatch.setenv("DSR_RATELIMIT_URL", REDIS_URL)
        assert isinstance(default_limiter(), RedisRateLimiter)
        assert isinstance(configure(None), MemoryRateLimiter)
        assert isinstance(limiter_for_url(REDIS_URL), RedisRateLimiter)
    finally:
        set_default_limiter(previous)
