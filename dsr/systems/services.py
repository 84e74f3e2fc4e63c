"""Building connectors from systems, and applying a systems YAML file."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction
from pydantic import ValidationError

from connectors import Connector, registry
from connectors.base import format_validation_error
from connectors.errors import ConfigError
from connectors.outbound import HostPolicy, OutboundRefused, parse_allow_hosts
from dsr.audit.services import audit_record
from dsr.identity.crypto import DecryptionError
from dsr.systems.inventory import INVENTORY_FIELDS, InventoryError, inventory_clean
from dsr.systems.models import System


class SystemsFileError(Exception):
    """The systems file is invalid; the message names the line and the problem."""


# --- secrets from the environment ---------------------------------------------------------------

#: ``{env: NAME}`` resolves names under this prefix, or listed in ``DSR_SECRET_ENV_ALLOW``.
# A prefix of environment-variable names, not a secret.
SECRET_ENV_PREFIX = "DSR_SECRET_"  # noqa: S105  # nosec B105
#: The platform's own secrets and connection strings: never resolvable, whatever the allow-list.
PLATFORM_ENV = frozenset(
    {
        "SECRET_KEY",
        "DJANGO_SECRET_KEY",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "CELERY_RESULT_BACKEND",
        "CACHE_URL",
        "REDIS_URL",
        "EMAIL_URL",
        "EMAIL_HOST_PASSWORD",
        "DSR_ENCRYPTION_KEYS",
        "DSR_BLIND_INDEX_KEY",
        "DSR_AUDIT_KEY",
    }
)
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def secret_env_check(*, field: str, name: Any) -> str:
    """Return ``name`` if a secret may be read from that environment variable, else raise ConfigError.

    Allowed: ``DSR_SECRET_*`` names and the names listed in ``DSR_SECRET_ENV_ALLOW``. Refused
    always: the platform's own settings (:data:`PLATFORM_ENV`, and any other ``DSR_*`` name), so
    that no system configuration can send DSR Hub's keys to a vendor (security finding 3).
    """
    if not isinstance(name, str) or not _ENV_NAME_RE.fullmatch(name):
        raise ConfigError(f"secret {field!r}: {{env: ...}} must name an environment variable")
    prefixed = name.startswith(SECRET_ENV_PREFIX) and len(name) > len(SECRET_ENV_PREFIX)
    if name in PLATFORM_ENV or (name.startswith("DSR_") and not prefixed):
        raise ConfigError(
            f"secret {field!r} refers to environment variable {name}, one of DSR Hub's own settings: "
            f"it is never given to a connector (use a name starting with {SECRET_ENV_PREFIX})"
        )
    if not prefixed and name not in settings.DSR_SECRET_ENV_ALLOW:
        raise ConfigError(
            f"secret {field!r} refers to environment variable {name}, which is not allowed: use a name "
            f"starting with {SECRET_ENV_PREFIX} or list it in DSR_SECRET_ENV_ALLOW"
        )
    return name


def _is_env_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"env"}


def _resolve_secret(name: str, value: Any) -> Any:
    """A secret is either a literal or ``{"env": "VAR"}``, read from the worker's environment."""
    if _is_env_ref(value):
        env_name = secret_env_check(field=name, name=value["env"])
        if env_name not in os.environ:
            raise ConfigError(f"secret {name!r} refers to environment variable {env_name} which is not set")
        return os.environ[env_name]
    return value


def system_secrets(*, system: System) -> dict[str, Any]:
    """The system's stored secrets (literals and ``{env: NAME}`` references), opened.

    Raises ConfigError "system configuration was modified outside DSR Hub ..." when the row's key,
    connector or config no longer match what the secrets were sealed with (security finding 4).
    """
    try:
        raw = system.secrets
    except DecryptionError as exc:  # BindingError (modified outside DSR Hub) or an unknown key id
        raise ConfigError(f"{system.key}: {exc}") from None
    return dict(json.loads(raw)) if raw else {}


