from __future__ import annotations

import zoneinfo
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from dsr.audit.services import audit_record
from dsr.staff.models import Role, StaffProfile
from dsr.staff.tokens import token_create


@transaction.atomic
def staff_create(
    *, username: str, role: str, email: str = "", actor: str = "cli", token: bool = False
) -> tuple[StaffProfile, str | None]:
    """Create (or update the role of) a staff user; return the profile and, when ``token`` is asked
    for, a new API token in clear (shown once; only its hash is kept)."""
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(Role.values)}")
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username, defaults={"email": email})
    if created:
        user.set_unusable_password()
        user.save()
    profile, _ = StaffProfile.objects.update_or_create(user=user, defaults={"role": role})
    user.is_staff = role == Role.ADMIN
    user.save(update_fields=["is_staff"])
    audit_record(
        actor=actor, action="staff.saved", data={"username": username, "role": role, "created": created}
    )
    clear = token_create(user=user, actor=actor)[1] if token else None
    return profile, clear


def staff_time_zones() -> list[str]:
    """Every IANA zone name this machine knows, sorted: the choices of the time-zone preference."""
    return sorted(zoneinfo.available_timezones())


@transaction.atomic
def staff_set_time_zone(*, user: Any, time_zone: str, actor: str) -> StaffProfile:
    """Store the zone the dashboard shows ``user``'s times in; an empty value uses the default
    (``DSR_STAFF_TIME_ZONE``). Raises ``ValueError`` for a zone that does not exist."""
    if time_zone and time_zone not in zoneinfo.available_timezones():
        raise ValueError(f"unknown time zone {time_zone!r}")
    profile = StaffProfile.objects.select_for_update().get(user=user)
    profile.time_zone = time_zone
    profile.save(update_fields=["time_zone"])
    audit_record(actor=actor, action="staff.time_zone_set", data={"time_zone": time_zone or "default"})
    return profile
