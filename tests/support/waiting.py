"""The one polling helper of the suite: wait until something is true, or fail saying what was awaited.

Tests that watch another process (a Celery worker, the SMTP listener, the demo) poll the state they
expect instead of sleeping a fixed time; every such loop goes through :func:`wait_until`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

__all__ = ["wait_until"]


def wait_until(
    predicate: Callable[[], T],
    *,
    timeout: float,
    what: str | Callable[[], str],
    interval: float = 0.1,
    error: type[Exception] = AssertionError,
) -> T:
    """Call ``predicate`` every ``interval`` seconds until it returns something truthy; return that.

    After ``timeout`` seconds raises ``error`` with ``what`` (a callable is evaluated then, so the
    message shows the state at the deadline, e.g. the log of a worker that never became ready).
    ``predicate`` may raise to stop waiting early (a process that exited).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            message = what() if callable(what) else what
            raise error(f"not within {timeout}s: {message}")
        time.sleep(interval)
