"""The SQL warehouse connector: find and erase a data subject's rows in a relational database.

Built on SQLAlchemy 2 Core. Every identifier in the configuration is checked against the live
catalogue before it is used, every value is a bound parameter, and one erasure is one transaction.
See ``connectors/sql/README.md`` for the configuration reference and the exact semantics.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import difflib
import hashlib
import hmac
import math
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from connectors.base import Capability, Connector, ConnectorConfig
from connectors.errors import AuthError, ConfigError, ConnectorError, PermanentError, TransientError
from connectors.types import (
    CheckResult,
    ErasureMethod,
    ErasureResult,
    JobHandle,
    Record,
    Retained,
    Subject,
    normalise_email,
)

MatchField = Literal["email", "phone", "full_name"]
MaskKind = Literal["null", "redact", "hash", "generalise"]
EraseMode = Literal["delete", "mask", "retain"]

# Characters stripped from stored phone numbers before they are compared with the subject's digits.
_PHONE_SEPARATORS = (" ", "-", "(", ")", ".", "/", "+")
_HEX_DIGEST_LENGTH = 64  # HMAC-SHA256 as hex


# -- configuration ---------------------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParentRef(_Strict):
    """``column`` of this table holds values of ``references`` in the parent ``table``."""

    table: str
    column: str
    references: str


class EraseRule(_Strict):
    """How a table's matched rows are erased: deleted, masked column by column, or retained."""

    mode: EraseMode
    columns: dict[str, MaskKind] = Field(default_factory=dict)
    basis: str | None = None

    @field_validator("columns", mode="before")
    @classmethod
    def _yaml_null_means_null_mask(cls, value: Any) -> Any:
        # ``phone: null`` unquoted in YAML arrives as None; it obviously means the "null" mask.
        if isinstance(value, Mapping):
            return {key: ("null" if kind is None else kind) for key, kind in value.items()}
        return value

    @model_validator(mode="after")
    def _consistent(self) -> EraseRule:
        if self.mode == "mask" and not self.columns:
            raise ValueError("erase mode 'mask' needs at least one entry in 'columns'")
        if self.mode != "mask" and self.columns:
            raise ValueError(f"'columns' is only used with erase mode 'mask', not {self.mode!r}")
        if self.mode == "retain" and not (self.basis or "").strip():
            raise ValueError("erase mode 'retain' needs a 'basis' (the legal reason the rows are kept)")
        if self.mode != "retain" and self.basis:
            raise ValueError(f"'basis' is only used with erase mode 'retain', not {self.mode!r}")
        return self


class TableRule(_Strict):
    """One table: how its rows are found (``match`` or ``parent``) and how they are erased."""

    name: str
    primary_key: str | None = None
    match: dict[MatchField, str] = Field(default_factory=dict)
    parent: ParentRef | None = None
    erase: EraseRule

    @model_validator(mode="after")
    def _found_one_way(self) -> TableRule:
        if self.match and self.parent:
            raise ValueError(f"table {self.name!r} has both 'match' and 'parent'; use one of them")
        return self


# The URL people copy from their database console names no driver (``postgresql://``, ``mysql://``);
# SQLAlchemy would then look for psycopg2 or mysqlclient, which are not installed. Such a URL is
# completed with the driver this package installs (psycopg 3, PyMySQL); one that names a driver is
# used as it is.
DEFAULT_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}


def normalise_url(url: sa.URL) -> sa.URL:
    """``url`` with the installed driver filled in for a bare PostgreSQL, MySQL or MariaDB scheme."""
    return url.set(drivername=DEFAULT_DRIVERS.get(url.drivername, url.drivername))


