from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors import registry
from tests.support.scripted import ScriptedConnector


@pytest.fixture
def scripted_connector(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[ScriptedConnector]]:
    monkeypatch.setitem(registry.BUILTINS, "scripted", "tests.support.scripted:ScriptedConnector")
    monkeypatch.setitem(
        registry.BUILTINS, "scripted_opt_out", "tests.support.scripted:ScriptedOptOutConnector"
    )
    registry.available.cache_clear()
    ScriptedConnector.scripts.clear()
    ScriptedConnector.calls.clear()
    yield ScriptedConnector
    ScriptedConnector.scripts.clear()  # class-level state: leave none behind for later tests
    ScriptedConnector.calls.clear()
    registry.available.cache_clear()
