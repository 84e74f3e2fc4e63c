"""``manage.py startconnector NAME [--directory DIR] [--label LABEL]``: a new connector package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors import registry
from connectors.scaffold import ScaffoldError, scaffold_names, write_package


class Command(BaseCommand):
    help = (
        "Create a pip-installable connector package in DIR/NAME: connector, fake API, conformance "
        "test, README and the dsr.connectors entry point."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the connector key, snake_case (e.g. acme_crm)")
        parser.add_argument(
            "--directory", type=Path, default=Path("."), help="where the package folder NAME is created"
        )
        parser.add_argument("--label", default=None, help='the human label, e.g. "Acme CRM"')

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            names = scaffold_names(
                options["name"], label=options["label"], taken=frozenset(registry.available())
            )
            target = options["directory"] / names.key
            written = write_package(names, target)
        except ScaffoldError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"created {names.dist} in {target}:")
        for path in written:
            self.stdout.write(f"  {path.relative_to(target)}")
        self.stdout.write(
            "\nnext:\n"
            f"  cd {target}\n"
            "  PYTHONPATH=<DSR Hub folder> python -m pytest      # the conformance kit, against the fake\n"
            "  pip install --no-build-isolation -e .           # register it in this virtualenv\n"
            f"  python manage.py connectors describe {names.key}\n"
        )
