"""``manage.py check --deploy``: the limiter's counters must be shared by every web process."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, register
from django.core.checks import Warning as CheckWarning

NOT_SHARED = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
)


@register(Tags.security, Tags.caches, deploy=True)
def shared_cache(app_configs: Any = None, **kwargs: Any) -> list[CheckWarning]:
    backend = str(settings.CACHES.get("default", {}).get("BACKEND", ""))
    if backend in NOT_SHARED:
        return [
            CheckWarning(
                f"The default cache ({backend.rsplit('.', 1)[-1]}) is not shared between processes: "
                "every web worker counts its own rate limits, so the limits multiply by the number of "
                "workers (and the dummy cache counts nothing).",
                hint="Set CACHE_URL to a shared cache, e.g. redis://127.0.0.1:6379/1.",
                id="dsr.W111",
            )
        ]
    if backend == "django.core.cache.backends.db.DatabaseCache":
        return [
            CheckWarning(
                "The database cache increments counters with a read and a write, not atomically: "
                "concurrent requests can pass a rate limit.",
                hint="Set CACHE_URL to Redis or Memcached.",
                id="dsr.W112",
            )
        ]
    return []
