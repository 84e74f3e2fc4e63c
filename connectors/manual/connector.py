"""Manual task connector (``manual``): a staff member does the work and reports the result.

For a system without an API (a paper archive, a legacy tool). The platform opens a task assigned to
``assignee`` (or unassigned), due ``due_days`` from now or at the request's due date if earlier; the
job waits until the person completes it in the staff API, with an uploaded data file (access) or the
counts of what they erased (erasure). See README.md and :mod:`connectors.handoff`.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from connectors.base import Capability
from connectors.handoff import HandoffConfig, HandoffConnector
from connectors.types import CheckResult


class ManualConfig(HandoffConfig):
    instructions: str = Field(
        min_length=1,
        max_length=4000,
        description="What the person must do, e.g. 'Search the signed contracts in the archive'.",
    )
    assignee: str | None = Field(
        default=None, description="Username of the staff member who gets the task; empty: unassigned."
    )

    @field_validator("assignee")
    @classmethod
    def _blank_is_unassigned(cls, value: str | None) -> str | None:
        return (value or "").strip() or None


class ManualConnector(HandoffConnector):
    key = "manual"
    label = "Manual task"
    category = "manual"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.ACCESS, Capability.ERASE})
    Config = ManualConfig
    config: ManualConfig

    def check(self) -> CheckResult:
        who = self.config.assignee or "no one yet (unassigned)"
        return CheckResult(
            ok=True, message=f"tasks are assigned to {who} and due within {self.config.due_days} days"
        )

    def handoff_data(self, action: Capability) -> dict[str, str]:
        return {"instructions": self.config.instructions, "assignee": self.config.assignee or ""}
