from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dsr.systems.services import SystemsFileError, systems_apply_file


class Command(BaseCommand):
    help = "Create or update systems from a YAML file (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = systems_apply_file(path=options["file"], actor="cli:apply_systems")
        except SystemsFileError as exc:
            raise CommandError(str(exc)) from None
        for label, keys in (
            ("created", report.created),
            ("updated", report.updated),
            ("unchanged", report.unchanged),
        ):
            self.stdout.write(f"{label}: {', '.join(keys) if keys else '-'}")
