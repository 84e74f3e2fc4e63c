"""Data that crosses the SDK boundary: frozen dataclasses only, no ORM objects."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


def normalise_email(value: str) -> str:
    """Return the address in the form every connector matches on: trimmed and lower-cased.

    ``Jane.Doe@Example.COM`` and ``jane.doe@example.com`` are the same person for a DSR (mailbox
    providers treat the local part case-insensitively in practice), while ``jane+news@example.com``
    is a different address and must never match.
    """
    return value.strip().lower()


def normalise_phone(value: str) -> str:
    """Return the phone number with everything but digits and a leading ``+`` removed."""
    value = value.strip()
    digits = "".join(ch for ch in value if ch.isdigit())
    return ("+" + digits) if value.startswith("+") else digits


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class Subject:
    """The person a request is about, with identities already normalised.

    Build it with :meth:`Subject.create`, which normalises; the fields are what connectors match on.
    ``reference`` is the request's human reference, for vendor tickets and logs (never an identity).
    """

    email: str
    full_name: str | None = None
    phone: str | None = None
    reference: str = ""
    extra: Mapping[str, str] = field(default_factory=lambda: _frozen(None))

    @classmethod
    def create(
        cls,
        *,
        email: str,
        full_name: str | None = None,
        phone: str | None = None,
        reference: str = "",
        extra: Mapping[str, str] | None = None,
    ) -> Subject:
        return cls(
            email=normalise_email(email),
            full_name=(full_name or "").strip() or None,
            phone=normalise_phone(phone) if phone else None,
            reference=reference,
            extra=_frozen(extra),
        )

    def __repr__(self) -> str:  # identities stay out of logs and tracebacks
        return f"Subject(reference={self.reference!r})"


@dataclass(frozen=True, slots=True)
class Record:
    """One record found for a subject.

    ``category`` groups records in the access package (a table name, ``contact``, ``customer``);
    ``data`` holds JSON-serialisable values only; ``record_id`` is the record's id in its system.
    """

    category: str
    data: Mapping[str, Any]
    record_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", _frozen(self.data))


class ErasureMethod(enum.StrEnum):
    DELETED = "deleted"
    ANONYMISED = "anonymised"
    SUPPRESSED = "suppressed"
    QUEUED_AT_VENDOR = "queued_at_vendor"
    NONE = "none"  # nothing was found, so nothing was done


@dataclass(frozen=True, slots=True)
class Retained:
    """Records kept on purpose, with the legal basis (GDPR Art. 17(3), CCPA §1798.105(d))."""

    category: str
    count: int
    basis: str


@dataclass(frozen=True, slots=True)
class ErasureResult:
    """What an erasure did.

    ``found`` records matched the subject; ``erased`` of them were deleted or anonymised by
    ``method``; ``retained`` lists what was kept and why. ``dry_run`` results report what *would*
    have been erased and changed nothing. ``per_category`` breaks ``erased`` down (table -> rows).
    """

    found: int
    erased: int
    method: ErasureMethod
    retained: tuple[Retained, ...] = ()
    dry_run: bool = False
    per_category: Mapping[str, int] = field(default_factory=lambda: _frozen(None))
    notes: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "per_category", _frozen(self.per_category))
        object.__setattr__(self, "retained", tuple(self.retained))

    @property
    def retained_count(self) -> int:
        return sum(item.count for item in self.retained)


@dataclass(frozen=True, slots=True)
class JobHandle:
    """A vendor-side job that finishes later (an asynchronous deletion).

    The platform stores the handle *before* it returns from the task, then calls
    :meth:`Connector.poll` after ``poll_after`` seconds; it never sleeps in a worker.
    ``data`` carries whatever else the connector needs to poll (JSON-serialisable strings).
    """

    id: str
    poll_after: float = 30.0
    data: Mapping[str, str] = field(default_factory=lambda: _frozen(None))

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", _frozen(self.data))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "poll_after": self.poll_after, "data": dict(self.data)}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> JobHandle:
        return cls(
            id=str(value["id"]), poll_after=float(value.get("poll_after", 30.0)), data=value.get("data") or {}
        )


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of :meth:`Connector.check`: ``ok`` and a sentence a person can act on."""

    ok: bool
    message: str
