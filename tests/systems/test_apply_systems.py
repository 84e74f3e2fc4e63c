"""``manage.py apply_systems FILE``: idempotent, all-or-nothing, errors that name the line."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
import sqlalchemy as sa
from django.core.management import CommandError, call_command
from django.db import connection

from connectors.errors import ConfigError
from connectors.sql.sample import TARGET_EMAIL, create_sample_schema, seed_sample
from connectors.types import Subject
from dsr.audit.models import AuditEvent
from dsr.systems.models import System
from dsr.systems.services import system_build_connector, system_connector_config

pytestmark = pytest.mark.django_db

TWO_SYSTEMS = """\
systems:
  - key: shop
    name: Shop database
    connector: sql
    description: Orders and customers
    config:
      url: sqlite:///{db}
      hash_key: shop-hash-key
      tables:
        - name: customers
          match: {{email: email}}
          erase: {{mode: delete}}
  - key: warehouse
    name: Warehouse
    connector: sql
    erase_after: [shop]
    config:
      url: {{env: DSR_SECRET_TEST_WAREHOUSE_URL}}
      tables:
        - name: customers
          match: {{email: email}}
          erase: {{mode: delete}}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "systems.yaml"
    path.write_text(text)
    return path


def _apply(path: Path) -> str:
    out = StringIO()
    call_command("apply_systems", str(path), stdout=out)
    return out.getvalue()


def _apply_error(path: Path) -> str:
    with pytest.raises(CommandError) as caught:
        _apply(path)
    return str(caught.value)


@pytest.fixture
def shop_db(tmp_path: Path) -> Path:
    db = tmp_path / "shop.sqlite3"
    engine = sa.create_engine(f"sqlite:///{db}")
    create_sample_schema(engine)
    seed_sample(engine)
    engine.dispose()
    return db


def test_applying_a_file_creates_its_systems_with_their_ordering(tmp_path, shop_db):
    path = _write(tmp_path, TWO_SYSTEMS.format(db=shop_db))
    assert _apply(path) == "created: shop, warehouse\nupdated: -\nunchanged: -\n"
    shop, warehouse = System.objects.order_by("key")
    assert (shop.name, shop.connector, shop.enabled, shop.description) == (
        "Shop database",
        "sql",
        True,
        "Orders and customers",
    )
    assert list(warehouse.erase_after.values_list("key", flat=True)) == ["shop"]
    assert list(shop.erase_after.all()) == []
    event = AuditEvent.objects.get(action="systems.applied")
    assert (event.actor, event.data["created"], event.data["updated"]) == (
        "cli:apply_systems",
        ["shop", "warehouse"],
        [],
    )


def test_applying_the_same_file_again_reports_every_system_unchanged_and_writes_nothing(tmp_path, shop_db):
    path = _write(tmp_path, TWO_SYSTEMS.format(db=shop_db))
    _apply(path)
    before = list(System.objects.order_by("key").values_list("key", "updated_at"))
    events = AuditEvent.objects.count()
    assert _apply(path) == "created: -\nupdated: -\nunchanged: shop, warehouse\n"
    assert list(System.objects.order_by("key").values_list("key", "updated_at")) == before
    assert AuditEvent.objects.count() == events


def test_changing_one_system_reports_only_that_one_updated(tmp_path, shop_db):
    _apply(_write(tmp_path, TWO_SYSTEMS.format(db=shop_db)))
    changed = TWO_SYSTEMS.format(db=shop_db).replace("hash_key: shop-hash-key", "hash_key: rotated-key")
    assert _apply(_write(tmp_path, changed)) == "created: -\nupdated: shop\nunchanged: warehouse\n"
    assert json.loads(System.objects.get(key="shop").secrets)["hash_key"] == "rotated-key"


def test_changing_only_the_erase_ordering_reports_the_system_updated(tmp_path, shop_db):
    _apply(_write(tmp_path, TWO_SYSTEMS.format(db=shop_db)))
    changed = TWO_SYSTEMS.format(db=shop_db).replace("    erase_after: [shop]\n", "")
    assert _apply(_write(tmp_path, changed)) == "created: -\nupdated: warehouse\nunchanged: shop\n"
    assert list(System.objects.get(key="warehouse").erase_after.all()) == []


