"""Expired packages are deleted from storage by a periodic task, in bounded batches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from dsr.audit.models import AuditEvent
from dsr.exports.models import AccessPackage
from dsr.exports.purge import packages_purge_expired
from dsr.exports.tasks import purge_expired_packages
from tests.exports.conftest import TARGET_RECORDS

pytestmark = pytest.mark.django_db


def _expire(package: AccessPackage, *, ago: timedelta = timedelta(seconds=1)) -> None:
    AccessPackage.objects.filter(pk=package.pk).update(expires_at=timezone.now() - ago)


def test_an_expired_package_is_deleted_from_storage_marked_purged_and_audited(answer, shop_system):
    answered = answer({shop_system: TARGET_RECORDS})
    _expire(answered.package)
    assert purge_expired_packages.delay().get() == 1
    package = AccessPackage.objects.get(pk=answered.package.pk)
    assert package.purged_at is not None
    assert default_storage.exists(package.path) is False
    event = AuditEvent.objects.get(action="package.purged")
    assert (event.actor, event.request_id) == ("system", answered.request.pk)


def test_a_package_that_has_not_expired_is_kept(answer, shop_system):
    answered = answer({shop_system: TARGET_RECORDS})
    assert packages_purge_expired() == 0
    assert default_storage.exists(answered.package.path) is True
    assert AccessPackage.objects.get(pk=answered.package.pk).purged_at is None


def test_purging_works_in_bounded_batches_oldest_first_and_is_idempotent(answer, shop_system):
    packages = [answer({shop_system: TARGET_RECORDS}).package for _ in range(3)]
    for age, package in zip([3, 1, 2], packages, strict=True):
        _expire(package, ago=timedelta(hours=age))
    assert packages_purge_expired(batch_size=2) == 2
    purged = set(AccessPackage.objects.filter(purged_at__isnull=False).values_list("pk", flat=True))
    assert purged == {packages[0].pk, packages[2].pk}
    assert packages_purge_expired(batch_size=2) == 1
    assert packages_purge_expired(batch_size=2) == 0


def test_a_package_whose_file_is_already_gone_is_still_marked_purged(answer, shop_system):
    answered = answer({shop_system: TARGET_RECORDS})
    default_storage.delete(answered.package.path)
    _expire(answered.package)
    assert packages_purge_expired() == 1


def test_the_purge_runs_hourly_from_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-packages"]
    assert entry["task"] == "dsr.exports.tasks.purge_expired_packages"
    assert str(entry["schedule"]) == "<crontab: 37 * * * * (m/h/dM/MY/d)>"
