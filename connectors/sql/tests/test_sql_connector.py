"""The SQL connector against real SQLite, DuckDB, PostgreSQL and MariaDB databases."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from connectors import (
    AuthError,
    CheckResult,
    ConfigError,
    ErasureMethod,
    ErasureResult,
    PermanentError,
    Record,
    Retained,
    Subject,
    TransientError,
    registry,
)
from connectors.sql import SQLConnector
from connectors.sql.erase import Erasure
from connectors.sql.sample import SAMPLE_HASH_KEY, TARGET_EMAIL, sample_config

from .conftest import Shop

MakeConnector = Callable[..., SQLConnector]
BASIS = "Tax records kept 10 years (HGB §257, AO §147)"
JANE = Subject.create(email=TARGET_EMAIL, reference="DSR-1")


def ids_by_category(records: list[Record]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for record in records:
        found.setdefault(record.category, []).append(str(record.record_id))
    return found


def token(value: str) -> str:
    return hmac.new(SAMPLE_HASH_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def all_delete_config(url: str) -> dict[str, Any]:
    config = sample_config(url)
    for table in config["tables"]:
        table["erase"] = {"mode": "delete"}
    return config


# -- registration ------------------------------------------------------------------------------------
def test_the_sql_connector_is_registered_under_its_key_and_passes_validation() -> None:
    assert registry.BUILTINS["sql"] == "connectors.sql.connector:SQLConnector"
    assert registry._load(registry.BUILTINS["sql"]) is SQLConnector
    assert registry.validate(SQLConnector) == []
    assert SQLConnector.category == "warehouse"
    assert SQLConnector.Config.secret_fields() == ["url", "hash_key"]


# -- access ------------------------------------------------------------------------------------------
def test_access_finds_exactly_the_targets_rows_including_the_upper_case_one_and_orders_via_the_fk(
    shop: Shop, make_connector: MakeConnector
) -> None:
    records = list(make_connector(sample_config(shop.url)).access(JANE))

    assert ids_by_category(records) == {
        "customers": ["1", "2"],
        "orders": ["101", "102", "103"],
        "invoices": ["1001", "1002"],
    }


def test_access_with_the_subjects_phone_also_finds_the_row_stored_in_another_phone_format(
    shop: Shop, make_connector: MakeConnector
) -> None:
    subject = Subject.create(email=TARGET_EMAIL, phone="+49 151 2345 6789")

    records = list(make_connector(sample_config(shop.url)).access(subject))

    assert ids_by_category(records) == {
        "customers": ["1", "2", "7"],
        "orders": ["101", "102", "103", "107"],
        "invoices": ["1001", "1002"],
    }


def test_access_never_returns_a_decoy(shop: Shop, make_connector: MakeConnector) -> None:
    records = list(make_connector(sample_config(shop.url)).access(JANE))

    emails = {record.data.get("email") for record in records if record.category != "invoices"}
    assert emails == {"jane.doe@example.com", "JANE.DOE@EXAMPLE.COM"}


def test_access_returns_json_safe_values(shop: Shop, make_connector: MakeConnector) -> None:
    records = list(make_connector(sample_config(shop.url)).access(JANE))

    by_id = {(r.category, r.record_id): dict(r.data) for r in records}
    assert by_id[("customers", "1")] == {
        "id": 1,
        "email": "jane.doe@example.com",
        "full_name": "Jane Doe",
        "phone": "+49 151 23456789",
        "city": "Berlin",
        "created_at": "2024-01-02T09:30:00",
    }
    assert by_id[("orders", "101")] == {
        "id": 101,
        "customer_id": 1,
        "item": "Reading lamp",
        "amount": "49.90",
        "shipping_address": "1 Sample Street, Berlin",
        "email": "jane.doe@example.com",
        "placed_at": "2024-04-11T09:30:00",
    }
    assert by_id[("invoices", "1001")] == {
        "id": 1001,
        "order_id": 101,
        "number": "INV-1001",
        "total": "49.90",
        "issued_on": "2024-04-11",
    }
    json.dumps([dict(r.data) for r in records])  # raises if anything is not JSON-serialisable


def test_access_pages_through_more_rows_than_one_page(shop: Shop, make_connector: MakeConnector) -> None:
    connector = make_connector(sample_config(shop.url))
    connector.page_size = 2  # three customers, four orders: several keyset pages each
    subject = Subject.create(email=TARGET_EMAIL, phone="+4915123456789")

    records = list(connector.access(subject))

    assert ids_by_category(records)["orders"] == ["101", "102", "103", "107"]
    assert len(records) == 9


def test_access_for_an_absent_subject_is_empty_and_erase_finds_nothing(
    shop: Shop, make_connector: MakeConnector
) -> None:
    connector = make_connector(sample_config(shop.url))
    nobody = Subject.create(email="nobody@example.com", phone="+1 000 000 0000")
    before = shop.snapshot()

    assert list(connector.access(nobody)) == []
    assert connector.erase(nobody) == ErasureResult(found=0, erased=0, method=ErasureMethod.NONE)
    assert shop.snapshot() == before


# -- erase -------------------------------------------------------------------------------------------
def test_erase_deletes_customers_masks_orders_and_retains_invoices(
    shop: Shop, make_connector: MakeConnector
) -> None:
    result = make_connector(sample_config(shop.url)).erase(JANE)

    assert result == ErasureResult(
        found=7,
        erased=5,
        method=ErasureMethod.ANONYMISED,
        retained=(Retained("invoices", 2, BASIS),),
        per_category={"customers": 2, "orders": 3},
        notes="deleted: customers (2); anonymised: orders (3)",
    )
    assert shop.rows("customers", (1, 2)) == []
    assert shop.rows("orders", (101, 102, 103)) == [
        {
            "id": order_id,
            "customer_id": None,
            "item": item,
            "amount": Decimal(amount),
            "shipping_address": "[erased]",
            "email": token("jane.doe@example.com"),  # both spellings give the same token
            "placed_at": dt.datetime(2024, 1, 1, 0, 0),  # noqa: DTZ001 - naive, as the sample stores it
        }
        for order_id, item, amount in [
            (101, "Reading lamp", "49.90"),
            (102, "Desk", "219.00"),
            (103, "Notebook", "4.50"),
        ]
    ]
    assert [row["id"] for row in shop.rows("invoices", (1001, 1002))] == [1001, 1002]


def test_erase_leaves_decoys_and_other_customers_byte_identical(
    shop: Shop, make_connector: MakeConnector
) -> None:
    target = {"customers": {1, 2}, "orders": {101, 102, 103}, "invoices": set()}
    untouched_before = {
        name: [row for row in rows if row["id"] not in target[name]] for name, rows in shop.snapshot().items()
    }

    make_connector(sample_config(shop.url)).erase(JANE)

    untouched_after = {
        name: [row for row in rows if row["id"] not in target[name]] for name, rows in shop.snapshot().items()
    }
    assert untouched_after == untouched_before
    assert len(untouched_after["customers"]) == 5 + 25  # decoys, the phone-only row and the fillers


def test_erase_then_access_returns_nothing_and_a_second_erase_is_a_no_op(
    shop: Shop, make_connector: MakeConnector
) -> None:
    connector = make_connector(sample_config(shop.url))
    connector.erase(JANE)
    after_first = shop.snapshot()

    assert list(connector.access(JANE)) == []
    assert connector.erase(JANE) == ErasureResult(found=0, erased=0, method=ErasureMethod.NONE)
    assert shop.snapshot() == after_first


def test_a_dry_run_reports_what_would_be_erased_and_writes_nothing(
    shop: Shop, make_connector: MakeConnector
) -> None:
    before = shop.snapshot()

    result = make_connector(sample_config(shop.url), dry_run=True).erase(JANE)

    assert result == ErasureResult(
        found=7,
        erased=5,
        method=ErasureMethod.ANONYMISED,
        retained=(Retained("invoices", 2, BASIS),),
        dry_run=True,
        per_category={"customers": 2, "orders": 3},
        notes="deleted: customers (2); anonymised: orders (3); dry run: nothing was changed",
    )
    assert shop.snapshot() == before


def test_erase_with_delete_everywhere_reports_deleted(shop: Shop, make_connector: MakeConnector) -> None:
    result = make_connector(all_delete_config(shop.url)).erase(JANE)

    assert result.method is ErasureMethod.DELETED
    assert (result.found, result.erased, result.retained) == (7, 7, ())
    assert dict(result.per_category) == {"invoices": 2, "orders": 3, "customers": 2}
    assert shop.rows("customers", (1, 2)) == shop.rows("orders", (101, 102, 103)) == []
    assert shop.rows("invoices", (1001, 1002)) == []
    assert [row["id"] for row in shop.rows("invoices")] == [2001, 2002]


def test_masking_the_root_table_replaces_every_match_column_and_is_idempotent(
    shop: Shop, make_connector: MakeConnector
) -> None:
    config = sample_config(shop.url)
    config["tables"][0]["match"] = {"email": "email", "phone": "phone", "full_name": "full_name"}
    config["tables"][0]["erase"] = {
        "mode": "mask",
        "columns": {"email": "hash", "phone": "null", "full_name": "redact", "created_at": "generalise"},
    }
    config["tables"][1]["erase"] = {"mode": "delete"}
    config["tables"][2]["erase"] = {"mode": "delete"}
    connector = make_connector(config)
    subject = Subject.create(email=TARGET_EMAIL, full_name="Jane Doe")

    first = connector.erase(subject)
    second = connector.erase(subject)

    assert (first.found, first.erased, first.method) == (7, 7, ErasureMethod.ANONYMISED)
    assert dict(first.per_category) == {"invoices": 2, "orders": 3, "customers": 2}
    assert second == ErasureResult(found=0, erased=0, method=ErasureMethod.NONE)
    assert shop.rows("customers", (1, 2)) == [
        {
            "id": 1,
            "email": token("jane.doe@example.com"),
            "full_name": "[erased]",
            "phone": None,
            "city": "Berlin",
            "created_at": dt.datetime(2024, 1, 1),  # noqa: DTZ001 - naive, as the sample stores it
        },
        {
            "id": 2,
            "email": token("jane.doe@example.com"),
            "full_name": "[erased]",
            "phone": None,
            "city": "Hamburg",
            "created_at": dt.datetime(2024, 1, 1),  # noqa: DTZ001 - naive, as the sample stores it
        },
    ]


def test_full_name_narrows_the_match_but_never_matches_alone(
    shop: Shop, make_connector: MakeConnector
) -> None:
    config = sample_config(shop.url)
    config["tables"][0]["match"] = {"email": "email", "full_name": "full_name"}
    connector = make_connector(config)

    same_name = list(connector.access(Subject.create(email=TARGET_EMAIL, full_name="  jane   DOE ")))
    other_name = list(connector.access(Subject.create(email=TARGET_EMAIL, full_name="Janet Doe")))
    name_only = list(connector.access(Subject.create(email="unknown@example.com", full_name="Jane Doe")))

    assert ids_by_category(same_name)["customers"] == ["1", "2"]
    assert other_name == []
    assert name_only == []


def test_erase_many_erases_each_subject_and_reports_each_ones_counts(
    shop: Shop, make_connector: MakeConnector
) -> None:
    connector = make_connector(all_delete_config(shop.url))
    other = Subject.create(email="jane.doe@example.org", reference="DSR-2")
    nobody = Subject.create(email="nobody@example.com", reference="DSR-3")

    results = connector.erase_many([JANE, other, nobody])

    assert results == [
        ErasureResult(
            found=7,
            erased=7,
            method=ErasureMethod.DELETED,
            per_category={"invoices": 2, "orders": 3, "customers": 2},
            notes="deleted: invoices (2), orders (3), customers (2)",
        ),
        ErasureResult(
            found=2,
            erased=2,
            method=ErasureMethod.DELETED,
            per_category={"orders": 1, "customers": 1},
            notes="deleted: orders (1), customers (1)",
        ),
        ErasureResult(found=0, erased=0, method=ErasureMethod.NONE),
    ]
    assert [row["id"] for row in shop.rows("customers")][:4] == [3, 4, 6, 7]


def test_identities_with_quotes_and_sql_are_bound_safely(shop: Shop, make_connector: MakeConnector) -> None:
    customers, orders = shop.tables["customers"], shop.tables["orders"]
    nasty = "x'); DROP TABLE customers;--@example.com"
    with shop.engine.begin() as conn:
        conn.execute(
            sa.insert(customers),
            [
                {"id": 50, "email": "o'brien@example.com", "full_name": "Pat O'Brien"},
                {"id": 51, "email": nasty, "full_name": "Bobby Tables"},
                {"id": 52, "email": "x@example.com", "full_name": "Plain X"},
            ],
        )
        conn.execute(sa.insert(orders), [{"id": 500, "customer_id": 50}, {"id": 510, "customer_id": 51}])
    connector = make_connector(all_delete_config(shop.url))

    obrien = list(connector.access(Subject.create(email="O'Brien@example.com")))
    result = connector.erase(Subject.create(email=nasty))

    assert ids_by_category(obrien) == {"customers": ["50"], "orders": ["500"]}
    assert (result.found, result.erased, dict(result.per_category)) == (2, 2, {"orders": 1, "customers": 1})
    assert shop.table_names() >= {"customers", "orders", "invoices"}
    assert [row["id"] for row in shop.rows("customers", (50, 51, 52))] == [50, 52]


def test_a_failure_mid_erase_rolls_back_everything(
    shop: Shop, make_connector: MakeConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector = make_connector(sample_config(shop.url))
    before = shop.snapshot()

    def deadlock(*args: object) -> int:  # the last statement (customers) fails after orders were masked
        raise sa_exc.OperationalError("DELETE FROM customers", {}, Exception("deadlock detected"))

    monkeypatch.setattr(Erasure, "_delete", staticmethod(deadlock))
    with pytest.raises(TransientError, match=r"^erasure \(rolled back\) failed: deadlock detected$"):
        connector.erase(JANE)

    assert shop.snapshot() == before


@pytest.mark.parametrize("database_url", ["postgresql", "mariadb"], indirect=True)
def test_a_constraint_violation_mid_erase_rolls_back_and_is_reported_without_values(
    shop: Shop, make_connector: MakeConnector
) -> None:
    # A table the config does not know still references customer 1, so the final DELETE fails
    # after the orders were already masked in the same transaction.
    with shop.engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE reviews (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id))"
            )
        )
        conn.execute(sa.text("INSERT INTO reviews (id, customer_id) VALUES (1, 1)"))
    before = shop.snapshot()

    with pytest.raises(PermanentError) as raised:
        make_connector(sample_config(shop.url)).erase(JANE)

    assert shop.snapshot() == before
    assert str(raised.value).startswith("erasure (rolled back) failed: ")
    assert "foreign key" in str(raised.value).lower()
    assert TARGET_EMAIL not in str(raised.value)
    assert "(1)" not in str(raised.value)  # PostgreSQL's DETAIL line quotes the key; it is left out


# -- check -------------------------------------------------------------------------------------------
def test_check_succeeds_for_a_valid_config(shop: Shop, make_connector: MakeConnector) -> None:
    result = make_connector(sample_config(shop.url)).check()

    assert result.ok is True
    driver = {"sqlite": "pysqlite", "duckdb": "duckdb_engine", "postgresql": "psycopg", "mysql": "pymysql"}
    assert result.message == (
        f"connected to {shop.dialect} (driver {driver[shop.dialect]}); "
        "tables customers, orders, invoices match the catalogue"
    )


def test_check_names_an_unknown_table_and_suggests_the_right_one(
    shop: Shop, make_connector: MakeConnector
) -> None:
    config = sample_config(shop.url)
    config["tables"][0]["name"] = "custmers"
    config["tables"][1]["parent"]["table"] = "custmers"
    connector = make_connector(config)

    result = connector.check()

    assert result.ok is False
    assert result.message == "table 'custmers' does not exist (did you mean 'customers'?)"
    with pytest.raises(ConfigError, match=r"^table 'custmers' does not exist"):
        list(connector.access(JANE))


def test_check_names_every_unknown_column(shop: Shop, make_connector: MakeConnector) -> None:
    config = sample_config(shop.url)
    config["tables"][0]["match"] = {"email": "e_mail"}
    config["tables"][1]["parent"]["references"] = "uid"
    config["tables"][1]["erase"]["columns"]["adress"] = "redact"

    result = make_connector(config).check()

    assert result.ok is False
    assert result.message == (
        "column customers.e_mail (match.email) does not exist (did you mean 'email'?); "
        "column customers.uid (parent.references) does not exist (did you mean 'id'?); "
        "column orders.adress (mask redact) does not exist"
    )


def test_check_refuses_masks_the_column_types_cannot_take(shop: Shop, make_connector: MakeConnector) -> None:
    config = sample_config(shop.url)
    config["tables"][1]["erase"]["columns"] = {"amount": "redact", "item": "generalise", "id": "null"}

    with pytest.raises(ConfigError) as raised:
        list(make_connector(config).access(JANE))

    assert str(raised.value) == (
        "column orders.amount is not a text column, so it cannot be masked with 'redact'; "
        "column orders.item is not a date or timestamp, so it cannot be generalised; "
        "column orders.id is NOT NULL, so it cannot be masked with 'null'"
    )


def test_retaining_a_child_of_a_deleted_parent_is_refused_when_a_foreign_key_links_them(
    database_url: str, make_connector: MakeConnector
) -> None:
    engine = sa.create_engine(database_url)
    metadata = sa.MetaData()
    sa.Table(
        "people",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("email", sa.String(99)),
    )
    sa.Table(
        "contracts",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id")),
    )
    metadata.create_all(engine)
    engine.dispose()
    config = {
        "url": database_url,
        "tables": [
            {"name": "people", "match": {"email": "email"}, "erase": {"mode": "delete"}},
            {
                "name": "contracts",
                "parent": {"table": "people", "column": "person_id", "references": "id"},
                "erase": {"mode": "retain", "basis": "BGB §195"},
            },
        ],
    }

    result = make_connector(config).check()

    assert result.ok is False
    assert result.message.startswith(
        "table 'contracts' is retained but its parent 'people' is deleted, and the foreign key "
        "contracts.person_id -> people.id would block the deletion"
    )


def test_check_reports_an_unreachable_server_without_the_password(
    database_url: str, make_connector: MakeConnector
) -> None:
    url = sa.make_url(database_url)
    if url.get_backend_name() in {"sqlite", "duckdb"}:
        bad = f"{url.drivername}:///{Path(str(url.database)).parent / 'missing-dir' / 'nested' / 'db.file'}"
        expected_class = "file"
    else:
        bad = url.set(password="s3cr3t-Pa55word", port=1).render_as_string(hide_password=False)
        expected_class = "server"
    connector = make_connector({**sample_config(bad)})

    result = connector.check()

    assert result.ok is False
    assert result.message.startswith("connecting and reading the catalogue failed: ")
    assert "s3cr3t-Pa55word" not in result.message
    assert bad not in result.message
    with pytest.raises((TransientError, ConfigError)) as raised:
        list(connector.access(JANE))
    assert "s3cr3t-Pa55word" not in str(raised.value)
    if expected_class == "server":
        assert isinstance(raised.value, TransientError)


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_refused_credentials_give_an_auth_error_without_the_password(
    backend: str, request: pytest.FixtureRequest, make_connector: MakeConnector
) -> None:
    url: sa.URL = request.getfixturevalue(f"{backend}_database")
    # PostgreSQL on a developer machine often trusts local users, so use a role that does not exist.
    bad = url.set(username="dsr_no_such_user", password="s3cr3t-Pa55word").render_as_string(
        hide_password=False
    )
    connector = make_connector(sample_config(bad))

    result = connector.check()

    assert result.ok is False
    assert "dsr_no_such_user" in result.message
    assert "s3cr3t-Pa55word" not in result.message
    with pytest.raises(AuthError) as raised:
        connector.erase(JANE)
    assert "s3cr3t-Pa55word" not in str(raised.value)


def test_close_disposes_the_pool_and_the_connector_can_be_used_again(
    shop: Shop, make_connector: MakeConnector
) -> None:
    connector = make_connector(sample_config(shop.url))
    with connector:
        assert len(list(connector.access(JANE))) == 7
    assert connector._engine is None
    assert len(list(connector.access(JANE))) == 7


def test_erase_many_attributes_rows_found_by_phone_and_by_email_to_the_right_subject(
    shop: Shop, make_connector: MakeConnector
) -> None:
    by_phone = Subject.create(email="no-such-address@example.com", phone="+49 151 2345 6789")
    by_email = Subject.create(email="John.Roe@Example.com")
    not_by_digits = Subject.create(email="nobody@example.com", phone="0049-151-2345-6789")

    results = make_connector(sample_config(shop.url)).erase_many([by_phone, by_email, not_by_digits])

    assert [(r.found, r.erased, dict(r.per_category), r.retained) for r in results] == [
        (7, 5, {"customers": 2, "orders": 3}, (Retained("invoices", 2, BASIS),)),
        (3, 2, {"customers": 1, "orders": 1}, (Retained("invoices", 1, BASIS),)),
        (0, 0, {}, ()),  # digits are compared as they are: no country-code guessing
    ]
    assert [row["id"] for row in shop.rows("customers", (1, 2, 6, 7))] == [2]


def test_erase_many_falls_back_to_exact_counts_when_rows_cannot_be_attributed_in_python(
    shop: Shop, make_connector: MakeConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Erasure, "_owners_of", staticmethod(lambda *args: set()))
    subjects = [
        JANE,
        Subject.create(email="jane.doe@example.org"),
        Subject.create(email="+4915123456789@x.y"),
    ]

    results = make_connector(all_delete_config(shop.url)).erase_many(subjects)

    assert [(r.found, r.erased) for r in results] == [(7, 7), (2, 2), (0, 0)]


def test_a_table_without_a_primary_key_is_streamed_and_erased(
    shop: Shop, make_connector: MakeConnector
) -> None:
    metadata = sa.MetaData()
    log = sa.Table(
        "mail_log", metadata, sa.Column("address", sa.String(320)), sa.Column("subject_line", sa.String(200))
    )
    metadata.create_all(shop.engine)
    with shop.engine.begin() as conn:
        conn.execute(
            sa.insert(log),
            [
                {"address": " Jane.Doe@example.com", "subject_line": "Welcome"},
                {"address": "jane.doe@example.com", "subject_line": "Your order"},
                {"address": "jane.doe+news@example.com", "subject_line": "News"},
            ],
        )
    config = sample_config(shop.url)
    config["tables"].append({"name": "mail_log", "match": {"email": "address"}, "erase": {"mode": "delete"}})
    connector = make_connector(config)

    logged = [r for r in connector.access(JANE) if r.category == "mail_log"]
    result = connector.erase(JANE)

    assert sorted(r.data["subject_line"] for r in logged) == ["Welcome", "Your order"]
    assert {r.record_id for r in logged} == {None}
    assert dict(result.per_category) == {"customers": 2, "orders": 3, "mail_log": 2}
    with shop.engine.connect() as conn:
        assert conn.execute(sa.select(log.c.address)).scalars().all() == ["jane.doe+news@example.com"]


def test_an_unknown_schema_is_reported(shop: Shop, make_connector: MakeConnector) -> None:
    config = sample_config(shop.url)
    config["schema"] = "no_such_schema"

    result = make_connector(config).check()

    assert result == CheckResult(ok=False, message="schema 'no_such_schema' does not exist")
