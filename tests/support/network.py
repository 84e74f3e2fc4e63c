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

from collections.abc import Generator, Iterator

import pytest

from connectors.testing import NetworkGuard, guard_network

_GUARD = pytest.StashKey[NetworkGuard]()


def _fail_on_violations(guard: NetworkGuard) -> None:
    if guard.violations:
        refused = ", ".join(guard.violations)
        guard.violations.clear()
        pytest.fail(f"the test connected outside loopback (refused): {refused}", pytrace=False)


@pytest.fixture(autouse=True)
def _loopback_only(request: pytest.FixtureRequest) -> Iterator[None]:
    """Guard the test from its fixtures' setup to their teardown."""
    with guard_network(check_names=False) as guard:
        request.node.stash[_GUARD] = guard
        yield
    _fail_on_violations(guard)  # a fixture connected elsewhere: an error at teardown


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """The test itself connected elsewhere (even if the code swallowed the refusal): it fails."""
    result = yield
    guard = item.stash.get(_GUARD, None)
    if guard is not None:
        _fail_on_violations(guard)
    return result
