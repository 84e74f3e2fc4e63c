"""``manage.py connectors list | check SYSTEM | describe KEY``: what is installed, and does it work."""

from __future__ import annotations

import types
import typing
from importlib import metadata
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from connectors import Connector, ConnectorError, registry
from dsr.systems.models import System
from dsr.systems.services import system_build_connector


def connector_source(key: str) -> str:
    """``builtin``, or ``entry point <distribution> <version>`` for a plug-in."""
    if key in registry.BUILTINS:
        return "builtin"
    for entry_point in metadata.entry_points(group=registry.ENTRY_POINT_GROUP, name=key):
        dist = entry_point.dist
        return f"entry point {dist.name} {dist.version}" if dist is not None else "entry point"
    return "unknown"


def type_name(annotation: Any) -> str:
    """A short, readable name of a field's type: ``str``, ``int | None``, ``list[TableRule]``."""
    if annotation is None or annotation is type(None):
        return "None"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(arg) for arg in args)
    if origin is typing.Literal:
        return " | ".join(repr(arg) for arg in args)
    if origin is not None:
        inner = ", ".join("..." if arg is Ellipsis else type_name(arg) for arg in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    return getattr(annotation, "__name__", str(annotation))


def nested_models(annotation: Any) -> list[type[BaseModel]]:
    """Pydantic models used inside a field's type (``list[TableRule]`` -> ``[TableRule]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += [model for model in nested_models(arg) if model not in found]
    return found


def constraints(info: FieldInfo) -> str:
    parts = []
    for item in info.metadata:
        for name in ("gt", "ge", "lt", "le", "min_length", "max_length", "pattern"):
            value = getattr(item, name, None)
            if value is not None:
                parts.append(f"{name}={value}")
    return ", ".join(parts)


def default_text(info: FieldInfo) -> str:
    if info.is_required():
        return "(required)"
    if info.default_factory is not None:
        return repr(info.default_factory())  # type: ignore[call-arg]
    return "" if info.default is PydanticUndefined else repr(info.default)


def schema_rows(model: type[BaseModel], secret: set[str]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for name, info in model.model_fields.items():
        limits = constraints(info)
        note = " ".join(part for part in (info.description or "", f"[{limits}]" if limits else "") if part)
        rows.append(
            (
                info.alias or name,
                type_name(info.annotation),
                "yes" if name in secret else "no",
                default_text(info),
                note,
            )
        )
    return rows


def table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


class Command(BaseCommand):
    help = "List the registered connectors, check a system's connector, or describe a connector's config."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{list,check,describe}")
        sub.add_parser("list", help="every registered connector: key, label, category, capabilities, source")
        check = sub.add_parser("check", help="run the check() of a system's connector; exit 1 on failure")
        check.add_argument("system", help="the system's key")
        describe = sub.add_parser("describe", help="the configuration schema of a connector")
        describe.add_argument("key", help="the connector's key")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self.list_connectors()
        elif action == "check":
            self.check_system(options["system"])
        else:
            self.describe(options["key"])

    def list_connectors(self) -> None:
        rows: list[tuple[str, ...]] = [("KEY", "LABEL", "CATEGORY", "CAPABILITIES", "SOURCE")]
        for key, cls in sorted(registry.available().items()):
            capabilities = ", ".join(sorted(str(c) for c in cls.capabilities))
            rows.append((key, cls.label, cls.category, capabilities, connector_source(key)))
        self.stdout.write("\n".join(table(rows)))

    def check_system(self, key: str) -> None:
        system = System.objects.filter(key=key).first()
        if system is None:
            known = ", ".join(System.objects.order_by("key").values_list("key", flat=True)) or "none"
            raise CommandError(f"no system {key!r} (known: {known})")
        connector: Connector | None = None
        try:
            connector = system_build_connector(system=system)
            result = connector.check()
        except (ConnectorError, registry.RegistryError) as exc:
            message = connector.redact(str(exc)) if connector is not None else str(exc)
            raise CommandError(f"failed: {system.key} ({system.connector}): {message}") from None
        finally:
            if connector is not None:
                connector.close()
        if not result.ok:
            raise CommandError(f"failed: {system.key} ({system.connector}): {result.message}")
        self.stdout.write(f"ok: {system.key} ({system.connector}): {result.message}")

    def describe(self, key: str) -> None:
        try:
            cls = registry.get(key)
        except registry.RegistryError as exc:
            raise CommandError(str(exc)) from None
        config = cls.Config
        secret = set(config.secret_fields())
        capabilities = ", ".join(sorted(str(c) for c in cls.capabilities))
        lines = [
            f"{cls.key}: {cls.label}",
            f"category: {cls.category}",
            f"capabilities: {capabilities}",
            f"class: {cls.__module__}:{cls.__qualname__} ({connector_source(key)})",
            "",
            f"config ({config.__name__}; unknown keys are refused):",
        ]
        header = ("FIELD", "TYPE", "SECRET", "DEFAULT", "NOTES")
        lines += table([header, *schema_rows(config, secret)])
        seen: list[type[BaseModel]] = []
        for info in config.model_fields.values():
            seen += [model for model in nested_models(info.annotation) if model not in seen]
        index = 0
        while index < len(seen):  # nested models, breadth first
            model = seen[index]
            index += 1
            lines += ["", f"{model.__name__}:"]
            lines += table([header, *schema_rows(model, set())])
            for info in model.model_fields.values():
                seen += [m for m in nested_models(info.annotation) if m not in seen]
        if secret:
            lines += [
                "",
                "Secret fields are stored encrypted and never logged. In a systems file, give either the "
                "value or {env: VARIABLE} to read it from the worker's environment.",
            ]
        self.stdout.write("\n".join(lines))
