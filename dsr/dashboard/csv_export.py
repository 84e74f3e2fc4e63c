"""The queue as CSV: one row per request, e-mails masked unless the role may see identities, every
cell neutralised against formula injection (``dsr.exports.csvsafe``)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

from dsr.exports.csvsafe import csv_row_safe
from dsr.staff.roles import mask_email

HEADER = [
    "reference", "type", "jurisdiction", "regime", "status", "email", "received_at", "due_at",
    "extended_at", "closed_at", "closed_on_time", "assignee",
]  # fmt: skip


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


def _row(r: Any, *, clear: bool) -> list[str]:
    assignment = getattr(r, "assignment", None)
    return [
        r.reference,
        r.type,
        r.jurisdiction,
        r.regime,
        r.status,
        r.email if clear else mask_email(r.email),
        r.received_at.isoformat(),
        r.due_at.isoformat(),
        r.extended_at.isoformat() if r.extended_at else "",
        r.closed_at.isoformat() if r.closed_at else "",
        "" if r.closed_at is None else ("yes" if r.closed_at <= r.due_at else "no"),
        assignment.assignee.get_username() if assignment else "",
    ]


def queue_csv_write(*, out: _Writable, requests: Iterable[Any], clear: bool) -> int:
    """Write the header and one row per request to ``out``; returns how many rows were written.
    ``clear``: e-mails in clear (the role has ``request.view_identity``), else masked."""
    writer = csv.writer(out)
    writer.writerow(HEADER)
    count = 0
    for r in requests:
        writer.writerow(csv_row_safe(_row(r, clear=clear)))  # an e-mail or a username may start with = + - @
        count += 1
    return count