def system_connector_config(*, system: System) -> dict[str, Any]:
    """The full connector config: plain fields plus resolved secrets. Built inside the worker only."""
    config = dict(system.config)
    for name, value in system_secrets(system=system).items():
        config[name] = _resolve_secret(name, value)
    return config


def system_build_connector(*, system: System, dry_run: bool = False) -> Connector:
    """Instantiate the system's connector. Raises ConfigError with a readable message.

    The connector may call the hosts it declares and those of ``DSR_OUTBOUND_ALLOW_HOSTS``.
    """
    cls = registry.get(system.connector)
    return cls(
        system_connector_config(system=system),
        dry_run=dry_run,
        outbound_allow=settings.DSR_OUTBOUND_ALLOW_HOSTS,
    )


def split_secrets(*, connector_key: str, config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate a connector config into (plain, secret) by the connector's ``SecretStr`` fields."""
    cls = registry.get(connector_key)
    secret_names = set(cls.Config.secret_fields())
    plain = {k: v for k, v in config.items() if k not in secret_names}
    secret = {k: v for k, v in config.items() if k in secret_names}
    return plain, secret


def validate_config(*, connector_key: str, config: dict[str, Any]) -> None:
    """Validate a config against the connector's schema. An ``{env: NAME}`` reference must name an
    allowed variable (:func:`secret_env_check`); whether it is set is checked by the worker. A
    ``base_url`` must be on a host the connector declares or ``DSR_OUTBOUND_ALLOW_HOSTS`` allows."""
    cls = registry.get(connector_key)
    for name, value in config.items():
        if _is_env_ref(value):
            secret_env_check(field=name, name=value["env"])
    probe = {k: ("<from env>" if _is_env_ref(v) else v) for k, v in config.items()}
    try:
        validated = cls.Config.model_validate(probe)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc)) from None
    # The worker checks every request (and the addresses names resolve to); refuse early what it
    # would refuse anyway: a base_url on a host the connector does not declare.
    policy = HostPolicy(
        hosts=cls.allowed_hosts, allow=parse_allow_hosts(settings.DSR_OUTBOUND_ALLOW_HOSTS), vendor=cls.key
    )
    for url in cls.configured_urls(validated):
        try:
            policy.check(url, resolve=False)
        except OutboundRefused as exc:
            raise ConfigError(str(exc)) from None


# --- writing a system (the one way: admin, dashboard and systems files all come here) -------------

#: The fields ``system_save`` compares and writes (``secrets`` and ``erase_after`` are arguments).
SYSTEM_FIELDS = ("key", "name", "connector", "config", "enabled", "description", *INVENTORY_FIELDS)


@transaction.atomic
def system_save(
    *,
    system: System,
    actor: str,
    source: str,
    secrets: Mapping[str, Any] | None = None,
    erase_after: Iterable[str] | None = None,
) -> list[str]:
    """Create ``system`` or write what changed in it; return the changed field names.

    ``system`` carries the wanted values (a new instance, or one loaded and edited in memory).
    ``secrets``: the complete secret fields to store (literals or ``{env: NAME}``), ``None`` keeps
    the stored ones. ``erase_after``: the keys of the systems to erase first, ``None`` keeps them.
    The secrets are sealed to the key, connector and config (dsr.systems.binding). Each change is
    audited as ``system.created`` / ``system.updated`` with the actor, the ``source`` (``admin``,
    ``dashboard``, ``systems file``) and the names of the changed fields, never a value of a secret.
    Raises ConfigError when the stored secrets must be re-sealed but no longer open (the row was
    modified outside DSR Hub): the caller then passes ``secrets`` again.
    """
    before = System.objects.select_for_update().filter(pk=system.pk).first() if system.pk else None
    if before is None:
        changed = ["key", *(f for f in SYSTEM_FIELDS if f != "key" and getattr(system, f))]
    else:
        changed = [f for f in SYSTEM_FIELDS if getattr(before, f) != getattr(system, f)]
    rebinding = before is None or before.encryption_binding() != system.encryption_binding()
    if secrets is not None:
        wanted = json.dumps(dict(secrets), sort_keys=True) if secrets else ""
        try:
            stored: str | None = before.secrets if before is not None else None
        except DecryptionError:
            stored = None  # modified outside DSR Hub, or an old key: the secrets given replace it
        if stored != wanted and (before is not None or wanted):
            changed.append("secrets")
        system.secrets = wanted
    elif before is not None and rebinding:
        system.secrets = json.dumps(system_secrets(system=before), sort_keys=True)

    if before is None:
        system.save()
    elif changed:
        fields = [f for f in changed if f != "secrets"]
        if rebinding or "secrets" in changed:
            fields.append("secrets")
        system.save(update_fields=[*fields, "updated_at"])
    if erase_after is not None:
        wanted_after = set(erase_after)
        current_after = set(system.erase_after.values_list("key", flat=True)) if before else set()
        if wanted_after != current_after:
            system.erase_after.set(System.objects.filter(key__in=wanted_after))
            changed.append("erase_after")
    if before is None or changed:
        data: dict[str, Any] = {"system": system.key, "source": source, "changed": changed}
        if "enabled" in changed:
            data["enabled"] = system.enabled
        if before is not None and "key" in changed:
            data["previous_key"] = before.key
        audit_record(actor=actor, action="system.created" if before is None else "system.updated", data=data)
    return changed


