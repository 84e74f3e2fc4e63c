"""The SQL warehouse connector: find and erase a data subject's rows in a relational database.

Built on SQLAlchemy 2 Core. Every identifier in the configuration is checked against the live
catalogue before it is used, every value is a bound parameter, and one erasure is one transaction.
See ``connectors/sql/README.md`` for the configuration reference and the exact semantics.

This module is the facade: the connector's lifecycle and its operations. The work is in
``config.py`` (configuration), ``plan.py`` (reflection and the reference walk), ``read.py``
(access), ``erase.py`` (deletion and masking) and ``errors.py`` (error classification).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from connectors.base import Capability, Connector, ConnectorConfig
from connectors.errors import ConfigError, ConnectorError
from connectors.sql.config import SQLConfig, normalise_url
from connectors.sql.erase import Erasure
from connectors.sql.errors import translate
from connectors.sql.plan import TablePlan, build_plan, conditions
from connectors.sql.read import json_safe, read_rows
from connectors.types import CheckResult, ErasureResult, JobHandle, Record, Subject

__all__ = ["SQLConfig", "SQLConnector", "json_safe", "normalise_url"]


class SQLConnector(Connector):
    """Relational databases and warehouses (PostgreSQL, MySQL/MariaDB, SQLite, DuckDB)."""

    key = "sql"
    label = "SQL database / warehouse"
    category = "warehouse"
    capabilities = frozenset({Capability.ACCESS, Capability.ERASE})
    Config = SQLConfig

    page_size: ClassVar[int] = 1000  # rows per keyset page when reading or re-writing rows
    batch_size: ClassVar[int] = 200  # subjects per transaction in erase_many
    connect_timeout: ClassVar[int] = 10  # seconds, unless the URL sets its own

    config: SQLConfig

    def __init__(self, config: ConnectorConfig | Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self._engine: Engine | None = None
        self._plans: list[TablePlan] | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        self._plans = None

    def engine(self) -> Engine:
        """The connection pool, created on first use (pre-ping on, parameters hidden from errors)."""
        if self._engine is None:
            try:
                url = normalise_url(sa.make_url(self.config.url.get_secret_value()))
            except sa_exc.ArgumentError:
                raise ConfigError("url is not a valid SQLAlchemy database URL") from None
            connect_args: dict[str, Any] = {}
            backend = url.get_backend_name()
            if backend in {"postgresql", "mysql", "mariadb"} and "connect_timeout" not in url.query:
                connect_args["connect_timeout"] = self.connect_timeout
            try:
                self._engine = sa.create_engine(
                    url, pool_pre_ping=True, hide_parameters=True, connect_args=connect_args
                )
            except (sa_exc.NoSuchModuleError, ImportError):
                raise ConfigError(f"no SQLAlchemy driver is installed for {url.drivername!r}") from None
            except sa_exc.ArgumentError as exc:
                raise ConfigError(self.redact(f"url is not usable: {exc}")) from None
        return self._engine

    # -- secrets -----------------------------------------------------------------------------------
    def secret_values(self) -> list[str]:
        values = super().secret_values()
        try:
            password = sa.make_url(self.config.url.get_secret_value()).password
        except sa_exc.ArgumentError:
            password = None
        if password and len(password) >= 3:  # scrubbing 1-2 characters everywhere would garble text
            values.append(str(password))
        return sorted(values, key=len, reverse=True)  # the whole URL before the password inside it

    # -- operations --------------------------------------------------------------------------------
    def check(self) -> CheckResult:
        """Connect, validate every table and column against the catalogue, and report."""
        try:
            plans = self._plan()
            dialect = self.engine().dialect
        except ConnectorError as exc:
            return CheckResult(ok=False, message=self.redact(str(exc)))
        except Exception as exc:  # check() reports instead of raising, whatever went wrong
            return CheckResult(ok=False, message=self.redact(f"unexpected {type(exc).__name__}"))
        tables = ", ".join(plan.name for plan in plans)
        return CheckResult(
            ok=True,
            message=(
                f"connected to {dialect.name} (driver {dialect.driver}); tables {tables} match the catalogue"
            ),
        )

    def access(self, subject: Subject) -> Iterator[Record]:
        """Yield every row reached from ``subject``, parents before children, retained tables too.

        Rows are read in keyset pages of ``page_size`` (or streamed when a table has no single-column
        primary key), so memory stays flat however many rows a subject has.
        """
        plans = self._plan()
        where = conditions(plans, [subject])
        for plan in sorted(plans, key=lambda p: p.depth):
            condition = where[plan.name]
            if condition is None:
                continue
            yield from read_rows(self.engine(), plan, condition, page_size=self.page_size, redact=self.redact)

    def erase(self, subject: Subject) -> ErasureResult | JobHandle:
        """Erase ``subject`` in one transaction, children before parents (see README "Erasure")."""
        return self._erase_batch([subject])[0]

    def erase_many(self, subjects: Iterable[Subject]) -> list[ErasureResult | JobHandle]:
        """Erase several subjects with one statement per table per batch of ``batch_size`` subjects.

        Each batch is one transaction. Counts are taken per subject inside it, so every subject gets
        its own result; a row matching two subjects of a batch is counted for both.
        """
        pending = list(subjects)
        results: list[ErasureResult | JobHandle] = []
        for start in range(0, len(pending), self.batch_size):
            results.extend(self._erase_batch(pending[start : start + self.batch_size]))
        return results

    # -- planning ----------------------------------------------------------------------------------
    def _plan(self) -> list[TablePlan]:
        if self._plans is None:
            try:
                with self.engine().connect() as conn:
                    self._plans = build_plan(conn, self.config)
            except sa_exc.SQLAlchemyError as exc:
                raise self._translate(exc, "connecting and reading the catalogue") from None
        return self._plans

    # -- erasing -----------------------------------------------------------------------------------
    def _erase_batch(self, subjects: Sequence[Subject]) -> list[ErasureResult | JobHandle]:
        if not subjects:
            return []
        plans = self._plan()
        batch_conditions = conditions(plans, subjects)
        erasure = Erasure(config=self.config, dry_run=self.dry_run, page_size=self.page_size)
        try:
            with self.engine().connect() as conn, conn.begin() as transaction:
                tallies = erasure.run(conn, plans, batch_conditions, subjects)
                if self.dry_run:
                    transaction.rollback()  # nothing was written; end the read-only transaction cleanly
        except sa_exc.SQLAlchemyError as exc:
            raise self._translate(exc, "erasure (rolled back)") from None
        results: list[ErasureResult | JobHandle] = []
        for subject, tally in zip(subjects, tallies, strict=True):
            result = erasure.result(tally)
            self.log.info(
                "sql erase %s%s: found=%d erased=%d method=%s",
                subject.reference or "(no reference)",
                " (dry run)" if self.dry_run else "",
                result.found,
                result.erased,
                result.method.value,
            )
            results.append(result)
        return results

    # -- errors ------------------------------------------------------------------------------------
    def _translate(self, exc: sa_exc.SQLAlchemyError, action: str) -> ConnectorError:
        return translate(exc, action, redact=self.redact)
