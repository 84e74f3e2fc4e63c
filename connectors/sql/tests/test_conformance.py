"""The SQL connector passes the SDK's conformance kit on a real SQLite file and a real PostgreSQL.

The kit's records are stored in a small schema of their own: ``people`` (matched on ``email``)
and ``purchases`` (reached through ``people.id``). Database triggers count every row the
connector inserts, updates or deletes in either table into ``kit_mutations``, so "a dry run writes
nothing" and "a second erase changes nothing" are checked against what the database actually saw.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors import PermanentError, TransientError
from connectors.sql.tests.backend import SQLBackend
from connectors.testing import STANDARD, ConnectorConformance, FakeBackend


class TestSQLiteConformance(ConnectorConformance):
    http = False
    async_erase = False

    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[SQLBackend]:
        # SQLite has no credentials; the closest a configuration gets to "bad credentials" is a
        # file that is not a database it may open: check() must say so, access() must fail.
        not_a_database = tmp_path / "not-a-database.sqlite"
        not_a_database.write_bytes(b"this file is not an SQLite database, whatever its name says" * 20)
        backend = SQLBackend(f"sqlite:///{tmp_path / 'kit.sqlite'}", f"sqlite:///{not_a_database}")
        yield backend
        backend.close()

    def test_bad_credentials_raise_auth_error_on_access(self, backend: FakeBackend) -> None:
        """Replaces the kit's test for SQLite, which has no credentials to refuse: an unusable file
        must fail permanently (a retry cannot help), not as a transient error retried for hours."""
        backend.seed_standard_dataset()
        with (
            backend.make_connector_with_bad_credentials() as connector,
            pytest.raises(PermanentError) as info,
        ):
            list(connector.access(STANDARD.target))
        assert not isinstance(info.value, TransientError)
        assert str(info.value) == "connecting and reading the catalogue failed: file is not a database"


class TestPostgreSQLConformance(ConnectorConformance):
    http = False
    async_erase = False

    @pytest.fixture
    def backend(self, postgresql_database: sa.URL) -> Iterator[SQLBackend]:
        url = postgresql_database.render_as_string(hide_password=False)
        bad = postgresql_database.set(username="dsr_kit_nobody", password="kit-wrong-password")
        backend = SQLBackend(url, bad.render_as_string(hide_password=False))
        yield backend
        backend.close()
