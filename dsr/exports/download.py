"""Reading a built package: the decrypted stream, the counted and audited download."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.core.files.storage import default_storage
from django.db import transaction

from dsr.audit.services import audit_record
from dsr.exports.selectors import package_current
from dsr.identity import crypto

if TYPE_CHECKING:
    from dsr.exports.models import AccessPackage
    from dsr.workflow.models import DataSubjectRequest


def package_stream(*, package: AccessPackage) -> Iterator[bytes]:
    """The plain zip, decrypted chunk by chunk as it is read from storage.

    Every chunk is authenticated before it is yielded, so an altered file stops the stream instead
    of handing out altered bytes.
    """
    with default_storage.open(package.path, "rb") as handle:
        yield from crypto.DecryptingReader(handle).chunks()


def package_download(*, request: DataSubjectRequest, actor: str) -> tuple[AccessPackage, Iterator[bytes]]:
    """The request's current package and its decrypted chunks; the download is counted and audited.

    Raises ``AccessPackage.DoesNotExist`` when there is none, or it expired or was purged.
    """
    from django.db.models import F

    from dsr.exports.models import AccessPackage

    package = package_current(request=request)
    if package is None:
        raise AccessPackage.DoesNotExist
    with transaction.atomic():
        AccessPackage.objects.filter(pk=package.pk).update(downloads=F("downloads") + 1)
        audit_record(actor=actor, action="package.downloaded", request_id=request.pk)
    return package, package_stream(package=package)


def package_read(*, request: DataSubjectRequest) -> bytes:
    """The whole plain zip in memory; for tests and small packages. Downloads use ``package_stream``."""
    from dsr.exports.models import AccessPackage

    package = package_current(request=request)
    if package is None:
        raise AccessPackage.DoesNotExist
    return b"".join(package_stream(package=package))
