"""Erasure in the SQL connector: per-subject counts read first, then each table's rows deleted or masked
(null, redact, keyed hash, generalise), children before parents, inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from connectors.sql.config import MaskKind, SQLConfig
from connectors.sql.plan import PHONE_SEPARATORS, TablePlan, conditions, phone_digits
from connectors.types import ErasureMethod, ErasureResult, Retained, Subject, normalise_email

__all__ = ["Counts", "Erasure"]


@dataclass
class Counts:
    """Per-subject tallies while an erasure batch runs."""

    found: int = 0
    deleted: dict[str, int] = field(default_factory=dict)
    masked: dict[str, int] = field(default_factory=dict)
    retained: list[Retained] = field(default_factory=list)


def _generalise(value: Any) -> Any:
    """Truncate a date or timestamp to the first instant of its year (keeps the time zone)."""
    if isinstance(value, dt.datetime):
        return value.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if isinstance(value, dt.date):
        return dt.date(value.year, 1, 1)
    return value


@dataclass(frozen=True)
class Erasure:
    """One erasure batch's settings: the config (masks, hash key), dry run, and the keyset page size."""

    config: SQLConfig
    dry_run: bool
    page_size: int

    def run(
        self,
        conn: Connection,
        plans: Sequence[TablePlan],
        batch_conditions: Mapping[str, sa.ColumnElement[bool] | None],
        subjects: Sequence[Subject],
    ) -> list[Counts]:
        """Count every subject's rows, then erase table by table, deepest first; one tally per subject."""
        tallies = [Counts() for _ in subjects]
        # Deepest tables first: a child's rows are found through its parent's, so the parent
        # must still be intact when the child is processed.
        counts = self._counts(conn, plans, batch_conditions, subjects)
        for plan in sorted(plans, key=lambda p: p.depth, reverse=True):
            self._erase_table(conn, plan, batch_conditions[plan.name], counts[plan.name], tallies)
        return tallies

    def _counts(
        self,
        conn: Connection,
        plans: Sequence[TablePlan],
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
        per_subject = [conditions(plans, [subject]) for subject in subjects]
        return {
            plan.name: [self._count(conn, plan.table, where[plan.name]) for where in per_subject]
            for plan in plans
        }

    def _attribute(
        self,
        conn: Connection,
        plans: Sequence[TablePlan],
        batch_conditions: Mapping[str, sa.ColumnElement[bool] | None],
        subjects: Sequence[Subject],
    ) -> dict[str, list[int]] | None:
        by_email: dict[str, set[int]] = {}
        by_phone: dict[str, set[int]] = {}
        for index, subject in enumerate(subjects):
            if subject.email and subject.email.strip():
                by_email.setdefault(normalise_email(subject.email), set()).add(index)
            if phone_digits(subject.phone):
                by_phone.setdefault(phone_digits(subject.phone), set()).add(index)
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
        plan: TablePlan,
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
            for separator in PHONE_SEPARATORS:
                stored = stored.replace(separator, "")
            found |= by_phone.get(stored, set())
        if "full_name" in match:
            stored_name = str(row[match["full_name"]] or "").strip(" ").lower()
            found = {i for i in found if names[i] is None or names[i] == stored_name}
        return found

    def _erase_table(
        self,
        conn: Connection,
        plan: TablePlan,
        condition: sa.ColumnElement[bool] | None,
        counts: list[int],
        tallies: Sequence[Counts],
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
    def _delete(conn: Connection, plan: TablePlan, condition: sa.ColumnElement[bool]) -> int:
        return int(conn.execute(sa.delete(plan.table).where(condition)).rowcount)

    def _mask(self, conn: Connection, plan: TablePlan, condition: sa.ColumnElement[bool]) -> int:
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

    def result(self, tally: Counts) -> ErasureResult:
        """The SDK result for one subject's tally: found, erased, method, retained with basis, notes."""
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
