"""Services behind the privacy-team dashboard: system checks, audit verification, staff accounts,
the daily digest.

Each function is keyword-only, typed and atomic and writes one audit event per change. Casework
(extend, assign, notes, bulk actions) is in the core, ``dsr.workflow.casework``; tasks in
``dsr.tasks.services``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dsr.audit.services import ChainReport, audit_record, audit_verify_chain
from dsr.dashboard.models import SystemCheck
from dsr.errors import RequestInputError
from dsr.notifications.services import email_render, email_send
from dsr.systems.models import System
from dsr.systems.services import system_build_connector

log = logging.getLogger(__name__)


# --- identities and packages --------------------------------------------------------------------


# The identity reveal (``identity_reveal``) lives in the core, ``dsr.workflow.identities``: the
# dashboard and the staff API show identities masked and reveal them through the same audited call.


# --- systems ------------------------------------------------------------------------------------


def system_check(*, system_id: int, actor: str) -> SystemCheck:
    """Run the connector's ``check()`` (connectivity and credentials) and keep the result.

    A connector that cannot even be built (bad configuration, missing secret) is a failed check
    with its message, not an error page.
    """
    system = System.objects.get(pk=system_id)
    try:
        outcome = system_build_connector(system=system).check()
        ok, message = outcome.ok, outcome.message
    except Exception as exc:  # any failure is the check's answer, shown to the team
        log.info("check of system %s failed: %s", system.key, exc)
        ok, message = False, f"{type(exc).__name__}: {exc}"
    with transaction.atomic():
        check, _created = SystemCheck.objects.update_or_create(
            system=system,
            defaults={"ok": ok, "message": message[:2000], "checked_at": timezone.now(), "checked_by": actor},
        )
        audit_record(actor=actor, action="system.checked", data={"system": system.key, "ok": ok})
    if not ok:
        from dsr.notifications.alerts import alert_system_check_failed

        alert_system_check_failed(system_key=system.key, message=message)
    return check


# --- audit --------------------------------------------------------------------------------------


def audit_verify(*, actor: str) -> ChainReport:
    """Verify the hash chain, then record that it was verified and what was found."""
    report = audit_verify_chain()
    audit_record(
        actor=actor,
        action="audit.verified",
        data={"ok": report.ok, "checked": report.checked, "broken_at": report.broken_at},
    )
    return report


# --- staff --------------------------------------------------------------------------------------


def staff_add(*, username: str, email: str, role: str, password: str, actor: str) -> Any:
    """A new staff member with a dashboard password; two-factor enrolment happens at first sign-in."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from dsr.staff.services import staff_create

    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise RequestInputError({"username": _("That username is taken.")})
    try:
        validate_password(password, user=user_model(username=username, email=email))
    except ValidationError as exc:
        raise RequestInputError({"password": " ".join(exc.messages)}) from None
    with transaction.atomic():
        profile, _token = staff_create(username=username, role=role, email=email, actor=actor)
        profile.user.set_password(password)
        profile.user.save(update_fields=["password"])
    return profile.user


def staff_set_password(*, user: Any, password: str, actor: str) -> None:
    """Set a staff member's dashboard password (validated by AUTH_PASSWORD_VALIDATORS)."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise RequestInputError({"password": " ".join(exc.messages)}) from None
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(actor=actor, action="staff.password_set", data={"username": user.get_username()})


def staff_set_active(*, user: Any, active: bool, actor: str) -> None:
    with transaction.atomic():
        if user.is_active != active:
            user.is_active = active
            user.save(update_fields=["is_active"])
            audit_record(
                actor=actor,
                action="staff.activated" if active else "staff.deactivated",
                data={"username": user.get_username()},
            )


# --- the daily digest ---------------------------------------------------------------------------

DIGEST_LIMIT = 200  # requests listed per section; the e-mail says how many more there are


def digest_send(*, now: datetime | None = None) -> int:
    """E-mail every active staff member with an address the open requests that are overdue or due
    within ``DSR_DUE_SOON``. References only, no identities. Nothing due: nothing sent.

    Returns the number of e-mails sent.
    """
    from dsr.dashboard.selectors import open_requests

    now = now or timezone.now()
    overdue_qs = open_requests().filter(due_at__lt=now)
    soon_qs = open_requests().filter(due_at__gte=now, due_at__lte=now + settings.DSR_DUE_SOON)
    overdue_total, soon_total = overdue_qs.count(), soon_qs.count()
    from dsr.notifications.alerts import alerts_since

    alerts = alerts_since(since=timedelta(days=1))  # the digest is daily
    if not overdue_total and not soon_total and not alerts:
        return 0
    context = {
        "now": now,
        "overdue": list(overdue_qs.select_related("assignment__assignee")[:DIGEST_LIMIT]),
        "overdue_total": overdue_total,
        "soon": list(soon_qs.select_related("assignment__assignee")[:DIGEST_LIMIT]),
        "soon_total": soon_total,
        "soon_days": settings.DSR_DUE_SOON.days,
        "site_url": settings.SITE_URL,
        "limit": DIGEST_LIMIT,
        "alerts": alerts,
    }
    text, html = email_render(template="digest", context=context)
    subject = _("DSR Hub: %(overdue)d overdue, %(soon)d due within %(days)d days") % {
        "overdue": overdue_total,
        "soon": soon_total,
        "days": settings.DSR_DUE_SOON.days,
    }
    recipients = (
        get_user_model()
        .objects.filter(is_active=True, staff__isnull=False)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )
    sent = 0
    for address in recipients:  # one message each: staff do not see each other's addresses
        email_send(subject=subject, to=address, text=text, html=html)
        sent += 1
    return sent
