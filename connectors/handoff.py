"""Hand-off connectors: the work is done by a person, and the platform tells the SDK when it is done.

Some systems have no API: a paper archive, a legacy tool, a processor that only answers e-mail.
A hand-off connector still fits the SDK's asynchronous contract, without importing Django:

1. :meth:`HandoffConnector.handoff` returns a :class:`~connectors.types.JobHandle` whose ``data``
   says *what* a person must do (``data["handoff"]`` names the kind, e.g. ``manual``); it carries
   no identity of the data subject, since handles are stored as they are.
2. The platform stores the handle (the job is then *waiting*), turns it into a task for a person
   (a staff member, or a processor reached by e-mail), and wakes the job when the person reports
   the result.
3. The platform answers ``poll`` for hand-off handles itself, with the person's result: an
   :class:`~connectors.types.ErasureResult` for an erasure, the uploaded records for an access.

Outside the platform (a script, the conformance kit) nobody can answer, so :meth:`poll` returns the
handle unchanged ("still waiting") and :meth:`access` refuses: returning no records would claim
that the system holds nothing about the person.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from pydantic import Field

from connectors.base import Capability, Connector, ConnectorConfig
from connectors.errors import PermanentError
from connectors.types import ErasureMethod, ErasureResult, JobHandle, Record, Subject

__all__ = ["HANDOFF", "HandoffConfig", "HandoffConnector", "handoff_kind", "is_handoff"]

#: The key of ``JobHandle.data`` that marks a hand-off handle; its value is the connector's kind.
HANDOFF = "handoff"


def is_handoff(handle: JobHandle) -> bool:
    """True when ``handle`` waits for a person, so the platform (not the connector) answers ``poll``."""
    return bool(handle.data.get(HANDOFF))


def handoff_kind(handle: JobHandle) -> str:
    """The kind of hand-off (``manual``, ``vendor_email``), or ``""`` for a vendor job handle."""
    return str(handle.data.get(HANDOFF, ""))


class HandoffConfig(ConnectorConfig):
    """What every hand-off needs: how long the person has, and how often the platform looks."""

    due_days: int = Field(
        default=7,
        ge=1,
        le=90,
        description="Days the person has; the task is due at this or at the request's due date, "
        "whichever comes first.",
    )
    poll_interval: float = Field(
        default=3600.0,
        gt=0,
        description="Seconds between checks of an open task (completing it wakes the job at once).",
    )


class HandoffConnector(Connector):
    """Base of connectors whose work a person does. Subclasses implement :meth:`instructions`."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.ACCESS, Capability.ERASE})
    Config: ClassVar[type[ConnectorConfig]] = HandoffConfig
    config: HandoffConfig

    def handoff_data(self, action: Capability) -> dict[str, str]:
        """Extra strings the platform needs to present the task (no identity of the subject)."""
        return {}

    def handoff(self, subject: Subject, action: Capability) -> JobHandle:
        """The handle of a task asking a person to do ``action`` for ``subject`` (nothing is sent).

        The id depends only on the kind, the action and the request's reference, so a retried job
        yields the same handle and the platform finds the task it already opened.
        """
        if action not in self.capabilities:
            raise PermanentError(f"{self.key} does not support {action}")
        data = {
            HANDOFF: self.key,
            "action": str(action),
            "due_days": str(self.config.due_days),
            **self.handoff_data(action),
        }
        return JobHandle(
            id=f"{self.key}-{action}-{subject.reference or 'unreferenced'}",
            poll_after=self.config.poll_interval,
            data=data,
        )

    def access(self, subject: Subject) -> Iterator[Record]:
        raise PermanentError(
            f"{self.key}: a person collects this data; run it through the platform, which opens a task "
            "(see connectors/handoff.py)"
        )

    def erase(self, subject: Subject) -> ErasureResult | JobHandle:
        if self.dry_run:
            return ErasureResult(
                found=0,
                erased=0,
                method=ErasureMethod.NONE,
                dry_run=True,
                notes=f"dry run ({self.label}): no task was opened and nobody was contacted",
            )
        return self.handoff(subject, Capability.ERASE)

    def poll(self, handle: JobHandle) -> ErasureResult | JobHandle:
        """Still waiting: only the platform knows whether the person answered (it polls itself)."""
        return handle
