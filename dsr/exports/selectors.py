"""Reading access packages: the one way to find a request's current package."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

if TYPE_CHECKING:
    from dsr.exports.models import AccessPackage
    from dsr.workflow.models import DataSubjectRequest


def package_current(*, request: DataSubjectRequest) -> AccessPackage | None:
    """The request's package while it can still be downloaded: built, not purged, not past its
    ``expires_at`` (``DSR_PACKAGE_TTL``; the purge may not have run yet). None otherwise."""
    from dsr.exports.models import AccessPackage

    return AccessPackage.objects.filter(
        request=request, purged_at__isnull=True, expires_at__gt=timezone.now()
    ).first()
