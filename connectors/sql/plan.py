"""The SQL connector's plan: the configuration bound to the live catalogue (reflection, with every
identifier checked), and the reference walk that turns a subject into each table's WHERE clause
(customers.email -> customers.id -> orders.customer_id)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from connectors.errors import ConfigError
from connectors.sql.config import SQLConfig, TableRule
from connectors.types import Subject, normalise_email

__all__ = ["PHONE_SEPARATORS", "TablePlan", "build_plan", "conditions", "phone_digits"]

# Characters stripped from stored phone numbers before they are compared with the subject's digits.
PHONE_SEPARATORS = (" ", "-", "(", ")", ".", "/", "+")
_HEX_DIGEST_LENGTH = 64  # HMAC-SHA256 as hex


@dataclass(frozen=True)
class TablePlan:
    """One configured table bound to the live catalogue: its reflected columns, key and parent."""

    rule: TableRule
    table: sa.Table
    key: tuple[str, ...]  # primary-key columns, empty if the table has none
    depth: int
    parent: TablePlan | None
    detach: bool  # masking also nulls the reference column, because the parent rows are deleted

    @property
    def name(self) -> str:
        return self.rule.name


def phone_digits(value: str | None) -> str:
    """The digits of a phone number, separators and the leading + dropped."""
    return "".join(ch for ch in (value or "") if ch.isdigit())


def _is_text(column: sa.Column[Any]) -> bool:
    return isinstance(column.type, sa.String | sa.types.NullType)


def _is_temporal(column: sa.Column[Any]) -> bool:
    return isinstance(column.type, sa.Date | sa.DateTime | sa.types.NullType)


# -- reflection --------------------------------------------------------------------------------------
def build_plan(conn: Connection, cfg: SQLConfig) -> list[TablePlan]:
    """Check every table, column and reference of ``cfg`` against the catalogue, then bind them.

    Raises :class:`ConfigError` listing every problem found (with a "did you mean" hint).
    """
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
        reflected_key = _reflected_key(conn, inspector, rule.name, schema)
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
        problems += _column_problems(cfg, rule, tables, keys)
    foreign_keys = {rule.name: _foreign_keys(conn, inspector, rule.name, schema) for rule in cfg.tables}
    problems += _relationship_problems(cfg, conn, tables, foreign_keys)
    if problems:
        raise ConfigError("; ".join(problems))

    plans: dict[str, TablePlan] = {}

    def build(rule: TableRule) -> TablePlan:
        if rule.name not in plans:
            parent = build(cfg.rule(rule.parent.table)) if rule.parent else None
            detach = bool(
                rule.parent
                and parent is not None
                and rule.erase.mode == "mask"
                and parent.rule.erase.mode == "delete"
                and tables[rule.name].c[rule.parent.column].nullable
            )
            plans[rule.name] = TablePlan(
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
    config: SQLConfig, rule: TableRule, tables: Mapping[str, sa.Table], keys: Mapping[str, tuple[str, ...]]
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
        if kind == "redact" and length is not None and length < len(config.redact_text):
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
    config: SQLConfig,
    conn: Connection,
    tables: Mapping[str, sa.Table],
    foreign_keys: Mapping[str, list[tuple[tuple[str, ...], str, tuple[str, ...]]]],
) -> list[str]:
    """Kept children of deleted parents, and DuckDB's foreign-key limitation."""
    problems = []
    for rule in config.tables:
        if rule.parent is None:
            continue
        parent = config.rule(rule.parent.table)
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
        referenced |= _duckdb_referenced_tables(conn, config.db_schema)
        for rule in config.tables:
            if rule.erase.mode == "delete" and rule.name in referenced:
                problems.append(
                    f"table {rule.name!r} is referenced by a foreign key; DuckDB cannot delete such rows "
                    "in the same transaction as the rows that reference them (a documented DuckDB "
                    "limitation), so drop the constraint or mask this table instead"
                )
    return problems


def _reflected_key(
    conn: Connection, inspector: sa.Inspector, table: str, schema: str | None
) -> tuple[str, ...]:
    if conn.dialect.name == "duckdb":  # duckdb-engine cannot reflect constraints (no REGCLASS)
        for kind, columns, _, _ in _duckdb_constraints(conn, table, schema):
            if kind == "PRIMARY KEY":
                return tuple(columns)
        return ()
    return tuple(inspector.get_pk_constraint(table, schema=schema)["constrained_columns"])


