"""A connector whose behaviour each test scripts: a list of outcomes, one per call.

Registered under the key ``scripted`` by the ``scripted_connector`` fixture (tests/workflow);
``scripted_opt_out`` is the same connector also declaring ``Capability.OPT_OUT``.
An outcome is an exception instance to raise, an ``ErasureResult``/``JobHandle`` to return, or a
list of ``Record`` to yield from ``access``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from connectors import Capability, Connector, ConnectorConfig, ErasureResult, JobHandle, Record, Subject


class ScriptedConfig(ConnectorConfig):
    script: str


class ScriptedConnector(Connector):
    key = "scripted"
    label = "Scripted (tests)"
    category = "test"
    capabilities = frozenset({Capability.ACCESS, Capability.ERASE})
    Config = ScriptedConfig

    scripts: ClassVar[dict[str, list[Any]]] = {}
    calls: ClassVar[list[tuple[str, str]]] = []

    def _next(self, operation: str) -> Any:
        name = self.config.script  # type: ignore[attr-defined]
        self.calls.append((name, operation))
        outcome = self.scripts[name].pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def access(self, subject: Subject) -> Iterator[Record]:
        yield from self._next("access")

    def erase(self, subject: Subject) -> ErasureResult | JobHandle:
        return self._next("erase")  # type: ignore[no-any-return]

    def opt_out(self, subject: Subject) -> ErasureResult:
        return self._next("opt_out")  # type: ignore[no-any-return]

    def poll(self, handle: JobHandle) -> ErasureResult | JobHandle:
        return self._next(f"poll:{handle.id}")  # type: ignore[no-any-return]


class ScriptedOptOutConnector(ScriptedConnector):
    key = "scripted_opt_out"
    label = "Scripted with opt-out (tests)"
    capabilities = frozenset({Capability.ACCESS, Capability.ERASE, Capability.OPT_OUT})