def test_secret_fields_are_stored_encrypted_and_kept_out_of_the_plain_config(tmp_path, shop_db):
    _apply(_write(tmp_path, TWO_SYSTEMS.format(db=shop_db)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT config::text, secrets FROM systems_system WHERE key = 'shop'")
        raw_config, raw_secrets = cursor.fetchone()
    assert raw_secrets.startswith("v1:")
    assert str(shop_db) not in raw_secrets
    assert "shop-hash-key" not in raw_secrets
    assert str(shop_db) not in raw_config
    assert "shop-hash-key" not in raw_config
    shop = System.objects.get(key="shop")
    assert json.loads(shop.secrets) == {"hash_key": "shop-hash-key", "url": f"sqlite:///{shop_db}"}
    assert set(shop.config) == {"tables"}


def test_an_env_reference_is_stored_as_a_reference_and_resolved_from_the_environment(
    tmp_path, shop_db, monkeypatch
):
    _apply(_write(tmp_path, TWO_SYSTEMS.format(db=shop_db)))
    warehouse = System.objects.get(key="warehouse")
    assert json.loads(warehouse.secrets) == {"url": {"env": "DSR_SECRET_TEST_WAREHOUSE_URL"}}

    monkeypatch.setenv("DSR_SECRET_TEST_WAREHOUSE_URL", f"sqlite:///{shop_db}")
    assert system_connector_config(system=warehouse)["url"] == f"sqlite:///{shop_db}"
    records = list(system_build_connector(system=warehouse).access(Subject.create(email=TARGET_EMAIL)))
    assert sorted(record.record_id for record in records) == ["1", "2"]


def test_an_env_reference_to_an_unset_variable_is_a_readable_config_error(tmp_path, shop_db, monkeypatch):
    _apply(_write(tmp_path, TWO_SYSTEMS.format(db=shop_db)))
    monkeypatch.delenv("DSR_SECRET_TEST_WAREHOUSE_URL", raising=False)
    with pytest.raises(ConfigError) as caught:
        system_connector_config(system=System.objects.get(key="warehouse"))
    assert str(caught.value) == (
        "secret 'url' refers to environment variable DSR_SECRET_TEST_WAREHOUSE_URL which is not set"
    )


def test_invalid_yaml_names_its_line(tmp_path):
    path = _write(tmp_path, "systems:\n  - key: shop\n    name: [unclosed\n    connector: sql\n")
    message = _apply_error(path)
    assert message.startswith(f"{path}, line 4: not valid YAML")
    assert System.objects.count() == 0


def test_an_unknown_field_names_the_line_of_its_system(tmp_path, shop_db):
    text = TWO_SYSTEMS.format(db=shop_db).replace("    erase_after: [shop]\n", "    colour: blue\n")
    path = _write(tmp_path, text)
    assert _apply_error(path) == f"{path}, line 13: unknown field(s) colour"
    assert System.objects.count() == 0


def test_a_bad_connector_config_names_the_line_and_the_system(tmp_path, shop_db):
    text = TWO_SYSTEMS.format(db=shop_db).replace("          erase: {mode: delete}\n", "", 1)
    path = _write(tmp_path, text)
    message = _apply_error(path)
    assert message.startswith(f"{path}, line 2 (system 'shop'): ")
    assert "erase" in message.removeprefix(f"{path}, line 2 (system 'shop'): ")
    assert System.objects.count() == 0


def test_an_unknown_connector_names_the_line(tmp_path):
    path = _write(tmp_path, "systems:\n  - key: crm\n    name: CRM\n    connector: nosuchthing\n")
    message = _apply_error(path)
    assert message.startswith(f"{path}, line 2 (system 'crm'): ")
    assert "nosuchthing" in message


def test_an_unknown_erase_after_names_the_line(tmp_path, shop_db):
    text = TWO_SYSTEMS.format(db=shop_db).replace("erase_after: [shop]", "erase_after: [crm]")
    path = _write(tmp_path, text)
    assert _apply_error(path) == f"{path}, line 13: erase_after names unknown system 'crm'"
    assert System.objects.count() == 0


def test_an_erase_after_cycle_names_the_line_and_the_cycle(tmp_path, shop_db):
    text = TWO_SYSTEMS.format(db=shop_db).replace(
        "    connector: sql\n    description:",
        "    connector: sql\n    erase_after: [warehouse]\n    description:",
    )
    path = _write(tmp_path, text)
    assert _apply_error(path) == f"{path}, line 2: erase_after forms a cycle: shop -> warehouse -> shop"
    assert System.objects.count() == 0


def test_a_duplicate_key_names_both_lines(tmp_path, shop_db):
    text = TWO_SYSTEMS.format(db=shop_db).replace("key: warehouse", "key: shop")
    path = _write(tmp_path, text)
    assert _apply_error(path) == f"{path}, line 13: system key 'shop' already used at line 2"


def test_a_file_without_a_systems_list_is_refused_at_line_one(tmp_path):
    path = _write(tmp_path, "servers: []\n")
    assert _apply_error(path) == f"{path}, line 1: the file must have a top-level 'systems:' list"


def test_a_missing_file_is_a_readable_error(tmp_path):
    path = tmp_path / "missing.yaml"
    assert _apply_error(path) == f"{path}: cannot read file: No such file or directory"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('    enabled: "false"\n', "'enabled' must be true or false"),
        ("    description: 42\n", "'description' must be text"),
        ("    key: Shop Database\n", "'key' must be a slug: letters, digits, '-' and '_'"),
    ],
    ids=["quoted-enabled", "numeric-description", "key-with-spaces"],
)
def test_a_field_of_the_wrong_type_names_the_line(tmp_path, line, message):
    text = (
        "systems:\n  - key: shop\n    name: Shop\n    connector: sql\n"
        + line
        + (
            "    config:\n      url: sqlite://\n      tables:\n"
            "        - {name: customers, match: {email: email}, erase: {mode: delete}}\n"
        )
    )
    if line.startswith("    key:"):
        text = text.replace("  - key: shop\n    name: Shop\n", "  - name: Shop\n")
    path = _write(tmp_path, text)
    assert _apply_error(path) == f"{path}, line 2: {message}"
    assert System.objects.count() == 0


def test_a_disabled_system_is_stored_disabled(tmp_path):
    text = (
        "systems:\n  - key: shop\n    name: Shop\n    connector: sql\n    enabled: false\n"
        "    config:\n      url: sqlite://\n      tables:\n"
        "        - {name: customers, match: {email: email}, erase: {mode: delete}}\n"
    )
    _apply(_write(tmp_path, text))
    assert System.objects.get(key="shop").enabled is False