def _foreign_keys(
    conn: Connection, inspector: sa.Inspector, table: str, schema: str | None
) -> list[tuple[tuple[str, ...], str, tuple[str, ...]]]:
    if conn.dialect.name == "duckdb":
        return [
            (tuple(columns), str(target), tuple(targets))
            for kind, columns, target, targets in _duckdb_constraints(conn, table, schema)
            if kind == "FOREIGN KEY"
        ]
    return [
        (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
        for fk in inspector.get_foreign_keys(table, schema=schema)
    ]


def _duckdb_constraints(
    conn: Connection, table: str, db_schema: str | None
) -> list[tuple[str, list[str], str, list[str]]]:
    query = sa.text(
        "SELECT constraint_type, constraint_column_names, referenced_table, referenced_column_names "
        "FROM duckdb_constraints() WHERE table_name = :table AND schema_name = :schema"
    )
    schema = db_schema or sa.inspect(conn).default_schema_name or "main"
    rows = conn.execute(query, {"table": table, "schema": schema}).all()
    return [(str(r[0]), list(r[1] or []), str(r[2] or ""), list(r[3] or [])) for r in rows]


def _duckdb_referenced_tables(conn: Connection, db_schema: str | None) -> set[str]:
    query = sa.text(
        "SELECT DISTINCT referenced_table FROM duckdb_constraints() "
        "WHERE constraint_type = 'FOREIGN KEY' AND schema_name = :schema"
    )
    schema = db_schema or sa.inspect(conn).default_schema_name or "main"
    return {str(row[0]) for row in conn.execute(query, {"schema": schema})}


def _hint(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# -- the reference walk ------------------------------------------------------------------------------
def conditions(
    plans: Sequence[TablePlan], subjects: Sequence[Subject]
) -> dict[str, sa.ColumnElement[bool] | None]:
    """The WHERE clause selecting each table's rows for ``subjects`` (None: nothing can match)."""
    conditions: dict[str, sa.ColumnElement[bool] | None] = {}
    for plan in sorted(plans, key=lambda p: p.depth):
        if plan.parent is None:
            conditions[plan.name] = _root_condition(plan, subjects)
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


def _root_condition(plan: TablePlan, subjects: Sequence[Subject]) -> sa.ColumnElement[bool] | None:
    match = plan.rule.match
    if "full_name" in match:
        # The name narrows each subject's own identities; it never matches on its own.
        per_subject = [_subject_condition(plan, subject) for subject in subjects]
        present = [condition for condition in per_subject if condition is not None]
        return sa.or_(*present) if present else None
    emails = {normalise_email(s.email) for s in subjects if s.email and s.email.strip()}
    phones = {phone_digits(s.phone) for s in subjects if phone_digits(s.phone)}
    return _identity_condition(plan, emails, phones)


def _subject_condition(plan: TablePlan, subject: Subject) -> sa.ColumnElement[bool] | None:
    emails = {normalise_email(subject.email)} if subject.email and subject.email.strip() else set()
    phones = {phone_digits(subject.phone)} if phone_digits(subject.phone) else set()
    identity = _identity_condition(plan, emails, phones)
    if identity is None or not subject.full_name:
        return identity
    name_column = plan.table.c[plan.rule.match["full_name"]]
    name = " ".join(subject.full_name.split()).lower()
    return sa.and_(identity, sa.func.lower(sa.func.trim(name_column)) == name)


def _identity_condition(plan: TablePlan, emails: set[str], phones: set[str]) -> sa.ColumnElement[bool] | None:
    parts: list[sa.ColumnElement[bool]] = []
    match = plan.rule.match
    if "email" in match and emails:
        stored = sa.func.lower(sa.func.trim(plan.table.c[match["email"]]))
        parts.append(stored.in_(sorted(emails)))
    if "phone" in match and phones:
        digits: sa.ColumnElement[Any] = sa.func.trim(plan.table.c[match["phone"]])
        for separator in PHONE_SEPARATORS:
            digits = sa.func.replace(digits, separator, "")
        parts.append(digits.in_(sorted(phones)))
    return sa.or_(*parts) if parts else None
