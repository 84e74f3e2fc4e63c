"""Benchmark: SQL connector erasure against hand-written raw SQL for the same erasure.

Seeds the sample shop (connectors/sql/sample.py) with N filler customers plus K subjects to erase,
then erases the K subjects three ways on identical copies of the data and prints the times and the
ratios against the raw-SQL baseline measured in the same run:

  raw SQL       the statements a DBA would write by hand (one transaction per subject)
  erase()       SQLConnector.erase, one subject at a time (what a job does)
  erase_many()  SQLConnector.erase_many, set-based batches

    python -m bench.erase_sql --customers 100000 --subjects 200 [--url postgresql+psycopg://...]

Without --url each variant runs on its own SQLite file in a temporary folder.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from connectors import Subject
from connectors.sql.connector import SQLConnector
from connectors.sql.sample import create_sample_schema, drop_sample_schema, sample_config, seed_sample

RAW_STATEMENTS = [
    # invoices are retained (tax law); orders are masked and detached; customers deleted.
    "UPDATE orders SET shipping_address = '[erased]', email = NULL, customer_id = NULL "
    "WHERE customer_id IN (SELECT id FROM customers WHERE lower(trim(email)) = :email)",
    "DELETE FROM customers WHERE lower(trim(email)) = :email",
]


def subject_emails(count: int, first_id: int) -> list[str]:
    return [f"customer{i}@example.net" for i in range(first_id, first_id + count)]


def prepare(url: str, customers: int, *, index: bool) -> sa.Engine:
    engine = sa.create_engine(url)
    drop_sample_schema(engine)
    create_sample_schema(engine)
    seed_sample(engine, extra_customers=customers)
    if index:  # the expression index connectors/sql/README.md recommends for e-mail matching
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE INDEX customers_email_lower ON customers (lower(trim(email)))"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
    return engine


def timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--subjects", type=int, default=200)
    parser.add_argument("--url", help="SQLAlchemy URL of an empty database (default: SQLite files)")
    parser.add_argument("--index", action="store_true", help="add an index on lower(trim(customers.email))")
    args = parser.parse_args()
    if args.subjects > args.customers:
        parser.error("--subjects must not exceed --customers")
    emails = subject_emails(args.subjects, 1001)
    subjects = [Subject.create(email=e) for e in emails]
    folder = Path(tempfile.mkdtemp(prefix="dsr-bench-"))

    def url_for(name: str) -> str:
        return args.url or f"sqlite:///{folder / name}.sqlite3"

    results: dict[str, float] = {}
    counts: dict[str, int] = {}

    engine = prepare(url_for("raw"), args.customers, index=args.index)

    def raw() -> None:
        for email in emails:
            with engine.begin() as conn:
                for statement in RAW_STATEMENTS:
                    conn.execute(sa.text(statement), {"email": email})

    results["raw SQL"] = timed(raw)
    with engine.connect() as conn:
        counts["raw SQL"] = conn.execute(sa.text("SELECT count(*) FROM customers")).scalar_one()
    engine.dispose()

    for name, run in (
        ("erase()", lambda c: [c.erase(s) for s in subjects]),
        ("erase_many()", lambda c: c.erase_many(subjects)),
    ):
        engine = prepare(url_for(name.strip("()")), args.customers, index=args.index)
        connector = SQLConnector(sample_config(url_for(name.strip("()"))))
        results[name] = timed(lambda connector=connector, run=run: run(connector))
        connector.close()
        with engine.connect() as conn:
            counts[name] = conn.execute(sa.text("SELECT count(*) FROM customers")).scalar_one()
        engine.dispose()

    if len(set(counts.values())) != 1:
        raise SystemExit(f"the variants disagree on what remains: {counts}")
    baseline = results["raw SQL"]
    database = "given URL" if args.url else "SQLite"
    print(f"customers={args.customers} subjects={args.subjects} database={database} index={args.index}")
    for name, seconds in results.items():
        rate = args.subjects / seconds
        print(f"{name:14s} {seconds:8.3f} s  {rate:9.1f} subjects/s  ratio {seconds / baseline:5.2f}x")


if __name__ == "__main__":
    main()
