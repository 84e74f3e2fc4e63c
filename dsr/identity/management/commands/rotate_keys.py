from typing import Any

from django.core.management.base import BaseCommand

from dsr.audit.services import audit_record
from dsr.identity.services_keys import keys_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt identity values and connector secrets under the first key of DSR_ENCRYPTION_KEYS. "
        "Put the new key first, keep the old ones after it, run this, then remove the old keys."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = keys_rotate()
        total = sum(report.rewritten.values())
        audit_record(
            actor="cli:rotate_keys", action="keys.rotated", data={"key": report.current_key, "values": total}
        )
        for name, count in sorted(report.rewritten.items()):
            self.stdout.write(f"{name}: {count} re-encrypted")
        for name, count in sorted(report.unreadable.items()):
            self.stderr.write(
                f"{name}: {count} row(s) modified outside DSR Hub could not be opened and were left "
                "as they are; re-enter their secrets (they still use an old key)"
            )
        self.stdout.write(
            f"{total} value(s) re-encrypted under key {report.current_key!r}; {report.checked} rows checked."
        )
