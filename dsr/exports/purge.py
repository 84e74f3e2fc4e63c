"""Purging packages past their expiry (Celery beat, ``dsr.exports.tasks``)."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from dsr.audit.services import audit_record


def packages_purge_expired(*, batch_size: int = 100) -> int:
    """Delete expired packages from storage and mark them purged; at most ``batch_size`` per call.

    Returns how many were purged. Safe to run on several machines at once (rows are locked with
    SKIP LOCKED) and to re-run after a crash (deleting a missing file is a no-op).
    """
    from dsr.exports.models import AccessPackage

    now = timezone.now()
    due = list(
        AccessPackage.objects.filter(purged_at__isnull=True, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", flat=True)[:batch_size]
    )
    purged = 0
    for pk in due:
        with transaction.atomic():
            package = (
                AccessPackage.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, purged_at__isnull=True)
                .first()
            )
            if package is None:
                continue
            default_storage.delete(package.path)
            package.purged_at = now
            package.save(update_fields=["purged_at"])
            audit_record(
                actor="system",
                action="package.purged",
                request_id=package.request_id,
                data={"expired_at": package.expires_at, "downloads": package.downloads},
            )
            purged += 1
    return purged
