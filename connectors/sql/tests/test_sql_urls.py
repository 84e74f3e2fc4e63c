"""The URL people copy from their database console (``postgresql://``, ``postgres://``, ``mysql://``,
``mariadb://``) works: the SQL connector fills in the driver it installs and says which it used."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from django.core.management import call_command

from connectors.sql import SQLConnector
from connectors.sql.connector import normalise_url
from connectors.sql.sample import create_sample_schema, sample_config


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@db.example.com:5432/shop", "postgresql+psycopg://u:p@db.example.com:5432/shop"),
        ("postgres://u:p@db.example.com/shop", "postgresql+psycopg://u:p@db.example.com/shop"),
        ("mysql://u:p@db.example.com:3306/shop", "mysql+pymysql://u:p@db.example.com:3306/shop"),
        ("mariadb://u:p@db.example.com/shop", "mariadb+pymysql://u:p@db.example.com/shop"),
        ("postgresql+psycopg://u:p@db.example.com/shop", "postgresql+psycopg://u:p@db.example.com/shop"),
        ("mysql+pymysql://u:p@h/shop?charset=utf8mb4", "mysql+pymysql://u:p@h/shop?charset=utf8mb4"),
        ("sqlite:////var/lib/shop.sqlite3", "sqlite:////var/lib/shop.sqlite3"),
    ],
)
def test_a_url_without_a_driver_gets_the_installed_one(given: str, used: str) -> None:
    assert normalise_url(sa.make_url(given)).render_as_string(hide_password=False) == used


def _bare(url: sa.URL, scheme: str) -> str:
    return url.set(drivername=scheme).render_as_string(hide_password=False)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_plain_postgresql_url_connects_with_psycopg_3(
    postgresql_database: sa.URL, make_connector: Callable[..., SQLConnector], scheme: str
) -> None:
    engine = sa.create_engine(postgresql_database)
    create_sample_schema(engine)
    engine.dispose()
    result = make_connector(sample_config(_bare(postgresql_database, scheme))).check()
    assert result.ok, result.message
    assert result.message.startswith("connected to postgresql (driver psycopg); tables customers")


@pytest.mark.parametrize("scheme", ["mysql", "mariadb"])
def test_a_plain_mysql_or_mariadb_url_connects_with_pymysql(
    mariadb_database: sa.URL, make_connector: Callable[..., SQLConnector], scheme: str
) -> None:
    engine = sa.create_engine(mariadb_database)
    create_sample_schema(engine)
    engine.dispose()
    result = make_connector(sample_config(_bare(mariadb_database, scheme))).check()
    assert result.ok, result.message
    assert result.message.startswith(f"connected to {scheme} (driver pymysql); tables customers")


def test_connectors_describe_says_which_driver_a_plain_url_uses() -> None:
    out = io.StringIO()
    call_command("connectors", "describe", "sql", stdout=out)
    assert (
        "postgresql:// and postgres:// use psycopg 3, mysql:// and mariadb:// use PyMySQL" in out.getvalue()
    )
