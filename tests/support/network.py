"""The suite-wide socket guard (a pytest plugin, declared in the rootdir ``conftest.py``).

Every test, of the platform and of the connectors, may connect only to loopback (127.0.0.0/8, ::1)
and Unix sockets: the databases, Redis, the SMTP listener and the fake vendor servers all listen
there. A connection anywhere else is refused and fails the test, naming the destination, so no test
can depend on (or leak data to) the outside network. It reuses the conformance kit's
:func:`connectors.testing.guard_network`, without name checks (resolving a name is not a
connection). The patch is in-process: a Celery worker subprocess or Playwright's Chromium is not
affected.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.testing import guard_network


@pytest.fixture(autouse=True)
def _loopback_only() -> Iterator[None]:
    with guard_network(check_names=False) as guard:
        yield
    if guard.violations:
        pytest.fail(
            "the test connected outside loopback (refused): " + ", ".join(guard.violations), pytrace=False
        )
