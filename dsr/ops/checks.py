"""Readiness: can this process serve? Each dependency is checked for real, with a short timeout."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

BROKER_TIMEOUT = 3.0  # seconds


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    ms: float
    error: str = ""  # the exception's class only: probes are unauthenticated, messages can hold hosts


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker() -> None:
    from dsr.celery import app

    with app.connection_for_write(connect_timeout=BROKER_TIMEOUT) as conn:
        conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)


def _cache() -> None:
    key, value = "dsr:readyz", secrets.token_hex(8)
    cache.set(key, value, timeout=30)
    if cache.get(key) != value:
        raise RuntimeError("the cache did not return what was stored")


def _storage() -> None:
    name = default_storage.save(f"readyz/{secrets.token_hex(8)}.txt", ContentFile(b"ok"))
    default_storage.delete(name)


CHECKS: dict[str, Callable[[], None]] = {
    "database": _database,
    "broker": _broker,
    "cache": _cache,
    "storage": _storage,
}


def readiness_check() -> list[CheckResult]:
    """Run every check (all of them, even after a failure) and return their results in order."""
    results = []
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # any failure of a dependency means "not ready"
            results.append(CheckResult(name, False, _ms(started), type(exc).__name__))
        else:
            results.append(CheckResult(name, True, _ms(started)))
    return results


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
