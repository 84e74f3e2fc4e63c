from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dsr.staff.tokens import token_list, token_revoke


class Command(BaseCommand):
    help = "Staff API tokens: list those that still work, or revoke one by its shown prefix."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="tokens that have not expired: prefix, user, issued, expires")
        listing.add_argument("--user", default=None, help="only this username's tokens")
        revoke = sub.add_parser("revoke", help="revoke a token by the prefix that 'list' shows")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            user = None
            if options["user"]:
                user = get_user_model().objects.filter(username=options["user"]).first()
                if user is None:
                    raise CommandError(f"no user {options['user']!r}")
            rows = list(token_list(user=user))
            if not rows:
                self.stdout.write("no tokens")
            for row in rows:
                self.stdout.write(
                    f"{row.token_key}  {row.user.get_username()}  issued {row.created:%Y-%m-%d %H:%M} UTC"
                    f"  expires {row.expiry:%Y-%m-%d %H:%M} UTC"
                )
            return
        if token_revoke(token_key=options["prefix"], actor="cli") == 0:
            raise CommandError(f"no token {options['prefix']!r}")
        self.stdout.write(f"revoked {options['prefix']}")
