from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dsr.staff.models import Role
from dsr.staff.services import staff_create


class Command(BaseCommand):
    help = "Create a staff user with a role (or change its role) and print its API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            profile, token = staff_create(
                username=options["username"], role=options["role"], email=options["email"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{profile.user.username} ({profile.role}) token: {token}")
