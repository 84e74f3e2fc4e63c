from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors import registry
from tests.support.scripted import ScriptedConnector


@pytest.fixture
def scripted_connector(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[ScriptedConnector]]:
    monkeypatch.setitem(registry.BUILTINS, "scripted", "tests.support.scripted:ScriptedConnector")
    registry.available.cache_clear()
    ScriptedConnector.scripts.clear()
    ScriptedConnector.calls.clear()
    yield ScriptedConnector
    registry.available.cache_clear()