def system_set_enabled(*, system_id: int, enabled: bool, actor: str, source: str = "dashboard") -> System:
    """Enable or disable a system: a disabled system gets no new jobs (running ones continue)."""
    with transaction.atomic():
        system = System.objects.select_for_update().get(pk=system_id)
        system.enabled = enabled
        system_save(system=system, actor=actor, source=source)
    return system


# --- the systems YAML file ----------------------------------------------------------------------


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping, for error messages."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _strip_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _strip_lines(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value


@dataclass
class ApplyReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


_SLUG_RE = re.compile(r"[-a-zA-Z0-9_]+")  # as Django's SlugField
SYSTEM_KEYS = {"key", "name", "connector", "config", "enabled", "erase_after", "description"} | set(
    INVENTORY_FIELDS
)


def _inventory_from_item(item: dict[str, Any], *, path: Path) -> dict[str, Any]:
    """The inventory fields of one YAML entry, validated; errors name the line at fault."""
    raw = {name: item[name] for name in INVENTORY_FIELDS if name in item}
    try:
        return inventory_clean({name: _strip_lines(value) for name, value in raw.items()})
    except InventoryError as exc:
        line = item.get("__line__", "?")
        entries = raw.get(exc.field)
        if exc.item is not None and isinstance(entries, list) and isinstance(entries[exc.item], dict):
            line = entries[exc.item].get("__line__", line)
        raise SystemsFileError(f"{path}, line {line} (system {item.get('key')!r}): {exc}") from None


