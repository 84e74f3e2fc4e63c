from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dsr.audit.services import audit_verify_chain


class Command(BaseCommand):
    help = "Verify the hash chain of the audit log; exits 1 and names the first broken event."

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_verify_chain()
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} events verified."))
            return
        where = f"event #{report.broken_at}" if report.broken_at else "the end of the chain"
        raise CommandError(
            f"Audit chain broken at {where}: {report.reason} ({report.checked} events verified before it)."
        )
