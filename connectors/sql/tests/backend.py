"""The conformance backend of the SQL connector: a real database seeded with the kit's records.

The kit's records are stored in a small schema of their own: ``people`` (matched on ``email``)
and ``purchases`` (reached through ``people.id``). Database triggers count every row the
connector inserts, updates or deletes in either table into ``kit_mutations``, so "a dry run writes
nothing" and "a second erase changes nothing" are checked against what the database actually saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from connectors.sql import SQLConnector
from connectors.testing import FakeBackend, SeedRecord

TABLES = ("people", "purchases")


def kit_metadata() -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table(
        "people",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("email", sa.String(320)),
        sa.Column("first_name", sa.String(100)),
        sa.Column("last_name", sa.String(100)),
        sa.Column("note", sa.String(200)),
    )
    sa.Table(
        "purchases",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
        sa.Column("item", sa.String(200)),
    )
    sa.Table("kit_mutations", metadata, sa.Column("n", sa.Integer, nullable=False))
    return metadata


def kit_config(url: str) -> dict[str, Any]:
    return {
        "url": url,
        "tables": [
            {"name": "people", "primary_key": "id", "match": {"email": "email"}, "erase": {"mode": "delete"}},
            {
                "name": "purchases",
                "primary_key": "id",
                "parent": {"table": "people", "column": "person_id", "references": "id"},
                "erase": {"mode": "delete"},
            },
        ],
    }


def install_mutation_triggers(engine: sa.Engine) -> None:
    """Count every row written to the kit's tables, whoever writes it, in ``kit_mutations.n``."""
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO kit_mutations (n) VALUES (0)"))
        if engine.dialect.name == "sqlite":
            for table in TABLES:
                for event in ("INSERT", "UPDATE", "DELETE"):
                    conn.execute(
                        sa.text(
                            f"CREATE TRIGGER kit_{table}_{event.lower()} AFTER {event} ON {table} "
                            "BEGIN UPDATE kit_mutations SET n = n + 1; END"
                        )
                    )
            return
        conn.execute(
            sa.text(
                "CREATE OR REPLACE FUNCTION kit_count_mutation() RETURNS trigger AS $$ "
                "BEGIN UPDATE kit_mutations SET n = n + 1; RETURN NULL; END $$ LANGUAGE plpgsql"
            )
        )
        for table in TABLES:
            conn.execute(
                sa.text(
                    f"CREATE TRIGGER kit_{table}_mutation AFTER INSERT OR UPDATE OR DELETE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION kit_count_mutation()"
                )
            )


class SQLBackend(FakeBackend):
    """The kit's dataset in a real database: one ``people`` row and one purchase per record."""

    def __init__(self, url: str, bad_url: str) -> None:
        self.url = url
        self.bad_url = bad_url
        self.engine = sa.create_engine(url)
        self.metadata = kit_metadata()
        self.metadata.drop_all(self.engine)
        self.metadata.create_all(self.engine)
        install_mutation_triggers(self.engine)
        self.baseline = 0
        self.next_id = 1
        self.made: list[SQLConnector] = []

    def _make(self, url: str, *, dry_run: bool = False) -> SQLConnector:
        connector = SQLConnector(kit_config(url), dry_run=dry_run)
        self.made.append(connector)
        return connector

    def make_connector(self, *, dry_run: bool = False) -> SQLConnector:
        return self._make(self.url, dry_run=dry_run)

    def make_connector_with_bad_credentials(self) -> SQLConnector:
        return self._make(self.bad_url)

    def seed(self, records: Sequence[SeedRecord]) -> None:
        people, purchases = self.metadata.tables["people"], self.metadata.tables["purchases"]
        with self.engine.begin() as conn:
            for record in records:
                person_id = self.next_id
                self.next_id += 1
                conn.execute(
                    people.insert().values(
                        id=person_id,
                        email=record.email,
                        first_name=record.first_name,
                        last_name=record.last_name,
                        note=record.marker,
                    )
                )
                conn.execute(
                    purchases.insert().values(
                        id=person_id, person_id=person_id, item=f"book for {record.marker}"
                    )
                )
        self.baseline = self._counter()  # the seed's own inserts are not the connector's writes

    def _counter(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT n FROM kit_mutations")).scalar_one())

    def mutation_count(self) -> int:
        return self._counter() - self.baseline

    def records_of(self, email: str) -> list[Mapping[str, Any]]:
        people, purchases = self.metadata.tables["people"], self.metadata.tables["purchases"]
        matched = sa.func.lower(people.c.email) == email.strip().lower()
        with self.engine.connect() as conn:
            rows = [
                dict(r)
                for r in conn.execute(sa.select(people).where(matched).order_by(people.c.id)).mappings()
            ]
            owned = sa.select(people.c.id).where(matched)
            rows += [
                dict(r)
                for r in conn.execute(
                    sa.select(purchases).where(purchases.c.person_id.in_(owned)).order_by(purchases.c.id)
                ).mappings()
            ]
        return rows

    def close(self) -> None:
        for connector in self.made:
            connector.close()
        self.metadata.drop_all(self.engine)
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as conn:
                conn.execute(sa.text("DROP FUNCTION IF EXISTS kit_count_mutation()"))
        self.engine.dispose()