def systems_apply_file(*, path: Path, actor: str = "system") -> ApplyReport:
    """Create or update systems from a YAML file. Idempotent; all-or-nothing.

    The file is ``systems: [{key, name, connector, config, enabled?, erase_after?, description?}]``
    plus the optional inventory fields of ``dsr.systems.inventory.INVENTORY_FIELDS``.
    Any problem raises ``SystemsFileError`` naming the line.
    """
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise SystemsFileError(f"{path}: cannot read file: {exc.strerror}") from None
    try:
        doc = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "unknown line"
        raise SystemsFileError(f"{path}, {where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("systems"), list):
        raise SystemsFileError(f"{path}, line 1: the file must have a top-level 'systems:' list")

    entries: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for item in doc["systems"]:
        if not isinstance(item, dict):
            raise SystemsFileError(f"{path}: every entry of 'systems' must be a mapping")
        line = item.get("__line__", "?")
        where = f"{path}, line {line}"
        unknown = set(item) - SYSTEM_KEYS - {"__line__"}
        if unknown:
            raise SystemsFileError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        for required in ("key", "name", "connector"):
            if not isinstance(item.get(required), str) or not item[required].strip():
                raise SystemsFileError(f"{where}: '{required}' is required and must be text")
        key = item["key"]
        if not _SLUG_RE.fullmatch(key):
            raise SystemsFileError(f"{where}: 'key' must be a slug: letters, digits, '-' and '_'")
        if "enabled" in item and not isinstance(item["enabled"], bool):
            # A quoted "false" is a true value in Python: refuse it rather than enable the system.
            raise SystemsFileError(f"{where}: 'enabled' must be true or false")
        if item.get("description") is not None and not isinstance(item["description"], str):
            raise SystemsFileError(f"{where}: 'description' must be text")
        if key in seen:
            raise SystemsFileError(f"{where}: system key {key!r} already used at line {seen[key]}")
        seen[key] = line
        config = _strip_lines(item.get("config") or {})
        if not isinstance(config, dict):
            raise SystemsFileError(f"{where}: 'config' must be a mapping")
        try:
            registry.get(item["connector"])
            validate_config(connector_key=item["connector"], config=config)
        except (ConfigError, registry.RegistryError) as exc:
            raise SystemsFileError(f"{where} (system {key!r}): {exc}") from None
        after = item.get("erase_after") or []
        if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
            raise SystemsFileError(f"{where}: 'erase_after' must be a list of system keys")
        inventory = _inventory_from_item(item, path=path)
        entries.append(
            {**item, "config": config, "erase_after": after, "__where__": where, "__inventory__": inventory}
        )

    known = set(seen) | set(System.objects.values_list("key", flat=True))
    for entry in entries:
        for dep in entry["erase_after"]:
            if dep not in known:
                raise SystemsFileError(f"{entry['__where__']}: erase_after names unknown system {dep!r}")
    _check_no_cycle(entries)

    report = ApplyReport()
    with transaction.atomic():
        for entry in entries:
            plain, secret = split_secrets(connector_key=entry["connector"], config=entry["config"])
            values = {
                "name": entry["name"],
                "connector": entry["connector"],
                "config": plain,
                "enabled": bool(entry.get("enabled", True)),
                "description": entry.get("description") or "",
                **entry["__inventory__"],
            }
            system = System.objects.filter(key=entry["key"]).first()
            created = system is None
            if system is None:
                system = System(key=entry["key"])
            for k, v in values.items():
                setattr(system, k, v)
            # Dependencies on systems declared later in the file are set in a second pass.
            changed = system_save(system=system, actor=actor, source="systems file", secrets=secret)
            if created:
                report.created.append(system.key)
            elif changed:
                report.updated.append(system.key)
            else:
                report.unchanged.append(system.key)
        for entry in entries:
            system = System.objects.get(key=entry["key"])
            changed = system_save(
                system=system, actor=actor, source="systems file", erase_after=entry["erase_after"]
            )
            if changed and system.key in report.unchanged:
                report.unchanged.remove(system.key)
                report.updated.append(system.key)
        if report.created or report.updated:
            audit_record(
                actor=actor,
                action="systems.applied",
                data={"file": str(path), "created": report.created, "updated": report.updated},
            )
    return report


def _check_no_cycle(entries: list[dict[str, Any]]) -> None:
    graph = {e["key"]: list(e["erase_after"]) for e in entries}
    where = {e["key"]: e["__where__"] for e in entries}
    for system in System.objects.exclude(key__in=graph).prefetch_related("erase_after"):
        graph[system.key] = [s.key for s in system.erase_after.all()]
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            members = trail[trail.index(node) :]
            cycle = " -> ".join([*members, node])
            # Name the line of the first system of the cycle that is declared in this file.
            line = next((where[key] for key in members if key in where), None)
            prefix = f"{line}: " if line else ""
            raise SystemsFileError(f"{prefix}erase_after forms a cycle: {cycle}")
        state[node] = 1
        for dep in graph.get(node, []):
            visit(dep, [*trail, node])
        state[node] = 2

    for node in graph:
        visit(node, [])
