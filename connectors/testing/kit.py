"""The conformance kit: a pytest base class every connector's test suite subclasses.

Usage (see :mod:`connectors.testing` for the full guide)::

    class TestAcmeConformance(ConnectorConformance):
        http = True            # HTTP checks (429/5xx/401 mapping, pagination, foreign host)
        async_erase = False    # True when erase() returns a JobHandle

        @pytest.fixture
        def backend(self, acme_fake):
            backend = AcmeBackend(acme_fake)
            yield backend
            backend.close()

Every test gets a fresh backend (override the ``backend`` fixture), runs inside a network guard
that refuses any host but loopback and ``backend.allowed_hosts``, and collects DEBUG logs.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from connectors.base import Connector
from connectors.errors import AuthError, ConnectorError, PermanentError, RateLimited, TransientError
from connectors.ratelimit import MemoryRateLimiter, set_default_limiter
from connectors.registry import validate
from connectors.testing.backend import (
    FOREIGN_URL,
    RETRY_AFTER_SECONDS,
    STANDARD,
    FakeBackend,
    Fault,
    StandardDataset,
)
from connectors.testing.guard import NetworkGuard, guard_network
from connectors.types import CheckResult, ErasureMethod, ErasureResult, JobHandle, Record, Subject

__all__ = ["HTTP_TESTS", "ConnectorConformance", "erase_to_completion", "record_text"]

#: Tests that only make sense for HTTP backends; removed from classes declaring ``http = False``.
HTTP_TESTS = (
    "test_rate_limited_maps_to_rate_limited_with_server_delay",
    "test_server_errors_map_to_transient",
    "test_timeout_maps_to_transient",
    "test_malformed_json_is_a_connector_error",
    "test_401_and_403_map_to_auth_error",
    "test_check_reports_server_error_without_raising",
    "test_pagination_over_three_pages",
    "test_repeated_cursor_is_an_error",
    "test_redirect_to_another_host_is_refused",
)


def record_text(record: Record) -> str:
    """A record's data and id as one lower-cased string (for "does it mention X" checks)."""
    return (json.dumps(dict(record.data), default=str, sort_keys=True) + " " + str(record.record_id)).lower()


def erase_to_completion(
    backend: FakeBackend, connector: Connector, subject: Subject, *, max_polls: int = 20
) -> tuple[ErasureResult, JobHandle | None]:
    """Run ``erase`` and, for a ``JobHandle``, poll it (as a fresh worker would) until it completes.

    The handle goes through ``to_dict``/JSON/``from_dict`` and every poll uses a new connector
    instance, as the platform stores the handle and polls later from any worker.
    """
    outcome = connector.erase(subject)
    first_handle = outcome if isinstance(outcome, JobHandle) else None
    for _ in range(max_polls):
        if isinstance(outcome, ErasureResult):
            return outcome, first_handle
        assert isinstance(outcome, JobHandle), f"erase/poll returned {type(outcome).__name__}"
        stored = json.loads(json.dumps(outcome.to_dict()))
        backend.advance()
        with backend.make_connector(dry_run=connector.dry_run) as worker:
            outcome = worker.poll(JobHandle.from_dict(stored))
    raise AssertionError(f"the erase job did not complete after {max_polls} polls")


