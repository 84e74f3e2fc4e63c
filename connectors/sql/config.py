"""The SQL connector's configuration: the pydantic models, the checks that need no database, and the
completion of a bare database URL with the installed driver."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from connectors.base import ConnectorConfig

__all__ = [
    "DEFAULT_DRIVERS",
    "EraseMode",
    "EraseRule",
    "MaskKind",
    "MatchField",
    "ParentRef",
    "SQLConfig",
    "TableRule",
    "normalise_url",
]

MatchField = Literal["email", "phone", "full_name"]
MaskKind = Literal["null", "redact", "hash", "generalise"]
EraseMode = Literal["delete", "mask", "retain"]


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
