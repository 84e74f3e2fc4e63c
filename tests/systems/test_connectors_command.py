"""``manage.py connectors list | check | describe`` and the registry check at start-up."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
import sqlalchemy as sa
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from connectors import registry
from connectors.sql.sample import create_sample_schema, sample_config, seed_sample
from tests.factories import SystemFactory


def run(*args: str) -> str:
    out = StringIO()
    call_command("connectors", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    registry.available.cache_clear()
    yield monkeypatch
    registry.available.cache_clear()


def test_list_shows_every_builtin_with_label_category_capabilities_and_source() -> None:
    lines = run("list").splitlines()
    assert lines[0].split() == ["KEY", "LABEL", "CATEGORY", "CAPABILITIES", "SOURCE"]
    keys = [line.split()[0] for line in lines[1:]]
    assert keys == sorted(registry.BUILTINS)
    hubspot = next(line for line in lines if line.startswith("hubspot "))
    assert hubspot.split() == ["hubspot", "HubSpot", "CRM", "crm", "access,", "erase", "builtin"]


def test_describe_prints_fields_types_secrets_and_defaults() -> None:
    out = run("describe", "hubspot")
    lines = out.splitlines()
    assert lines[:4] == [
        "hubspot: HubSpot CRM",
        "category: crm",
        "capabilities: access, erase",
        "class: connectors.hubspot.connector:HubSpotConnector (builtin)",
    ]
    rows = {line.split()[0]: line.split() for line in lines[7:15]}
    assert rows["access_token"] == ["access_token", "SecretStr", "yes", "(required)"]
    assert rows["page_size"] == ["page_size", "int", "no", "100", "[ge=1,", "le=200]"]
    assert rows["base_url"][:4] == ["base_url", "str", "no", "'https://api.hubapi.com'"]
    assert "{env: VARIABLE}" in out


def test_describe_follows_nested_models_and_shows_config_aliases() -> None:
    out = run("describe", "sql")
    assert "schema       str | None        no      None" in out
    assert "url          SecretStr         yes     (required)" in out
    assert "\nTableRule:\n" in out
    assert "\nEraseRule:\n" in out
    assert "mode     'delete' | 'mask' | 'retain'" in out


def test_describe_of_an_unknown_key_names_the_known_ones() -> None:
    with pytest.raises(CommandError) as info:
        run("describe", "nope")
    assert str(info.value).startswith("no connector 'nope' is registered (known: hubspot, klaviyo, ")


@pytest.mark.django_db
def test_check_prints_ok_with_the_connectors_message(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    engine = sa.create_engine(url)
    create_sample_schema(engine)
    seed_sample(engine)
    engine.dispose()
    SystemFactory(key="warehouse", connector="sql", config=sample_config(url))

    assert run("check", "warehouse") == (
        "ok: warehouse (sql): connected to sqlite (driver pysqlite); "
        "tables customers, orders, invoices match the catalogue\n"
    )


@pytest.mark.django_db
def test_check_fails_with_exit_status_1_and_the_reason(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    SystemFactory(key="warehouse", connector="sql", config=sample_config(url))
    with pytest.raises(CommandError) as info:
        run("check", "warehouse")
    assert info.value.returncode == 1
    assert str(info.value) == (
        "failed: warehouse (sql): table 'customers' does not exist; table 'orders' does not exist; "
        "table 'invoices' does not exist"
    )


@pytest.mark.django_db
def test_check_of_an_invalid_config_or_unknown_system_fails_readably() -> None:
    SystemFactory(key="crm", connector="hubspot", config={"base_url": "http://crm.example"})
    with pytest.raises(CommandError) as info:
        run("check", "crm")
    assert str(info.value) == (
        "failed: crm (hubspot): invalid hubspot config: access_token: Field required; "
        "base_url: Value error, must use https (plain http is allowed for localhost only)"
    )
    with pytest.raises(CommandError) as info:
        run("check", "nope")
    assert str(info.value) == "no system 'nope' (known: crm)"


def test_a_broken_plug_in_stops_start_up_with_a_message_naming_it(fresh_registry: pytest.MonkeyPatch) -> None:
    fresh_registry.setitem(registry.BUILTINS, "broken", "no_such_module.connector:Broken")
    with pytest.raises(ImproperlyConfigured) as info:
        apps.get_app_config("systems").ready()
    assert str(info.value) == (
        "the connector registry is broken: broken (no_such_module.connector:Broken): "
        "cannot import: No module named 'no_such_module'"
    )


def test_a_valid_registry_starts_up_quietly(fresh_registry: pytest.MonkeyPatch) -> None:
    apps.get_app_config("systems").ready()
    assert "manual" in registry.available()