class SQLConfig(ConnectorConfig):
    """Configuration of the SQL connector (see README.md for every field)."""

    url: SecretStr = Field(
        description=(
            "SQLAlchemy database URL. postgresql:// and postgres:// use psycopg 3, mysql:// and "
            "mariadb:// use PyMySQL; sqlite:/// and duckdb:/// need nothing else."
        )
    )
    db_schema: str | None = Field(default=None, alias="schema")
    hash_key: SecretStr | None = None
    redact_text: str = "[erased]"
    tables: list[TableRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _coherent(self) -> SQLConfig:
        problems = _structural_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def rule(self, name: str) -> TableRule:
        return next(rule for rule in self.tables if rule.name == name)


def _root_of(config: SQLConfig, rule: TableRule) -> TableRule:
    by_name = {r.name: r for r in config.tables}
    while rule.parent is not None:
        rule = by_name[rule.parent.table]
    return rule


def _structural_problems(config: SQLConfig) -> list[str]:
    """Problems visible without a database: unknown parents, cycles, roots that cannot match."""
    names = [rule.name for rule in config.tables]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        return [f"table {', '.join(duplicates)} is listed more than once"]
    by_name = {rule.name: rule for rule in config.tables}
    problems = []
    for rule in config.tables:
        if rule.parent is not None and rule.parent.table not in by_name:
            problems.append(
                f"table {rule.name!r}: its parent table {rule.parent.table!r} is not listed in 'tables'"
            )
    if problems:
        return problems
    for rule in config.tables:
        seen = [rule.name]
        current = rule
        while current.parent is not None:
            current = by_name[current.parent.table]
            if current.name in seen:
                cycle = " -> ".join([*seen[seen.index(current.name) :], current.name])
                return [f"the parent references form a cycle: {cycle}"]
            seen.append(current.name)
    hashed: list[str] = []
    for rule in config.tables:
        hashed += [f"{rule.name}.{col}" for col, kind in rule.erase.columns.items() if kind == "hash"]
        if rule.parent is None:
            if not rule.match:
                problems.append(f"table {rule.name!r} has no parent, so it needs 'match'")
                continue
            if "email" not in rule.match and "phone" not in rule.match:
                problems.append(
                    f"table {rule.name!r} matches on full_name only; a name alone never identifies "
                    "a person, add an email or phone column to 'match'"
                )
            if rule.erase.mode == "mask":
                unmasked = sorted(set(rule.match.values()) - set(rule.erase.columns))
                if unmasked:
                    problems.append(
                        f"table {rule.name!r} is masked but its match column(s) {', '.join(unmasked)} "
                        "are not in erase.columns: the person would stay identifiable and a second "
                        "erase would find the rows again"
                    )
        elif rule.erase.mode == "mask" and _root_of(config, rule).erase.mode == "retain":
            problems.append(
                f"table {rule.name!r} is masked but its root table {_root_of(config, rule).name!r} is "
                "retained, so the masked rows stay reachable and a second erase would mask them again; "
                "delete or retain it instead"
            )
    if hashed and (config.hash_key is None or not config.hash_key.get_secret_value()):
        problems.append(f"hash_key is required because {', '.join(hashed)} use(s) the 'hash' mask")
    return problems


# -- the plan: the configuration bound to the live catalogue -----------------------------------------
@dataclass(frozen=True)
class _TablePlan:
    rule: TableRule
    table: sa.Table
    key: tuple[str, ...]  # primary-key columns, empty if the table has none
    depth: int
    parent: _TablePlan | None
    detach: bool  # masking also nulls the reference column, because the parent rows are deleted

    @property
    def name(self) -> str:
        return self.rule.name


@dataclass
class _Counts:
    """Per-subject tallies while an erasure batch runs."""

    found: int = 0
    deleted: dict[str, int] = field(default_factory=dict)
    masked: dict[str, int] = field(default_factory=dict)
    retained: list[Retained] = field(default_factory=list)


def json_safe(value: Any) -> Any:
    """Return ``value`` as something ``json.dumps`` accepts, without losing information.

    Decimals become strings (exact), dates and times ISO 8601 strings, bytes base64, UUIDs strings.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(item) for item in value]
    return str(value)


def _phone_digits(value: str | None) -> str:
    return "".join(ch for ch in (value or "") if ch.isdigit())


def _is_text(column: sa.Column[Any]) -> bool:
    return isinstance(column.type, sa.String | sa.types.NullType)


def _is_temporal(column: sa.Column[Any]) -> bool:
    return isinstance(column.type, sa.Date | sa.DateTime | sa.types.NullType)


def _generalise(value: Any) -> Any:
    """Truncate a date or timestamp to the first instant of its year (keeps the time zone)."""
    if isinstance(value, dt.datetime):
        return value.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if isinstance(value, dt.date):
        return dt.date(value.year, 1, 1)
    return value


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
        self._plans: list[_TablePlan] | None = None

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
        conditions = self._conditions(plans, [subject])
        for plan in sorted(plans, key=lambda p: p.depth):
            condition = conditions[plan.name]
            if condition is None:
                continue
            yield from self._read(plan, condition)

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
    def _plan(self) -> list[_TablePlan]:
        if self._plans is None:
            try:
                with self.engine().connect() as conn:
                    self._plans = self._build_plan(conn)
            except sa_exc.SQLAlchemyError as exc:
                raise self._translate(exc, "connecting and reading the catalogue") from None
        return self._plans

    def _build_plan(self, conn: Connection) -> list[_TablePlan]:
        cfg = self.config
        schema = cfg.db_schema
        inspector = sa.inspect(conn)
        if schema is not None and not inspector.has_schema(schema):
            raise ConfigError(f"schema {schema!r} does not exist")
        where = f" in schema {schema!r}" if schema else ""
        existing = set(inspector.get_table_names(schema=schema))
        problems: list[str] = []
        for rule in cfg.tables:
            if rule.name not in existing:
                problems.append(f"table {rule.name!r} does not exist{where}{_hint(rule.name, existing)}")
        if problems:
            raise ConfigError("; ".join(problems))

        tables: dict[str, sa.Table] = {}
        keys: dict[str, tuple[str, ...]] = {}
        metadata = sa.MetaData()
        for rule in cfg.tables:
            columns = inspector.get_columns(rule.name, schema=schema)
            reflected_key = self._reflected_key(conn, inspector, rule.name)
            key = (rule.primary_key,) if rule.primary_key else reflected_key
            tables[rule.name] = sa.Table(
                rule.name,
                metadata,
                *[
                    sa.Column(c["name"], c["type"], nullable=c.get("nullable", True), primary_key=False)
                    for c in columns
                ],
                schema=schema,
            )
            keys[rule.name] = key
        for rule in cfg.tables:
            problems += self._column_problems(rule, tables, keys)
        foreign_keys = {rule.name: self._foreign_keys(conn, inspector, rule.name) for rule in cfg.tables}
        problems += self._relationship_problems(conn, tables, foreign_keys)
        if problems:
            raise ConfigError("; ".join(problems))

        plans: dict[str, _TablePlan] = {}

        def build(rule: TableRule) -> _TablePlan:
            if rule.name not in plans:
                parent = build(cfg.rule(rule.parent.table)) if rule.parent else None
                detach = bool(
                    rule.parent
                    and parent is not None
                    and rule.erase.mode == "mask"
                    and parent.rule.erase.mode == "delete"
                    and tables[rule.name].c[rule.parent.column].nullable
                )
                plans[rule.name] = _TablePlan(
                    rule=rule,
                    table=tables[rule.name],
                    key=keys[rule.name],
                    depth=0 if parent is None else parent.depth + 1,
                    parent=parent,
                    detach=detach,
                )
            return plans[rule.name]

        return [build(rule) for rule in cfg.tables]

    def _column_problems(
        self, rule: TableRule, tables: Mapping[str, sa.Table], keys: Mapping[str, tuple[str, ...]]
    ) -> list[str]:
        table = tables[rule.name]
        problems = []

        def missing(column: str, role: str, in_table: sa.Table = table) -> bool:
            if column in in_table.c:
                return False
            names = set(in_table.c.keys())
            problems.append(f"column {in_table.name}.{column} ({role}) does not exist{_hint(column, names)}")
            return True

        if rule.primary_key:
            missing(rule.primary_key, "primary_key")
        for identity, column in rule.match.items():
            if not missing(column, f"match.{identity}") and not _is_text(table.c[column]):
                problems.append(f"column {rule.name}.{column} (match.{identity}) must be a text column")
        if rule.parent is not None:
            missing(rule.parent.column, "parent.column")
            missing(rule.parent.references, "parent.references", tables[rule.parent.table])
        needs_key = False
        for column, kind in rule.erase.columns.items():
            if missing(column, f"mask {kind}"):
                continue
            col = table.c[column]
            where = f"{rule.name}.{column}"
            if kind == "null" and not col.nullable:
                problems.append(f"column {where} is NOT NULL, so it cannot be masked with 'null'")
            if kind in {"redact", "hash"} and not _is_text(col):
                problems.append(f"column {where} is not a text column, so it cannot be masked with {kind!r}")
            length = getattr(col.type, "length", None)
            if kind == "redact" and length is not None and length < len(self.config.redact_text):
                problems.append(f"column {where} holds {length} characters, too few for redact_text")
            if kind == "hash" and length is not None and length < _HEX_DIGEST_LENGTH:
                problems.append(f"column {where} holds {length} characters; a hash needs 64")
            if kind == "generalise" and not _is_temporal(col):
                problems.append(f"column {where} is not a date or timestamp, so it cannot be generalised")
            needs_key = needs_key or kind in {"hash", "generalise"}
        if needs_key and len(keys[rule.name]) != 1:
            problems.append(
                f"table {rule.name!r} needs a single-column primary key (set primary_key) "
                "because hash and generalise masks rewrite rows one by one"
            )
        return problems

    def _relationship_problems(
        self,
        conn: Connection,
        tables: Mapping[str, sa.Table],
        foreign_keys: Mapping[str, list[tuple[tuple[str, ...], str, tuple[str, ...]]]],
    ) -> list[str]:
        """Kept children of deleted parents, and DuckDB's foreign-key limitation."""
        problems = []
        for rule in self.config.tables:
            if rule.parent is None:
                continue
            parent = self.config.rule(rule.parent.table)
            if parent.erase.mode != "delete" or rule.erase.mode == "delete":
                continue
            constrained = ((rule.parent.column,), parent.name, (rule.parent.references,)) in foreign_keys[
                rule.name
            ]
            if not constrained:
                continue  # without a constraint the kept rows simply lose their parent
            if rule.erase.mode == "retain":
                problems.append(
                    f"table {rule.name!r} is retained but its parent {parent.name!r} is deleted, and the "
                    f"foreign key {rule.name}.{rule.parent.column} -> {parent.name}.{rule.parent.references} "
                    "would block the deletion (or cascade into the retained rows); mask the parent instead"
                )
            elif not tables[rule.name].c[rule.parent.column].nullable:
                problems.append(
                    f"table {rule.name!r} is masked but its parent {parent.name!r} is deleted, and "
                    f"{rule.name}.{rule.parent.column} is NOT NULL with a foreign key, so the link cannot "
                    "be cut; delete the child or mask the parent instead"
                )
        if conn.dialect.name == "duckdb":
            referenced = {target for fks in foreign_keys.values() for _, target, _ in fks}
            referenced |= self._duckdb_referenced_tables(conn)
            for rule in self.config.tables:
                if rule.erase.mode == "delete" and rule.name in referenced:
                    problems.append(
                        f"table {rule.name!r} is referenced by a foreign key; DuckDB cannot delete such rows "
                        "in the same transaction as the rows that reference them (a documented DuckDB "
                        "limitation), so drop the constraint or mask this table instead"
                    )
        return problems

    def _reflected_key(self, conn: Connection, inspector: sa.Inspector, table: str) -> tuple[str, ...]:
        if conn.dialect.name == "duckdb":  # duckdb-engine cannot reflect constraints (no REGCLASS)
            for kind, columns, _, _ in self._duckdb_constraints(conn, table):
                if kind == "PRIMARY KEY":
                    return tuple(columns)
            return ()
        return tuple(inspector.get_pk_constraint(table, schema=self.config.db_schema)["constrained_columns"])

    def _foreign_keys(
        self, conn: Connection, inspector: sa.Inspector, table: str
    ) -> list[tuple[tuple[str, ...], str, tuple[str, ...]]]:
        if conn.dialect.name == "duckdb":
            return [
                (tuple(columns), str(target), tuple(targets))
                for kind, columns, target, targets in self._duckdb_constraints(conn, table)
                if kind == "FOREIGN KEY"
            ]
        return [
            (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
            for fk in inspector.get_foreign_keys(table, schema=self.config.db_schema)
        ]

    def _duckdb_constraints(
        self, conn: Connection, table: str
    ) -> list[tuple[str, list[str], str, list[str]]]:
        query = sa.text(
            "SELECT constraint_type, constraint_column_names, referenced_table, referenced_column_names "
            "FROM duckdb_constraints() WHERE table_name = :table AND schema_name = :schema"
        )
        schema = self.config.db_schema or sa.inspect(conn).default_schema_name or "main"
        rows = conn.execute(query, {"table": table, "schema": schema}).all()
        return [(str(r[0]), list(r[1] or []), str(r[2] or ""), list(r[3] or [])) for r in rows]

    def _duckdb_referenced_tables(self, conn: Connection) -> set[str]:
        query = sa.text(
            "SELECT DISTINCT referenced_table FROM duckdb_constraints() "
            "WHERE constraint_type = 'FOREIGN KEY' AND schema_name = :schema"
        )
        schema = self.config.db_schema or sa.inspect(conn).default_schema_name or "main"
        return {str(row[0]) for row in conn.execute(query, {"schema": schema})}

    # -- matching ----------------------------------------------------------------------------------
    def _conditions(
        self, plans: Sequence[_TablePlan], subjects: Sequence[Subject]
    ) -> dict[str, sa.ColumnElement[bool] | None]:
        """The WHERE clause selecting each table's rows for ``subjects`` (None: nothing can match)."""
        conditions: dict[str, sa.ColumnElement[bool] | None] = {}
        for plan in sorted(plans, key=lambda p: p.depth):
            if plan.parent is None:
                conditions[plan.name] = self._root_condition(plan, subjects)
                continue
            assert plan.rule.parent is not None
            parent_condition = conditions[plan.parent.name]
            if parent_condition is None:
                conditions[plan.name] = None
                continue
            ref = plan.rule.parent
            parent_values = sa.select(plan.parent.table.c[ref.references]).where(parent_condition)
            conditions[plan.name] = plan.table.c[ref.column].in_(parent_values)
        return conditions

    def _root_condition(self, plan: _TablePlan, subjects: Sequence[Subject]) -> sa.ColumnElement[bool] | None:
        match = plan.rule.match
        if "full_name" in match:
            # The name narrows each subject's own identities; it never matches on its own.
            per_subject = [self._subject_condition(plan, subject) for subject in subjects]
            present = [condition for condition in per_subject if condition is not None]
            return sa.or_(*present) if present else None
        emails = {normalise_email(s.email) for s in subjects if s.email and s.email.strip()}
        phones = {_phone_digits(s.phone) for s in subjects if _phone_digits(s.phone)}
        return self._identity_condition(plan, emails, phones)

    def _subject_condition(self, plan: _TablePlan, subject: Subject) -> sa.ColumnElement[bool] | None:
        emails = {normalise_email(subject.email)} if subject.email and subject.email.strip() else set()
        phones = {_phone_digits(subject.phone)} if _phone_digits(subject.phone) else set()
        identity = self._identity_condition(plan, emails, phones)
        if identity is None or not subject.full_name:
            return identity
        name_column = plan.table.c[plan.rule.match["full_name"]]
        name = " ".join(subject.full_name.split()).lower()
        return sa.and_(identity, sa.func.lower(sa.func.trim(name_column)) == name)

    @staticmethod
    def _identity_condition(
        plan: _TablePlan, emails: set[str], phones: set[str]
    ) -> sa.ColumnElement[bool] | None:
        parts: list[sa.ColumnElement[bool]] = []
        match = plan.rule.match
        if "email" in match and emails:
            stored = sa.func.lower(sa.func.trim(plan.table.c[match["email"]]))
            parts.append(stored.in_(sorted(emails)))
        if "phone" in match and phones:
            digits: sa.ColumnElement[Any] = sa.func.trim(plan.table.c[match["phone"]])
            for separator in _PHONE_SEPARATORS:
                digits = sa.func.replace(digits, separator, "")
            parts.append(digits.in_(sorted(phones)))
        return sa.or_(*parts) if parts else None

    # -- reading -----------------------------------------------------------------------------------
    def _read(self, plan: _TablePlan, condition: sa.ColumnElement[bool]) -> Iterator[Record]:
        table = plan.table
        if len(plan.key) == 1:
            key = table.c[plan.key[0]]
            last: Any = None
            while True:
                query = sa.select(table).where(condition).order_by(key).limit(self.page_size)
                if last is not None:
                    query = query.where(key > last)
                try:
                    with self.engine().connect() as conn:
                        rows = conn.execute(query).mappings().all()
                except sa_exc.SQLAlchemyError as exc:
                    raise self._translate(exc, f"reading {plan.name}") from None
                for row in rows:
                    yield self._record(plan, row)
                if len(rows) < self.page_size:
                    return
                last = rows[-1][key.name]
        # No single-column key to page on: stream the result from one cursor instead.
        try:
            with self.engine().connect() as conn:
                options = {"stream_results": True, "yield_per": self.page_size}
                result = conn.execute(sa.select(table).where(condition), execution_options=options)
                for row in result.mappings():
                    yield self._record(plan, row)
        except sa_exc.SQLAlchemyError as exc:
            raise self._translate(exc, f"reading {plan.name}") from None

    def _record(self, plan: _TablePlan, row: Mapping[Any, Any]) -> Record:
        record_id = ":".join(str(row[name]) for name in plan.key) if plan.key else None
        return Record(
            category=plan.name,
            data={str(name): json_safe(value) for name, value in row.items()},
            record_id=record_id,
        )

    # -- erasing -----------------------------------------------------------------------------------
    def _erase_batch(self, subjects: Sequence[Subject]) -> list[ErasureResult | JobHandle]:
        if not subjects:
            return []
        plans = self._plan()
        batch_conditions = self._conditions(plans, subjects)
        tallies = [_Counts() for _ in subjects]
        try:
            with self.engine().connect() as conn, conn.begin() as transaction:
                # Deepest tables first: a child's rows are found through its parent's, so the parent
                # must still be intact when the child is processed.
                counts = self._counts(conn, plans, batch_conditions, subjects)
                for plan in sorted(plans, key=lambda p: p.depth, reverse=True):
                    self._erase_table(conn, plan, batch_conditions[plan.name], counts[plan.name], tallies)
                if self.dry_run:
                    transaction.rollback()  # nothing was written; end the read-only transaction cleanly
        except sa_exc.SQLAlchemyError as exc:
            raise self._translate(exc, "erasure (rolled back)") from None
        results: list[ErasureResult | JobHandle] = []
        for subject, tally in zip(subjects, tallies, strict=True):
            result = self._result(tally)
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

    def _counts(
        self,
        conn: Connection,
        plans: Sequence[_TablePlan],
        batch_conditions: Mapping[str, sa.ColumnElement[bool] | None],
        subjects: Sequence[Subject],
    ) -> dict[str, list[int]]:
        """Rows per table per subject, all read before anything is written.

        One subject: a COUNT per table. A batch: one pass over each table's matched rows, attributing
        every row to its subjects in Python (a COUNT per subject would scan each table once per
        subject). If a row cannot be attributed (a database whose ``lower`` differs from Python's),
        the batch falls back to a COUNT per subject, which is slower but exact.
        """
        if len(subjects) == 1:
            return {plan.name: [self._count(conn, plan.table, batch_conditions[plan.name])] for plan in plans}
        attributed = self._attribute(conn, plans, batch_conditions, subjects)
        if attributed is not None:
            return attributed
        per_subject = [self._conditions(plans, [subject]) for subject in subjects]
        return {
            plan.name: [self._count(conn, plan.table, conditions[plan.name]) for conditions in per_subject]
            for plan in plans
        }

    def _attribute(
        self,
        conn: Connection,
        plans: Sequence[_TablePlan],
        batch_conditions: Mapping[str, sa.ColumnElement[bool] | None],
        subjects: Sequence[Subject],
    ) -> dict[str, list[int]] | None:
        by_email: dict[str, set[int]] = {}
        by_phone: dict[str, set[int]] = {}
        for index, subject in enumerate(subjects):
            if subject.email and subject.email.strip():
                by_email.setdefault(normalise_email(subject.email), set()).add(index)
            if _phone_digits(subject.phone):
                by_phone.setdefault(_phone_digits(subject.phone), set()).add(index)
        names = [" ".join(s.full_name.split()).lower() if s.full_name else None for s in subjects]
        # (table, column, value) -> the subjects owning the rows that carry that value
        owners: dict[tuple[str, str, Any], set[int]] = {}
        counts: dict[str, list[int]] = {}
        for plan in sorted(plans, key=lambda p: p.depth):
            counts[plan.name] = tally = [0] * len(subjects)
            condition = batch_conditions[plan.name]
            if condition is None:
                continue
            referenced = sorted(
                {c.rule.parent.references for c in plans if c.parent is plan and c.rule.parent}
            )
            own = list(plan.rule.match.values()) if plan.rule.parent is None else [plan.rule.parent.column]
            columns = list(dict.fromkeys(own + referenced))
            query = sa.select(*[plan.table.c[name] for name in columns]).where(condition)
            with conn.execute(query, execution_options={"yield_per": self.page_size}) as result:
                for row in result.mappings():
                    found = self._owners_of(plan, row, by_email, by_phone, names, owners)
                    if not found:
                        return None
                    for index in found:
                        tally[index] += 1
                    for name in referenced:
                        owners.setdefault((plan.name, name, row[name]), set()).update(found)
        return counts

    @staticmethod
    def _owners_of(
        plan: _TablePlan,
        row: Mapping[Any, Any],
        by_email: Mapping[str, set[int]],
        by_phone: Mapping[str, set[int]],
        names: Sequence[str | None],
        owners: Mapping[tuple[str, str, Any], set[int]],
    ) -> set[int]:
        """The subjects a matched row belongs to, mirroring the SQL matching rules in Python."""
        if plan.parent is not None and plan.rule.parent is not None:
            return owners.get(
                (plan.parent.name, plan.rule.parent.references, row[plan.rule.parent.column]), set()
            )
        match = plan.rule.match
        found: set[int] = set()
        if "email" in match and isinstance(row[match["email"]], str):
            found |= by_email.get(row[match["email"]].strip(" ").lower(), set())
        if "phone" in match and isinstance(row[match["phone"]], str):
            stored = row[match["phone"]].strip(" ")
            for separator in _PHONE_SEPARATORS:
                stored = stored.replace(separator, "")
            found |= by_phone.get(stored, set())
        if "full_name" in match:
            stored_name = str(row[match["full_name"]] or "").strip(" ").lower()
            found = {i for i in found if names[i] is None or names[i] == stored_name}
        return found

    def _erase_table(
        self,
        conn: Connection,
        plan: _TablePlan,
        condition: sa.ColumnElement[bool] | None,
        counts: list[int],
        tallies: Sequence[_Counts],
    ) -> None:
        """Record ``plan``'s rows per subject, then delete or mask them with one statement per batch."""
        mode = plan.rule.erase.mode
        for tally, count in zip(tallies, counts, strict=True):
            tally.found += count
            if mode == "retain" and count:
                tally.retained.append(Retained(plan.name, count, plan.rule.erase.basis or ""))
        if mode == "retain" or condition is None or not any(counts):
            return
        written = -1
        if not self.dry_run:
            written = (
                self._delete(conn, plan, condition) if mode == "delete" else self._mask(conn, plan, condition)
            )
        if len(tallies) == 1 and written >= 0:
            counts = [written]  # the statement's own row count is the exact figure
        target = "deleted" if mode == "delete" else "masked"
        for tally, count in zip(tallies, counts, strict=True):
            if count:
                getattr(tally, target)[plan.name] = count

    @staticmethod
    def _count(conn: Connection, table: sa.Table, condition: sa.ColumnElement[bool] | None) -> int:
        if condition is None:
            return 0
        return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(condition)).scalar_one())

    @staticmethod
    def _delete(conn: Connection, plan: _TablePlan, condition: sa.ColumnElement[bool]) -> int:
        return int(conn.execute(sa.delete(plan.table).where(condition)).rowcount)

    def _mask(self, conn: Connection, plan: _TablePlan, condition: sa.ColumnElement[bool]) -> int:
        """Overwrite the masked columns; returns the rows changed (-1 if the driver cannot tell)."""
        table = plan.table
        fixed: dict[str, Any] = {}
        computed: dict[str, MaskKind] = {}
        for column, kind in plan.rule.erase.columns.items():
            if kind == "null":
                fixed[column] = None
            elif kind == "redact":
                fixed[column] = self.config.redact_text
            else:
                computed[column] = kind
        if plan.detach:
            assert plan.rule.parent is not None
            fixed[plan.rule.parent.column] = None  # cut the link to the deleted parent row
        if not computed:
            return int(conn.execute(sa.update(table).where(condition).values(fixed)).rowcount)

        # Keyed hashes and generalised dates are computed here (portably), one keyset page at a time.
        key = table.c[plan.key[0]]
        names = list(fixed) + list(computed)
        statement = (
            sa.update(table)
            .where(key == sa.bindparam("m_key"))
            .values({name: sa.bindparam(f"m_{i}") for i, name in enumerate(names)})
        )
        changed = 0
        last: Any = None
        while True:
            query = sa.select(key, *[table.c[name] for name in computed]).where(condition)
            if last is not None:
                query = query.where(key > last)
            rows = conn.execute(query.order_by(key).limit(self.page_size)).all()
            if not rows:
                return changed
            batch = []
            for row in rows:
                values = dict(fixed)
                for position, (name, kind) in enumerate(computed.items(), start=1):
                    values[name] = self._hash(row[position]) if kind == "hash" else _generalise(row[position])
                params = {f"m_{i}": values[name] for i, name in enumerate(names)}
                params["m_key"] = row[0]
                batch.append(params)
            conn.execute(statement, batch)
            changed += len(rows)
            last = rows[-1][0]

    def _hash(self, value: Any) -> str | None:
        """HMAC-SHA256 (hex) of the trimmed, lower-cased value: one value always gives one token."""
        if value is None:
            return None
        assert self.config.hash_key is not None  # guaranteed by the config validation
        key = self.config.hash_key.get_secret_value().encode()
        return hmac.new(key, str(value).strip().lower().encode(), hashlib.sha256).hexdigest()

    def _result(self, tally: _Counts) -> ErasureResult:
        erased = sum(tally.deleted.values()) + sum(tally.masked.values())
        if not erased:
            method = ErasureMethod.NONE
        elif tally.masked:
            method = ErasureMethod.ANONYMISED  # some rows survive, anonymised, so "deleted" would overclaim
        else:
            method = ErasureMethod.DELETED
        per_category = {**tally.deleted, **tally.masked}
        notes = []
        if tally.deleted:
            notes.append("deleted: " + ", ".join(f"{t} ({n})" for t, n in tally.deleted.items()))
        if tally.masked:
            notes.append("anonymised: " + ", ".join(f"{t} ({n})" for t, n in tally.masked.items()))
        if self.dry_run:
            notes.append("dry run: nothing was changed")
        return ErasureResult(
            found=tally.found,
            erased=erased,
            method=method,
            retained=tuple(tally.retained),
            dry_run=self.dry_run,
            per_category=per_category,
            notes="; ".join(notes),
        )

    # -- errors ------------------------------------------------------------------------------------
    def _translate(self, exc: sa_exc.SQLAlchemyError, action: str) -> ConnectorError:
        """Map a database error to the SDK's error classes, with secrets and bound values left out."""
        orig = getattr(exc, "orig", None)
        detail = str(orig) if orig is not None else str(exc).split("\n(Background", 1)[0]
        # First line only: later lines (PostgreSQL DETAIL, SQLAlchemy's [SQL: ...]) may quote data.
        detail = (detail.strip().splitlines() or [type(exc).__name__])[0]
        message = self.redact(f"{action} failed: {detail}")
        cls = _classify(exc, orig)
        return cls(message)


