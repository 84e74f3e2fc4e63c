"""Configuration rules of the SQL connector that need no database, plus DuckDB's foreign-key rule."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connectors import ConfigError, Subject
from connectors.sql import SQLConfig, SQLConnector
from connectors.sql.connector import json_safe
from connectors.sql.sample import sample_config

URL = "postgresql+psycopg://dsr:very-secret-pw@db.internal:5432/warehouse"


def config_with(**changes: Any) -> dict[str, Any]:
    """The sample config with ``tables.<index>.<key>`` replaced, e.g. ``t1_erase={...}``."""
    config = copy.deepcopy(sample_config(URL))
    for name, value in changes.items():
        index, key = name[1:].split("_", 1)
        config["tables"][int(index)][key] = value
    return config


def config_error(config: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as raised:
        SQLConnector(config)
    return str(raised.value)


def test_the_sample_config_is_valid_and_its_secrets_are_marked() -> None:
    connector = SQLConnector(sample_config(URL))

    assert isinstance(connector.config, SQLConfig)
    assert connector.config.db_schema is None
    assert SQLConfig.secret_fields() == ["url", "hash_key"]
    assert "very-secret-pw" not in repr(connector.config)


def test_a_parent_that_is_not_listed_is_refused() -> None:
    message = config_error(
        config_with(t1_parent={"table": "clients", "column": "customer_id", "references": "id"})
    )

    assert "table 'orders': its parent table 'clients' is not listed in 'tables'" in message


def test_a_cycle_of_parents_is_refused_and_named() -> None:
    config = config_with(
        t0_parent={"table": "invoices", "column": "id", "references": "order_id"}, t0_match={}
    )

    assert "the parent references form a cycle: customers -> invoices -> orders -> customers" in config_error(
        config
    )


def test_a_root_table_without_match_is_refused() -> None:
    assert "table 'customers' has no parent, so it needs 'match'" in config_error(config_with(t0_match={}))


def test_matching_on_full_name_alone_is_refused() -> None:
    message = config_error(config_with(t0_match={"full_name": "full_name"}))

    assert "table 'customers' matches on full_name only; a name alone never identifies a person" in message


def test_a_masked_root_must_mask_every_match_column() -> None:
    message = config_error(config_with(t0_erase={"mode": "mask", "columns": {"email": "hash"}}))

    assert (
        "table 'customers' is masked but its match column(s) phone are not in erase.columns: the person "
        "would stay identifiable and a second erase would find the rows again"
    ) in message


def test_masking_below_a_retained_root_is_refused_because_it_would_not_be_idempotent() -> None:
    message = config_error(config_with(t0_erase={"mode": "retain", "basis": "open dispute"}))

    assert "table 'orders' is masked but its root table 'customers' is retained" in message


def test_the_hash_mask_needs_a_hash_key() -> None:
    config = sample_config(URL)
    config["hash_key"] = None

    assert "hash_key is required because orders.email use(s) the 'hash' mask" in config_error(config)


@pytest.mark.parametrize(
    ("erase", "expected"),
    [
        ({"mode": "retain"}, "erase mode 'retain' needs a 'basis'"),
        ({"mode": "mask", "columns": {}}, "erase mode 'mask' needs at least one entry in 'columns'"),
        ({"mode": "delete", "columns": {"email": "null"}}, "'columns' is only used with erase mode 'mask'"),
        ({"mode": "shred"}, "tables.1.erase.mode: Input should be 'delete', 'mask' or 'retain'"),
        ({"mode": "mask", "columns": {"email": "scramble"}}, "Input should be 'null', 'redact', 'hash'"),
    ],
)
def test_an_inconsistent_erase_rule_is_refused(erase: dict[str, Any], expected: str) -> None:
    assert expected in config_error(config_with(t1_erase=erase))


def test_a_table_cannot_have_both_match_and_parent() -> None:
    message = config_error(config_with(t1_match={"email": "email"}))

    assert "table 'orders' has both 'match' and 'parent'; use one of them" in message


def test_unknown_keys_are_refused_so_typos_are_errors() -> None:
    config = sample_config(URL)
    config["tabels"] = config.pop("tables")

    message = config_error(config)

    assert message.startswith("invalid sql config: ")
    assert "tabels: Extra inputs are not permitted" in message
    assert "very-secret-pw" not in message


def test_an_unquoted_yaml_null_means_the_null_mask() -> None:
    connector = SQLConnector(config_with(t1_erase={"mode": "mask", "columns": {"email": None}}))

    assert connector.config.tables[1].erase.columns == {"email": "null"}


def test_json_safe_turns_database_values_into_json_values() -> None:
    import datetime as dt
    import uuid
    from decimal import Decimal

    value = {
        "amount": Decimal("10.50"),
        "at": dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC),
        "day": dt.date(2024, 5, 1),
        "blob": b"\x00\xff",
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "tags": ("a", 1),
        "nan": float("nan"),
    }

    assert json_safe(value) == {
        "amount": "10.50",
        "at": "2024-05-01T12:00:00+00:00",
        "day": "2024-05-01",
        "blob": "AP8=",
        "id": "12345678-1234-5678-1234-567812345678",
        "tags": ["a", 1],
        "nan": "nan",
    }
    json.dumps(json_safe(value))


def test_duckdb_refuses_deleting_a_table_that_a_foreign_key_references(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'fk.duckdb'}"
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    sa.Table(
        "people",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("email", sa.String),
    )
    sa.Table(
        "notes",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id")),
    )
    metadata.create_all(engine)
    engine.dispose()
    config = {
        "url": url,
        "tables": [
            {"name": "people", "match": {"email": "email"}, "erase": {"mode": "delete"}},
            {
                "name": "notes",
                "parent": {"table": "people", "column": "person_id", "references": "id"},
                "erase": {"mode": "delete"},
            },
        ],
    }

    with SQLConnector(config) as connector:
        result = connector.check()

    assert result.ok is False
    assert result.message.startswith(
        "table 'people' is referenced by a foreign key; DuckDB cannot delete such rows in the same "
        "transaction as the rows that reference them"
    )


def test_nothing_identifying_is_logged_during_an_erasure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from connectors.sql.sample import create_sample_schema, seed_sample

    url = f"sqlite:///{tmp_path / 'log.sqlite'}"
    engine = sa.create_engine(url)
    create_sample_schema(engine)
    seed_sample(engine)
    engine.dispose()
    caplog.set_level(logging.DEBUG)

    with SQLConnector(sample_config(url)) as connector:
        connector.erase(Subject.create(email="jane.doe@example.com", reference="DSR-42"))

    assert "sql erase DSR-42: found=7 erased=5 method=anonymised" in caplog.text
    assert "jane.doe" not in caplog.text.lower()
    assert "sample-hash-key" not in caplog.text
