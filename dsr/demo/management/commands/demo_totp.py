"""Development only: print the current two-factor code of a demo staff user.

The dashboard asks staff for a TOTP code after the password. On the embedded demo nobody has an
authenticator app at hand, so this prints the code the app would show (and the secret, to add the
account to a real app instead).
"""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dsr.staff.twofactor import demo_code, totp_enrol_start


class Command(BaseCommand):
    help = "Development only: print the current dashboard two-factor code of a staff user (default: admin)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="?", default="admin")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("demo_totp refuses to run with DSR_ENV=production")
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user {options['username']!r}")
        device = totp_enrol_start(user=user)
        code, left = demo_code(device=device)
        self.stdout.write(f"code: {code} (valid for {left} more seconds)")
        self.stdout.write(f"secret for an authenticator app: {device.secret}")