def _hint(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# PostgreSQL SQLSTATE classes and codes: https://www.postgresql.org/docs/current/errcodes-appendix.html
_PG_TRANSIENT_PREFIXES = ("08", "40", "53", "57", "58", "55P03", "HY")
_PG_AUTH = ("28", "42501")
_PG_CONFIG = ("3D", "3F", "42P01", "42703", "42883")
# MySQL/MariaDB server and client error numbers.
_MYSQL_TRANSIENT = {1040, 1053, 1205, 1213, 1317, 2002, 2003, 2005, 2006, 2013, 2055, 1927, 3024}
_MYSQL_AUTH = {1044, 1045, 1142, 1143, 1227, 1698}
_MYSQL_CONFIG = {1049, 1146, 1054, 1051}


def _classify(exc: sa_exc.SQLAlchemyError, orig: object) -> type[ConnectorError]:
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return TransientError
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return TransientError
    module = type(orig).__module__
    if module.startswith(("pymysql", "MySQLdb")):  # they carry a SQLSTATE too, but the number is finer
        args = getattr(orig, "args", ())
        code = args[0] if args and isinstance(args[0], int) else None
        if code in _MYSQL_AUTH:
            return AuthError
        if code in _MYSQL_CONFIG:
            return ConfigError
        if code in _MYSQL_TRANSIENT or code is None:
            return TransientError
        return PermanentError
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        if sqlstate.startswith(_PG_AUTH):
            return AuthError
        if sqlstate.startswith(_PG_CONFIG):
            return ConfigError
        if sqlstate.startswith(_PG_TRANSIENT_PREFIXES):
            return TransientError
        return PermanentError
    if module.startswith("psycopg"):  # refused before a session exists: no SQLSTATE, only the text
        text = str(orig)
        if "password authentication failed" in text or ("role" in text and "does not exist" in text):
            return AuthError
        if "database" in text and "does not exist" in text:
            return ConfigError
    name = type(orig).__name__
    if "duckdb" in module:
        if name in {"IOException", "ConnectionException", "TransactionException", "InterruptException"}:
            return TransientError
        if name in {"CatalogException", "BinderException"}:
            return ConfigError
        if name == "PermissionException":
            return AuthError
        return PermanentError
    if module.startswith("sqlite3"):
        text = str(orig).lower()
        if "locked" in text or "busy" in text or "disk i/o" in text:
            return TransientError
        if "no such table" in text or "no such column" in text or "unable to open" in text:
            return ConfigError
        if "readonly" in text or "permission" in text:
            return AuthError
        return PermanentError
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return TransientError  # lost connections, timeouts, deadlocks for drivers not handled above
    if isinstance(exc, sa_exc.NoSuchTableError):
        return ConfigError
    return PermanentError
