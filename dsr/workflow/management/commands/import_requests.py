from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dsr.workflow.imports import requests_import


class Command(BaseCommand):
    help = (
        "Import a backlog of requests from a CSV file (columns: type, email, jurisdiction, received_at, "
        "external_id; optional name, details, channel, verified, test). All rows or none; rows whose "
        "external_id exists are skipped. Run with --dry-run first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row and show what would be created."
        )
        parser.add_argument(
            "--actor",
            default="command:import_requests",
            help="Who imports, for the audit log (default: command:import_requests).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from None
        # Whoever runs manage.py on the server holds the keys anyway: an operator may attest
        # verification (the ``verified`` column); it is audited under --actor.
        report = requests_import(
            text=text,
            actor=options["actor"],
            dry_run=options["dry_run"],
            allow_verified=True,
            source=path.name,
        )
        if report.errors:
            for error in report.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(report.errors)} problem(s) found; nothing was imported.")
        verb = "would be created" if report.dry_run else "created"
        for row in report.rows:
            what = verb if row.created else "already imported, skipped"
            flags = "".join([" [verified]" if row.verified else "", " [TEST]" if row.test else ""])
            reference = f" {row.reference}" if row.created and not report.dry_run else ""
            self.stdout.write(
                f"row {row.row} {row.external_id}: {row.type} {row.jurisdiction}, received "
                f"{row.received_on:%Y-%m-%d}, due {row.due_on:%Y-%m-%d}, {row.status}{flags}: "
                f"{what}{reference}"
            )
        summary = f"{report.created} {verb}, {report.existing} already imported."
        if report.dry_run:
            summary += " Dry run: nothing was written; run again without --dry-run to import."
        self.stdout.write(summary)
