"""The connector conformance kit (pytest). Every connector, built-in or third-party, passes it.

How a connector author uses it
------------------------------
1. Write a backend for your system (a :class:`FakeServerBackend` over a fake HTTP server): it
   builds connectors pointed at your fake, stores the kit's records in your system's shape, and
   reports writes and remaining raw records::

       class AcmeBackend(FakeServerBackend[FakeAcme]):  # FakeAcme: a testing.server.FakeServer
           # The base answers mutation_count(), inject(fault) and request_count() from the server.
           def make_connector(self, *, dry_run=False):
               return AcmeConnector({"api_key": "good", "base_url": self.server.url,
                                     "timeout": 0.5, "page_size": 2}, dry_run=dry_run,
                                    outbound_allow=LOCAL_FAKES)  # the fake is on 127.0.0.1
           def make_connector_with_bad_credentials(self):
               return AcmeConnector({"api_key": "bad", "base_url": self.server.url, "timeout": 0.5},
                                    outbound_allow=LOCAL_FAKES)
           def seed(self, records): ...             # keep each email's case; store record.marker
           def records_of(self, email): ...         # raw stored records, case-insensitive
           def seed_paginated(self, pages): ...     # a subject whose access spans >= pages pages

   A system that is not an HTTP fake (a scratch database) subclasses :class:`FakeBackend` and also
   implements ``mutation_count()`` (and, for HTTP, ``inject``/``request_count``).

2. Subclass :class:`ConnectorConformance` and override the ``backend`` fixture::

       class TestAcmeConformance(ConnectorConformance):
           http = True           # False for non-HTTP systems: the HTTP-only tests are not generated
           async_erase = False   # True if erase() returns a JobHandle completed by poll()

           @pytest.fixture
           def backend(self):
               with serve(make_acme_fake()) as server:
                   yield AcmeBackend(server)

3. Run pytest. Add your connector-specific tests next to the class.

The kit's dataset (:data:`STANDARD`): the target ``jane.doe@example.com`` with a second record
stored as ``Jane.Doe@Example.COM`` (the same person), decoys that must never match (a ``+tag``
variant, the same full name with another email, the same local part at another domain, and a
longer address containing the target's), and an absent subject.

What it asserts: see :class:`ConnectorConformance` (``check`` ok/bad credentials, access finds the
target in any case and never a decoy, absent subject empty, access and dry run write nothing, erase
then access is empty, second erase makes no vendor mutation, decoys untouched, async handles
complete without a second vendor job, 429/5xx/timeouts/401/403/malformed JSON mapped to the SDK
errors, pagination over 3 pages, repeated cursor refused, redirects to other hosts refused, no
connection outside loopback and ``allowed_hosts``, no secret in logs or errors).
"""

from connectors.testing.backend import (
    ABSENT,
    FOREIGN_URL,
    LOCAL_FAKES,
    LOCAL_POLICY,
    RETRY_AFTER_SECONDS,
    STANDARD,
    FakeBackend,
    FakeServerBackend,
    Fault,
    PaginatedSeed,
    SeedRecord,
    StandardDataset,
)
from connectors.testing.guard import NetworkGuard, guard_network
from connectors.testing.kit import HTTP_TESTS, ConnectorConformance, erase_to_completion, record_text

__all__ = [
    "ABSENT",
    "FOREIGN_URL",
    "HTTP_TESTS",
    "LOCAL_FAKES",
    "LOCAL_POLICY",
    "RETRY_AFTER_SECONDS",
    "STANDARD",
    "ConnectorConformance",
    "FakeBackend",
    "FakeServerBackend",
    "Fault",
    "NetworkGuard",
    "PaginatedSeed",
    "SeedRecord",
    "StandardDataset",
    "erase_to_completion",
    "guard_network",
    "record_text",
]
