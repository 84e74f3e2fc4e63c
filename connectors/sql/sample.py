"""A small shop schema with one data subject and her look-alikes, for demos, tests and benchmarks.

The data is deterministic, so callers can assert exact ids::

    engine = sqlalchemy.create_engine("sqlite:///shop.db")
    create_sample_schema(engine)
    seeded = seed_sample(engine, extra_customers=1000)
    connector = SQLConnector(sample_config("sqlite:///shop.db"))
    connector.erase(Subject.create(email=TARGET_EMAIL))

The **target** is Jane Doe, ``jane.doe@example.com``: customer 1, plus customer 2 whose address is
stored as ``JANE.DOE@EXAMPLE.COM`` (same person, must be found) and customer 7, who gave only her
phone number (found when the subject's phone is known). The **decoys** must never be touched: another
Jane Doe (same name, different address), ``jane.doe+news@example.com`` (a different address) and
``jane.doe@example.org`` (same local part, another domain). Every customer has orders; some orders
have invoices. Filler customers (``extra_customers``) get ids from 1001 and one order each.

On DuckDB the foreign keys are left out: DuckDB cannot delete a referenced row in the same
transaction as the rows referencing it, which is exactly what an erasure does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

TARGET_EMAIL = "jane.doe@example.com"
TARGET_NAME = "Jane Doe"
TARGET_PHONE = "+49 151 23456789"
SAMPLE_HASH_KEY = "sample-hash-key-not-for-production"
FILLER_FIRST_ID = 1001
_CHUNK = 5000


@dataclass(frozen=True)
class SampleSeed:
    """The ids ``seed_sample`` inserted, grouped by whom they belong to."""

    target_customer_ids: tuple[int, ...]  # found by email (incl. the upper-case one)
    phone_only_customer_ids: tuple[int, ...]  # found only when the subject's phone is given
    target_order_ids: tuple[int, ...]  # orders of target_customer_ids
    phone_only_order_ids: tuple[int, ...]
    target_invoice_ids: tuple[int, ...]
    decoy_customer_ids: tuple[int, ...]
    decoy_order_ids: tuple[int, ...]
    decoy_invoice_ids: tuple[int, ...]
    filler_customers: int


def sample_metadata(*, foreign_keys: bool = True) -> sa.MetaData:
    """``customers``, ``orders`` (-> customers) and ``invoices`` (-> orders)."""
    metadata = sa.MetaData()

    def reference(target: str) -> list[sa.ForeignKey]:
        return [sa.ForeignKey(target)] if foreign_keys else []

    sa.Table(
        "customers",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("email", sa.String(320)),
        sa.Column("full_name", sa.String(200)),
        sa.Column("phone", sa.String(40)),
        sa.Column("city", sa.String(100)),
        sa.Column("created_at", sa.DateTime),
    )
    sa.Table(
        "orders",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("customer_id", sa.Integer, *reference("customers.id"), nullable=True, index=True),
        sa.Column("item", sa.String(200)),
        sa.Column("amount", sa.Numeric(10, 2)),
        sa.Column("shipping_address", sa.String(500)),
        sa.Column("email", sa.String(320)),
        sa.Column("placed_at", sa.DateTime),
    )
    sa.Table(
        "invoices",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("order_id", sa.Integer, *reference("orders.id"), nullable=False, index=True),
        sa.Column("number", sa.String(40)),
        sa.Column("total", sa.Numeric(10, 2)),
        sa.Column("issued_on", sa.Date),
    )
    return metadata


def _metadata_for(engine: sa.Engine) -> sa.MetaData:
    return sample_metadata(foreign_keys=engine.dialect.name != "duckdb")


def create_sample_schema(engine: sa.Engine) -> None:
    """Create the three sample tables (foreign keys everywhere except on DuckDB)."""
    _metadata_for(engine).create_all(engine)


def drop_sample_schema(engine: sa.Engine) -> None:
    """Drop the sample tables if they exist."""
    _metadata_for(engine).drop_all(engine)


def _at(day: int) -> dt.datetime:
    # Naive UTC: MySQL DATETIME and SQLite cannot store a zone, so every backend gets the same value.
    return dt.datetime(2024, 1, 1, 9, 30) + dt.timedelta(days=day)  # noqa: DTZ001 - naive UTC, see above


_CUSTOMERS: list[dict[str, Any]] = [
    # the target
    {"id": 1, "email": TARGET_EMAIL, "full_name": TARGET_NAME, "phone": TARGET_PHONE, "city": "Berlin"},
    {"id": 2, "email": "JANE.DOE@EXAMPLE.COM", "full_name": "Jane Doe", "phone": None, "city": "Hamburg"},
    {
        "id": 7,
        "email": "jd-old@mail.example",
        "full_name": "J. Doe",
        "phone": "+49 (151) 2345-6789",
        "city": "Bonn",
    },
    # decoys
    {
        "id": 3,
        "email": "jane.d@example.net",
        "full_name": TARGET_NAME,
        "phone": "+44 20 7946 0000",
        "city": "Leeds",
    },
    {"id": 4, "email": "jane.doe+news@example.com", "full_name": "Jane Doe", "phone": None, "city": "Berlin"},
    {
        "id": 5,
        "email": "jane.doe@example.org",
        "full_name": "Jane Doe",
        "phone": "+1 555 0100",
        "city": "Boston",
    },
    {
        "id": 6,
        "email": "john.roe@example.com",
        "full_name": "John Roe",
        "phone": "+49 30 1234567",
        "city": "Köln",
    },
]
# (order id, customer id, item, amount)
_ORDERS = [
    (101, 1, "Reading lamp", "49.90"),
    (102, 1, "Desk", "219.00"),
    (103, 2, "Notebook", "4.50"),
    (107, 7, "Umbrella", "15.00"),
    (201, 3, "Kettle", "29.99"),
    (202, 4, "Teapot", "19.99"),
    (203, 5, "Mug", "7.25"),
    (204, 6, "Chair", "89.00"),
]
# (invoice id, order id)
_INVOICES = [(1001, 101), (1002, 102), (2001, 201), (2002, 204)]


def seed_sample(engine: sa.Engine, *, extra_customers: int = 0) -> SampleSeed:
    """Insert the target, the decoys, their orders and invoices, and ``extra_customers`` fillers."""
    metadata = _metadata_for(engine)
    customers, orders, invoices = (metadata.tables[name] for name in ("customers", "orders", "invoices"))
    emails = {row["id"]: row["email"] for row in _CUSTOMERS}
    customer_rows = [{**row, "created_at": _at(row["id"])} for row in _CUSTOMERS]
    order_rows = [
        {
            "id": order_id,
            "customer_id": customer_id,
            "item": item,
            "amount": Decimal(amount),
            "shipping_address": f"{customer_id} Sample Street, Berlin",
            "email": emails[customer_id],
            "placed_at": _at(order_id),
        }
        for order_id, customer_id, item, amount in _ORDERS
    ]
    totals = {row["id"]: row["amount"] for row in order_rows}
    invoice_rows = [
        {
            "id": invoice_id,
            "order_id": order_id,
            "number": f"INV-{invoice_id}",
            "total": totals[order_id],
            "issued_on": _at(order_id).date(),
        }
        for invoice_id, order_id in _INVOICES
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(customers), customer_rows)
        conn.execute(sa.insert(orders), order_rows)
        conn.execute(sa.insert(invoices), invoice_rows)
        if engine.dialect.name == "duckdb" and extra_customers:
            _duckdb_fillers(conn, extra_customers)
            extra_customers_left = 0
        else:
            extra_customers_left = extra_customers
        for start in range(0, extra_customers_left, _CHUNK):
            ids = range(FILLER_FIRST_ID + start, FILLER_FIRST_ID + min(start + _CHUNK, extra_customers_left))
            conn.execute(
                sa.insert(customers),
                [
                    {
                        "id": i,
                        "email": f"customer{i}@example.net",
                        "full_name": f"Customer {i}",
                        "phone": None,
                        "city": "Berlin",
                        "created_at": _at(i % 365),
                    }
                    for i in ids
                ],
            )
            conn.execute(
                sa.insert(orders),
                [
                    {
                        "id": 10 * i,  # clear of the hand-written order ids
                        "customer_id": i,
                        "item": "Filler item",
                        "amount": Decimal("1.00"),
                        "shipping_address": f"{i} Filler Road",
                        "email": f"customer{i}@example.net",
                        "placed_at": _at(i % 365),
                    }
                    for i in ids
                ],
            )
    orders_of = {cid: tuple(o for o, c, _, _ in _ORDERS if c == cid) for cid in emails}
    decoys = (3, 4, 5, 6)
    target_orders = orders_of[1] + orders_of[2]
    decoy_orders = tuple(o for cid in decoys for o in orders_of[cid])
    return SampleSeed(
        target_customer_ids=(1, 2),
        phone_only_customer_ids=(7,),
        target_order_ids=target_orders,
        phone_only_order_ids=orders_of[7],
        target_invoice_ids=tuple(i for i, o in _INVOICES if o in target_orders),
        decoy_customer_ids=decoys,
        decoy_order_ids=decoy_orders,
        decoy_invoice_ids=tuple(i for i, o in _INVOICES if o in decoy_orders),
        filler_customers=extra_customers,
    )


def _duckdb_fillers(conn: sa.Connection, count: int) -> None:
    """The same filler rows as the generic path, generated inside DuckDB.

    DuckDB binds parameters row by row, which makes a million-row ``executemany`` take many
    minutes; its ``range()`` table function makes it take seconds.
    """
    first, last = FILLER_FIRST_ID, FILLER_FIRST_ID + count
    conn.execute(
        sa.text(
            "INSERT INTO customers (id, email, full_name, phone, city, created_at) "
            "SELECT i, 'customer' || i || '@example.net', 'Customer ' || i, NULL, 'Berlin', "
            "TIMESTAMP '2024-01-01 09:30:00' + (i % 365) * INTERVAL 1 DAY FROM range(:first, :last) t(i)"
        ),
        {"first": first, "last": last},
    )
    conn.execute(
        sa.text(
            "INSERT INTO orders (id, customer_id, item, amount, shipping_address, email, placed_at) "
            "SELECT 10 * i, i, 'Filler item', 1.00, i || ' Filler Road', 'customer' || i || '@example.net', "
            "TIMESTAMP '2024-01-01 09:30:00' + (i % 365) * INTERVAL 1 DAY FROM range(:first, :last) t(i)"
        ),
        {"first": first, "last": last},
    )


def sample_config(url: str, *, hash_key: str = SAMPLE_HASH_KEY) -> dict[str, Any]:
    """A connector config for the sample schema, exercising all three erase modes.

    Customers are deleted; orders are kept for bookkeeping with the personal columns masked (and
    their link to the deleted customer cut); invoices are retained under the commercial-law basis.
    """
    return {
        "url": url,
        "schema": None,
        "hash_key": hash_key,
        "redact_text": "[erased]",
        "tables": [
            {
                "name": "customers",
                "primary_key": "id",
                "match": {"email": "email", "phone": "phone"},
                "erase": {"mode": "delete"},
            },
            {
                "name": "orders",
                "primary_key": "id",
                "parent": {"table": "customers", "column": "customer_id", "references": "id"},
                "erase": {
                    "mode": "mask",
                    "columns": {"shipping_address": "redact", "email": "hash", "placed_at": "generalise"},
                },
            },
            {
                "name": "invoices",
                "primary_key": "id",
                "parent": {"table": "orders", "column": "order_id", "references": "id"},
                "erase": {"mode": "retain", "basis": "Tax records kept 10 years (HGB §257, AO §147)"},
            },
        ],
    }
