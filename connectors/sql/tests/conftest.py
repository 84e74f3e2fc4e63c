"""Databases for the SQL connector tests: SQLite and DuckDB files, PostgreSQL and MariaDB servers.

Server tests never skip. Each session creates its own uniquely named database on the server
(``TEST_POSTGRES_URL`` / ``TEST_MYSQL_URL`` choose another server) and drops it at the end; if the
server cannot be reached the tests fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.sql import SQLConnector
from connectors.sql.sample import SampleSeed, create_sample_schema, sample_metadata, seed_sample

BACKENDS = ["sqlite", "duckdb", "postgresql", "mariadb"]
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MYSQL_URL = os.environ.get("TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")


def _unique_name() -> str:
    return f"dsr_sql_test_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def postgresql_database() -> Iterator[sa.URL]:
    server = sa.make_url(POSTGRES_URL)
    name = _unique_name()
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def mariadb_database() -> Iterator[sa.URL]:
    server = sa.make_url(MYSQL_URL)
    name = _unique_name()
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    yield server.set(database=name)
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind, as a URL string with its password in clear."""
    backend = request.param
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'shop.sqlite'}"
        return
    if backend == "duckdb":
        yield f"duckdb:///{tmp_path / 'shop.duckdb'}"
        return
    url: sa.URL = request.getfixturevalue(f"{backend}_database")
    engine = sa.create_engine(url)
    _drop_everything(engine)
    engine.dispose()
    yield url.render_as_string(hide_password=False)
    engine = sa.create_engine(url)
    _drop_everything(engine)
    engine.dispose()


def _drop_everything(engine: sa.Engine) -> None:
    metadata = sa.MetaData()
    metadata.reflect(engine)
    metadata.drop_all(engine)


@dataclass
class Shop:
    """The sample shop in one database."""

    url: str
    engine: sa.Engine
    seed: SampleSeed
    tables: dict[str, sa.Table]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def rows(self, table: str, ids: tuple[int, ...] | None = None) -> list[dict[str, Any]]:
        """Rows of ``table`` (optionally only ``ids``) ordered by id, as plain dicts."""
        t = self.tables[table]
        query = sa.select(t).order_by(t.c.id)
        if ids is not None:
            query = query.where(t.c.id.in_(ids))
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        return {name: self.rows(name) for name in self.tables}

    def table_names(self) -> set[str]:
        return set(sa.inspect(self.engine).get_table_names())


@pytest.fixture
def shop(database_url: str) -> Iterator[Shop]:
    engine = sa.create_engine(database_url)
    create_sample_schema(engine)
    seed = seed_sample(engine, extra_customers=25)
    yield Shop(url=database_url, engine=engine, seed=seed, tables=dict(sample_metadata().tables))
    engine.dispose()


@pytest.fixture
def make_connector() -> Iterator[Callable[..., SQLConnector]]:
    """Build connectors and close them all after the test (servers must be able to drop the db)."""
    made: list[SQLConnector] = []

    def make(config: dict[str, Any], **kwargs: Any) -> SQLConnector:
        connector = SQLConnector(config, **kwargs)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()
