"""E-mails to data subjects: every message is a ``.txt`` + ``.html`` pair in the request's language."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from dsr.workflow.models import DataSubjectRequest

log = logging.getLogger(__name__)

DOWNLOAD_SALT = "dsr.download"


def download_token(*, request: DataSubjectRequest) -> str:
    """A signed token for the completion e-mail's link; checked with ``DSR_PACKAGE_TTL`` as max age."""
    return signing.dumps({"r": str(request.pk)}, salt=DOWNLOAD_SALT)


def download_token_state(*, request_id: str, token: str) -> str:
    """``"valid"``, ``"expired"`` (genuine but older than ``DSR_PACKAGE_TTL``) or ``"invalid"``,
    so the download page can tell the person which of the two happened."""
    try:
        value = signing.loads(token, salt=DOWNLOAD_SALT, max_age=settings.DSR_PACKAGE_TTL)
    except signing.SignatureExpired:
        value, state = signing.loads(token, salt=DOWNLOAD_SALT), "expired"
    except signing.BadSignature:
        return "invalid"
    else:
        state = "valid"
    return state if isinstance(value, dict) and value.get("r") == str(request_id) else "invalid"


STATUS_SALT = "dsr.portal.status"


def status_signature(*, reference: str) -> str:
    """The signature in a status link. The reference alone shows nothing (no enumeration): the
    status page needs both, and only the person's e-mails carry the link. It does not expire, so
    the link keeps working for as long as the request is kept."""
    return signing.Signer(salt=STATUS_SALT).signature(reference)


def status_signature_check(*, reference: str, signature: str) -> bool:
    return constant_time_compare(status_signature(reference=reference), signature)


def status_url(*, request: DataSubjectRequest) -> str:
    """The absolute link to the request's status page, as put in the e-mails."""
    signature = status_signature(reference=request.reference)
    return settings.SITE_URL + reverse(
        "portal:status", kwargs={"reference": request.reference, "signature": signature}
    )


def email_render(*, template: str, context: dict[str, Any]) -> tuple[str, str]:
    """The (text, html) bodies of ``templates/emails/<template>.txt`` and ``.html``."""
    return (
        render_to_string(f"emails/{template}.txt", context),
        render_to_string(f"emails/{template}.html", context),
    )


def email_send(*, subject: str, to: str, text: str, html: str, headers: dict[str, str] | None = None) -> None:
    """Send one multipart e-mail (plain text with an HTML alternative) to one address."""
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to], headers=headers)
    message.attach_alternative(html, "text/html")
    message.send()


def email_send_to_subject(
    *, template: str, subject: str, request: DataSubjectRequest, context: dict[str, Any]
) -> None:
    """Render the template pair for the request's person and send it to the request's address.

    A test request e-mails nobody: the message is not sent and the audit log records
    ``email.not_sent`` with the reason "test request", so the team sees what would have gone out.
    """
    if request.is_test:
        from dsr.audit.services import audit_record

        log.info("e-mail %s for test request %s not sent", template, request.reference)
        audit_record(
            actor="system",
            action="email.not_sent",
            request_id=request.pk,
            data={"template": template, "reason": "test request"},
        )
        return
    context = {"request": request, "site_url": settings.SITE_URL, **context}
    text, html = email_render(template=template, context=context)
    email_send(subject=subject, to=request.email, text=text, html=html)


def email_send_code(*, request: DataSubjectRequest, code: str, purpose: str = "verify") -> None:
    """Send the one-time code. The code exists in plain text only here and in the e-mail."""
    with translation.override(request.language):
        subject = (
            _("Your verification code for request %(ref)s")
            if purpose == "verify"
            else _("Your download code for request %(ref)s")
        ) % {"ref": request.reference}
        email_send_to_subject(
            template="verification_code",
            subject=subject,
            request=request,
            context={
                "code": code,
                "purpose": purpose,
                "ttl_minutes": int(settings.DSR_CODE_TTL.total_seconds() // 60),
            },
        )


def email_send_status_link(*, request: DataSubjectRequest) -> None:
    """Send the link to the request's status page again (asked for on the portal)."""
    with translation.override(request.language):
        email_send_to_subject(
            template="status_link",
            subject=_("The status page of your request %(ref)s") % {"ref": request.reference},
            request=request,
            context={"status_url": status_url(request=request)},
        )


def email_send_extension(*, request: DataSubjectRequest) -> None:
    """The extension notice to the person: new due date, the reason, and the legal basis
    (GDPR Art. 12(3), 11 CCR §7021(b))."""
    with translation.override(request.language):
        email_send_to_subject(
            template="extended",
            subject=_("We need more time for your request %(ref)s") % {"ref": request.reference},
            request=request,
            context={"reason": request.extension_reason},
        )


def email_send_status(*, request: DataSubjectRequest, kind: str) -> None:
    """Send the e-mail for a status change: acknowledged, completed or denied."""
    with translation.override(request.language):
        subjects = {
            "acknowledged": _("We received your request %(ref)s"),
            "completed": _("Your request %(ref)s is complete"),
            "denied": _("Your request %(ref)s could not be fulfilled"),
        }
        context: dict[str, Any] = {"status_url": status_url(request=request)}
        if kind == "completed" and request.type == "access":
            token = download_token(request=request)
            page = reverse("download-page", kwargs={"request_id": request.pk})
            context["download_url"] = f"{settings.SITE_URL}{page}?token={token}"
            context["ttl_days"] = settings.DSR_PACKAGE_TTL.days
        if kind == "completed":
            context["jobs"] = list(request.jobs.select_related("system").order_by("system__name"))
        email_send_to_subject(
            template=kind,
            subject=subjects[kind] % {"ref": request.reference},
            request=request,
            context=context,
        )
