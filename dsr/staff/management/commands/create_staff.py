from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dsr.staff.models import Role
from dsr.staff.services import staff_create


class Command(BaseCommand):
    help = "Create a staff user with a role (or change its role); with --token, issue an API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--token",
            action="store_true",
            help="issue a new API token (expires after DSR_API_TOKEN_TTL_DAYS; shown only now)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            profile, token = staff_create(
                username=options["username"],
                role=options["role"],
                email=options["email"],
                token=options["token"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        line = f"{profile.user.username} ({profile.role})"
        if token is not None:
            line += f" token: {token} (shown only now; revoke with: manage.py tokens revoke {token[:15]})"
        self.stdout.write(line)