class ConnectorConformance:
    """Base class of a connector's conformance tests. Override the ``backend`` fixture.

    Class attributes (declared capabilities):

    - ``http``: the connector talks HTTP to its fake; ``False`` removes the HTTP-only tests
      (:data:`HTTP_TESTS`) from the class, e.g. for a SQL connector.
    - ``async_erase``: ``erase()`` returns a ``JobHandle`` that ``poll()`` completes.
    - ``erase_methods``: the methods a successful erase may report.
    """

    http: ClassVar[bool] = True
    async_erase: ClassVar[bool] = False
    erase_methods: ClassVar[frozenset[ErasureMethod]] = frozenset(
        {ErasureMethod.DELETED, ErasureMethod.ANONYMISED, ErasureMethod.QUEUED_AT_VENDOR}
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.http:
            for name in HTTP_TESTS:  # a declared capability: these tests do not exist for the class
                setattr(cls, name, None)

    # -- fixtures ------------------------------------------------------------------------------
    @pytest.fixture
    def backend(self) -> Iterator[FakeBackend]:
        raise NotImplementedError("override the `backend` fixture in your conformance class")
        return  # pragma: no cover

    @pytest.fixture(autouse=True)
    def fresh_rate_limiter(self) -> Iterator[None]:
        """A fresh in-memory default limiter per test: a 429 pause must not leak into the next test."""
        previous = set_default_limiter(MemoryRateLimiter())
        yield
        set_default_limiter(previous)

    @pytest.fixture(autouse=True)
    def network_guard(self, backend: FakeBackend) -> Iterator[NetworkGuard]:
        with guard_network(backend.allowed_hosts) as guard:
            yield guard
        assert not guard.violations, f"connections to unexpected hosts: {guard.violations}"

    @pytest.fixture
    def dataset(self, backend: FakeBackend) -> StandardDataset:
        return backend.seed_standard_dataset()

    # -- helpers -------------------------------------------------------------------------------
    def access_all(self, backend: FakeBackend, subject: Subject) -> list[Record]:
        with backend.make_connector() as connector:
            return list(connector.access(subject))

    def erase_fully(self, backend: FakeBackend, subject: Subject, *, dry_run: bool = False) -> ErasureResult:
        with backend.make_connector(dry_run=dry_run) as connector:
            result, _ = erase_to_completion(backend, connector, subject)
            return result

    def assert_target_found(self, records: list[Record], dataset: StandardDataset) -> None:
        texts = [record_text(r) for r in records]
        for seed in dataset.target_records:
            assert any(seed.marker.lower() in t for t in texts), (
                f"access did not return the target record {seed.key!r} (stored as {seed.email!r})"
            )

    def assert_no_decoy(self, records: list[Record], dataset: StandardDataset) -> None:
        for record in records:
            text = record_text(record)
            for decoy in dataset.decoys:
                assert decoy.marker.lower() not in text, f"access leaked the decoy {decoy.key!r}"
                assert decoy.email.lower() not in text, f"access leaked the decoy email of {decoy.key!r}"

    def snapshot(self, backend: FakeBackend, email: str) -> str:
        return json.dumps([dict(r) for r in backend.records_of(email)], default=str, sort_keys=True)

    def expect_error(self, backend: FakeBackend, fault: Fault, operation: str) -> ConnectorError:
        """Inject ``fault`` and run ``operation`` (access or erase) on the standard target."""
        backend.seed_standard_dataset()
        backend.inject(fault)
        with backend.make_connector() as connector:

            def run() -> object:
                if operation == "access":
                    return list(connector.access(STANDARD.target))
                return connector.erase(STANDARD.target)

            with pytest.raises(ConnectorError) as info:
                run()
        return info.value

    # -- registration and check -----------------------------------------------------------------
    def test_connector_class_is_valid(self, backend: FakeBackend) -> None:
        with backend.make_connector() as connector:
            assert validate(type(connector)) == []

    def test_check_ok_with_good_config(self, backend: FakeBackend) -> None:
        with backend.make_connector() as connector:
            result = connector.check()
        assert isinstance(result, CheckResult)
        assert result.ok, result.message

    def test_check_reports_bad_credentials_without_raising(self, backend: FakeBackend) -> None:
        with backend.make_connector_with_bad_credentials() as connector:
            result = connector.check()
        assert isinstance(result, CheckResult)
        assert not result.ok
        assert result.message

    def test_bad_credentials_raise_auth_error_on_access(self, backend: FakeBackend) -> None:
        backend.seed_standard_dataset()
        with backend.make_connector_with_bad_credentials() as connector, pytest.raises(AuthError):
            list(connector.access(STANDARD.target))

    # -- access ------------------------------------------------------------------------------
    def test_access_finds_target_including_other_case(
        self, backend: FakeBackend, dataset: StandardDataset
    ) -> None:
        records = self.access_all(backend, dataset.target)
        assert all(isinstance(r, Record) for r in records)
        self.assert_target_found(records, dataset)

    def test_access_never_returns_a_decoy(self, backend: FakeBackend, dataset: StandardDataset) -> None:
        self.assert_no_decoy(self.access_all(backend, dataset.target), dataset)

    def test_access_of_absent_subject_is_empty(self, backend: FakeBackend, dataset: StandardDataset) -> None:
        assert self.access_all(backend, dataset.absent) == []

    def test_access_writes_nothing(self, backend: FakeBackend, dataset: StandardDataset) -> None:
        before = backend.mutation_count()
        self.access_all(backend, dataset.target)
        self.access_all(backend, dataset.absent)
        assert backend.mutation_count() == before

    def test_records_are_json_serialisable(self, backend: FakeBackend, dataset: StandardDataset) -> None:
        for record in self.access_all(backend, dataset.target):
            json.dumps(dict(record.data))
            assert record.category

    # -- erase -------------------------------------------------------------------------------
    def test_dry_run_erase_writes_nothing(self, backend: FakeBackend, dataset: StandardDataset) -> None:
        before = backend.mutation_count()
        stored = self.snapshot(backend, dataset.target.email)
        with backend.make_connector(dry_run=True) as connector:
            result = connector.erase(dataset.target)
        assert isinstance(result, ErasureResult), "a dry run reports at once; it starts no vendor job"
        assert result.dry_run
        assert result.found >= len(dataset.target_records)
        assert backend.mutation_count() == before
        assert self.snapshot(backend, dataset.target.email) == stored
        self.assert_target_found(self.access_all(backend, dataset.target), dataset)

    def test_erase_then_access_is_empty(self, backend: FakeBackend, dataset: StandardDataset) -> None:
        result = self.erase_fully(backend, dataset.target)
        assert not result.dry_run
        assert result.found >= len(dataset.target_records)
        assert result.method in self.erase_methods
        assert result.erased + result.retained_count >= result.found or (
            result.method == ErasureMethod.QUEUED_AT_VENDOR
        )
        assert self.access_all(backend, dataset.target) == []
        assert backend.records_of(dataset.target.email) == []

    def test_second_erase_is_a_no_op(self, backend: FakeBackend, dataset: StandardDataset) -> None:
        self.erase_fully(backend, dataset.target)
        before = backend.mutation_count()
        with backend.make_connector() as connector:
            again = connector.erase(dataset.target)
        assert isinstance(again, ErasureResult), "a second erase must not start another vendor job"
        assert again.found == 0
        assert again.erased == 0
        assert backend.mutation_count() == before, "the second erase changed the vendor's data"

    def test_erase_leaves_decoys_untouched(self, backend: FakeBackend, dataset: StandardDataset) -> None:
        before = {d.email: self.snapshot(backend, d.email) for d in dataset.decoys}
        assert all(json.loads(v) for v in before.values()), "the backend did not store every decoy"
        self.erase_fully(backend, dataset.target)
        after = {d.email: self.snapshot(backend, d.email) for d in dataset.decoys}
        assert after == before

    def test_erase_of_absent_subject_is_a_no_op(self, backend: FakeBackend, dataset: StandardDataset) -> None:
        before = backend.mutation_count()
        with backend.make_connector() as connector:
            result = connector.erase(dataset.absent)
        assert isinstance(result, ErasureResult)
        assert result.found == 0
        assert result.erased == 0
        assert backend.mutation_count() == before

    def test_erase_returns_result_or_stores_a_handle(
        self, backend: FakeBackend, dataset: StandardDataset
    ) -> None:
        with backend.make_connector() as connector:
            outcome = connector.erase(dataset.target)
        if not self.async_erase:
            assert isinstance(outcome, ErasureResult)
            return
        assert isinstance(outcome, JobHandle), "async_erase = True but erase() did not return a JobHandle"
        json.dumps(outcome.to_dict())  # storable before the task returns
        after_submit = backend.mutation_count()
        result: ErasureResult | JobHandle = outcome
        for _ in range(20):
            if isinstance(result, ErasureResult):
                break
            backend.advance()
            with backend.make_connector() as worker:
                result = worker.poll(JobHandle.from_dict(json.loads(json.dumps(result.to_dict()))))
        assert isinstance(result, ErasureResult), "poll() never completed the job"
        assert backend.mutation_count() == after_submit, "poll() started a second vendor deletion"
        assert self.access_all(backend, dataset.target) == []

    # -- secrets and hosts -------------------------------------------------------------------
    def test_no_secret_in_logs_or_errors(
        self, backend: FakeBackend, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        secrets = [s for s in backend.secrets() if s]
        assert secrets, "the backend must report the secret values in play"
        errors: list[BaseException] = []
        texts: list[str] = []
        backend.seed_standard_dataset()
        with backend.make_connector_with_bad_credentials() as bad:
            texts.append(bad.check().message)
            try:
                list(bad.access(STANDARD.target))
            except ConnectorError as exc:
                errors.append(exc)
        if self.http:
            for fault in (Fault.UNAUTHORIZED, Fault.SERVER_ERROR, Fault.MALFORMED_JSON, Fault.RATE_LIMITED):
                backend.inject(fault)
                with backend.make_connector() as connector:
                    try:
                        list(connector.access(STANDARD.target))
                    except ConnectorError as exc:
                        errors.append(exc)
            set_default_limiter(MemoryRateLimiter())  # forget the 429's pause
        with backend.make_connector() as connector:
            texts.append(connector.check().message)
            list(connector.access(STANDARD.target))
            erase_to_completion(backend, connector, STANDARD.target)
        texts += ["".join(traceback.format_exception(exc)) for exc in errors]
        texts += [str(e.args) for e in errors]
        texts.append(caplog.text)
        texts += [str(r.args) for r in caplog.records]
        for secret in secrets:
            for text in texts:
                assert secret not in text, "a secret value appeared in a log line or an error"

    def test_no_connection_to_unexpected_host(
        self, backend: FakeBackend, dataset: StandardDataset, network_guard: NetworkGuard
    ) -> None:
        with backend.make_connector() as connector:
            connector.check()
            list(connector.access(dataset.target))
            erase_to_completion(backend, connector, dataset.target)
        assert not network_guard.violations

    # -- HTTP-only ---------------------------------------------------------------------------
    @pytest.mark.parametrize("operation", ["access", "erase"])
    def test_rate_limited_maps_to_rate_limited_with_server_delay(
        self, backend: FakeBackend, operation: str
    ) -> None:
        error = self.expect_error(backend, Fault.RATE_LIMITED, operation)
        assert isinstance(error, RateLimited), f"429 raised {type(error).__name__}"
        assert error.retry_after == pytest.approx(RETRY_AFTER_SECONDS, abs=0.5)

    @pytest.mark.parametrize("fault", [Fault.SERVER_ERROR, Fault.SERVICE_UNAVAILABLE])
    @pytest.mark.parametrize("operation", ["access", "erase"])
    def test_server_errors_map_to_transient(self, backend: FakeBackend, fault: Fault, operation: str) -> None:
        error = self.expect_error(backend, fault, operation)
        assert isinstance(error, TransientError)
        assert not isinstance(error, RateLimited)

    @pytest.mark.parametrize("operation", ["access", "erase"])
    def test_timeout_maps_to_transient(self, backend: FakeBackend, operation: str) -> None:
        assert isinstance(self.expect_error(backend, Fault.TIMEOUT, operation), TransientError)

    def test_malformed_json_is_a_connector_error(self, backend: FakeBackend) -> None:
        # ConnectorError of either kind; a raw ValueError/KeyError would crash the worker's policy.
        self.expect_error(backend, Fault.MALFORMED_JSON, "access")

    @pytest.mark.parametrize("fault", [Fault.UNAUTHORIZED, Fault.FORBIDDEN])
    @pytest.mark.parametrize("operation", ["access", "erase"])
    def test_401_and_403_map_to_auth_error(self, backend: FakeBackend, fault: Fault, operation: str) -> None:
        assert isinstance(self.expect_error(backend, fault, operation), AuthError)

    def test_check_reports_server_error_without_raising(self, backend: FakeBackend) -> None:
        backend.inject(Fault.SERVICE_UNAVAILABLE)
        with backend.make_connector() as connector:
            result = connector.check()
        assert not result.ok

    def test_pagination_over_three_pages(self, backend: FakeBackend) -> None:
        seed = backend.seed_paginated(3)
        before = backend.request_count()
        records = self.access_all(backend, seed.subject)
        assert backend.request_count() - before >= 3, "access did not page through the results"
        texts = [record_text(r) for r in records]
        for marker in seed.markers:
            assert any(marker.lower() in t for t in texts), f"record {marker} on a later page was missed"

    def test_repeated_cursor_is_an_error(self, backend: FakeBackend) -> None:
        seed = backend.seed_paginated(3)
        backend.inject(Fault.REPEATED_CURSOR)
        with backend.make_connector() as connector, pytest.raises(PermanentError):
            list(connector.access(seed.subject))

    def test_redirect_to_another_host_is_refused(
        self, backend: FakeBackend, network_guard: NetworkGuard
    ) -> None:
        error = self.expect_error(backend, Fault.FOREIGN_REDIRECT, "access")
        assert isinstance(error, PermanentError)
        assert not network_guard.violations, f"the connector followed a redirect to {FOREIGN_URL}"
