"""Reading a subject's rows for access: keyset pages or a streamed cursor, values made JSON-safe."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import math
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from connectors.sql.errors import translate
from connectors.sql.plan import TablePlan
from connectors.types import Record

__all__ = ["json_safe", "read_rows"]


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


def read_rows(
    engine: Engine,
    plan: TablePlan,
    condition: sa.ColumnElement[bool],
    *,
    page_size: int,
    redact: Callable[[str], str],
) -> Iterator[Record]:
    """``plan``'s rows matching ``condition`` as records: keyset pages of ``page_size`` on a single-column
    key, else one streamed cursor."""
    table = plan.table
    if len(plan.key) == 1:
        key = table.c[plan.key[0]]
        last: Any = None
        while True:
            query = sa.select(table).where(condition).order_by(key).limit(page_size)
            if last is not None:
                query = query.where(key > last)
            try:
                with engine.connect() as conn:
                    rows = conn.execute(query).mappings().all()
            except sa_exc.SQLAlchemyError as exc:
                raise translate(exc, f"reading {plan.name}", redact=redact) from None
            for row in rows:
                yield _record(plan, row)
            if len(rows) < page_size:
                return
            last = rows[-1][key.name]
    # No single-column key to page on: stream the result from one cursor instead.
    try:
        with engine.connect() as conn:
            options = {"stream_results": True, "yield_per": page_size}
            result = conn.execute(sa.select(table).where(condition), execution_options=options)
            for row in result.mappings():
                yield _record(plan, row)
    except sa_exc.SQLAlchemyError as exc:
        raise translate(exc, f"reading {plan.name}", redact=redact) from None


def _record(plan: TablePlan, row: Mapping[Any, Any]) -> Record:
    record_id = ":".join(str(row[name]) for name in plan.key) if plan.key else None
    return Record(
        category=plan.name,
        data={str(name): json_safe(value) for name, value in row.items()},
        record_id=record_id,
    )
