"""What a connector's test suite provides to the conformance kit: a :class:`FakeBackend`.

A backend owns one fake system (a local fake HTTP server, a scratch database, ...) for one test,
builds connectors pointed at it, stores the kit's dataset in the system's own shape, and answers
questions the kit asks to verify effects (how many writes happened, which raw records remain).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from connectors.base import Connector
from connectors.outbound import HostPolicy, parse_allow_hosts
from connectors.testing.server import FakeServer
from connectors.types import Subject

__all__ = [
    "ABSENT",
    "FOREIGN_URL",
    "LOCAL_FAKES",
    "LOCAL_POLICY",
    "RETRY_AFTER_SECONDS",
    "STANDARD",
    "FakeBackend",
    "FakeServerBackend",
    "Fault",
    "PaginatedSeed",
    "SeedRecord",
    "StandardDataset",
]

#: The delay a ``Fault.RATE_LIMITED`` response asks for (``Retry-After: 2``).
RETRY_AFTER_SECONDS = 2.0
#: The ``outbound_allow`` a backend passes to connectors pointed at a local fake (the operator's
#: ``DSR_OUTBOUND_ALLOW_HOSTS`` in production): connectors refuse loopback hosts without it.
LOCAL_FAKES = "127.0.0.1,localhost"
#: A :class:`~connectors.outbound.HostPolicy` allowing only the local fakes, for ``HttpClient`` tests.
LOCAL_POLICY = HostPolicy(allow=parse_allow_hosts(LOCAL_FAKES), vendor="test")
#: Where ``Fault.FOREIGN_REDIRECT`` points: a host no connector may ever contact.
FOREIGN_URL = "http://attacker.invalid/collect"


class Fault(enum.StrEnum):
    """Failures the kit asks an HTTP backend to inject into the *next* request it serves."""

    RATE_LIMITED = "rate_limited"  # 429 with Retry-After: 2
    SERVER_ERROR = "server_error"  # 500
    SERVICE_UNAVAILABLE = "service_unavailable"  # 503
    TIMEOUT = "timeout"  # answer later than the connector's read timeout
    MALFORMED_JSON = "malformed_json"  # 200 with a body that is not JSON
    UNAUTHORIZED = "unauthorized"  # 401
    FORBIDDEN = "forbidden"  # 403
    FOREIGN_REDIRECT = "foreign_redirect"  # 302 to FOREIGN_URL
    REPEATED_CURSOR = "repeated_cursor"  # the next list page hands back a cursor already used


@dataclass(frozen=True, slots=True)
class SeedRecord:
    """One record to store in the fake system, exactly as written (``email`` keeps its case).

    ``marker`` is a unique token: store it in any field that ``access()`` returns (a note, a
    company name, a merge field), so the kit can tell which records an access returned.
    """

    key: str
    email: str
    first_name: str
    last_name: str
    marker: str
    phone: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True, slots=True)
class StandardDataset:
    """The kit's dataset: the target's records, decoys that must never match, an absent subject."""

    target: Subject
    target_records: tuple[SeedRecord, ...]
    decoys: tuple[SeedRecord, ...]
    absent: Subject

    @property
    def records(self) -> tuple[SeedRecord, ...]:
        return self.target_records + self.decoys


def _rec(key: str, email: str, first: str, last: str, marker: str) -> SeedRecord:
    return SeedRecord(key=key, email=email, first_name=first, last_name=last, marker=marker)


STANDARD = StandardDataset(
    target=Subject.create(email="jane.doe@example.com", full_name="Jane Doe", reference="DSR-KIT-1"),
    target_records=(
        _rec("target", "jane.doe@example.com", "Jane", "Doe", "KITMARK-TARGET-1"),
        # The same person, stored with the email in another case: must be found and erased.
        _rec("target-other-case", "Jane.Doe@Example.COM", "Jane", "Doe", "KITMARK-TARGET-2"),
    ),
    decoys=(
        # A +tag variant is a different address.
        _rec("decoy-plus-tag", "jane.doe+news@example.com", "Jane", "Doe", "KITMARK-DECOY-1"),
        # The same full name with another email is another person (as far as we can prove).
        _rec("decoy-same-name", "jdoe.work@example.org", "Jane", "Doe", "KITMARK-DECOY-2"),
        # The same local part at another domain.
        _rec("decoy-other-domain", "jane.doe@example.net", "Jane", "Doe", "KITMARK-DECOY-3"),
        # A longer address containing the target's (catches substring / "contains" matching).
        _rec("decoy-superstring", "mary.jane.doe@example.com", "Mary", "Doe", "KITMARK-DECOY-4"),
    ),
    absent=Subject.create(
        email="absent.person@example.com", full_name="Absent Person", reference="DSR-KIT-2"
    ),
)
ABSENT = STANDARD.absent


@dataclass(frozen=True, slots=True)
class PaginatedSeed:
    """What :meth:`FakeBackend.seed_paginated` stored: the subject and the markers access must return."""

    subject: Subject
    markers: tuple[str, ...]


class FakeBackend:
    """Subclass this for your connector's fake system. One instance serves one test.

    Required:

    - :meth:`make_connector` / :meth:`make_connector_with_bad_credentials`: connectors configured
      against the fake (short timeouts, e.g. 0.5 s, so ``Fault.TIMEOUT`` is quick).
    - :meth:`seed`: store the records in the system's own shape, keeping each email's case.
    - :meth:`mutation_count`: writes the system has received so far (HTTP: requests that reached
      a mutating endpoint; SQL: rows inserted/updated/deleted by the connector, or statements).
    - :meth:`records_of`: the raw records stored for an email (matched case-insensitively).

    HTTP backends (the test class keeps ``http = True``) also implement :meth:`inject`,
    :meth:`seed_paginated` and :meth:`request_count`. Backends whose erase is asynchronous
    (``async_erase = True``) may implement :meth:`advance` to move vendor jobs forward.
    """

    #: Hosts (besides loopback) the connector may connect to during the tests.
    allowed_hosts: ClassVar[frozenset[str]] = frozenset()

    # -- required ----------------------------------------------------------------------------
    def make_connector(self, *, dry_run: bool = False) -> Connector:
        raise NotImplementedError

    def make_connector_with_bad_credentials(self) -> Connector:
        raise NotImplementedError

    def seed(self, records: Sequence[SeedRecord]) -> None:
        raise NotImplementedError

    def mutation_count(self) -> int:
        raise NotImplementedError

    def records_of(self, email: str) -> list[Mapping[str, Any]]:
        raise NotImplementedError

    # -- optional ----------------------------------------------------------------------------
    def secrets(self) -> list[str]:
        """Every secret value in play (good and bad credentials): none may appear in logs/errors.

        Default: the secret fields of both connectors' configs.
        """
        values: list[str] = []
        for connector in (self.make_connector(), self.make_connector_with_bad_credentials()):
            with connector:
                values.extend(connector.secret_values())
        return values

    def seed_standard_dataset(self) -> StandardDataset:
        """Store :data:`STANDARD` (override only to add system-specific extras)."""
        self.seed(STANDARD.records)
        return STANDARD

    def advance(self) -> None:
        """Move asynchronous vendor jobs one step forward (a test clock). Default: nothing."""

    def close(self) -> None:
        """Release what the backend holds (called at the end of each test)."""

    # -- HTTP backends -----------------------------------------------------------------------
    def inject(self, fault: Fault) -> None:
        """Make the next request to the fake fail with ``fault``."""
        raise NotImplementedError

    def seed_paginated(self, pages: int) -> PaginatedSeed:
        """Seed a subject whose access needs at least ``pages`` list pages of the vendor API.

        Usually: several records for one subject and a connector page size small enough (set in
        :meth:`make_connector`) that listing them takes ``pages`` requests or more.
        """
        raise NotImplementedError

    def request_count(self) -> int:
        """Requests the fake has served so far."""
        raise NotImplementedError


ServerT = TypeVar("ServerT", bound=FakeServer)


class FakeServerBackend(FakeBackend, Generic[ServerT]):
    """The base of every backend over a fake vendor HTTP server (:class:`~connectors.testing.server.
    FakeServer`): writes, requests and injected faults are the server's own bookkeeping.

    Subclasses add :meth:`make_connector`, :meth:`make_connector_with_bad_credentials`, :meth:`seed`,
    :meth:`records_of` and :meth:`seed_paginated`, in the vendor's own shape.
    """

    def __init__(self, server: ServerT) -> None:
        self.server = server

    def mutation_count(self) -> int:
        return self.server.mutation_count

    def inject(self, fault: Fault) -> None:
        self.server.inject_kit_fault(fault)

    def request_count(self) -> int:
        return len(self.server.requests)
