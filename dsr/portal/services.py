"""Portal writes: re-sending a lost status link without revealing whether a request exists."""

from __future__ import annotations

from django.db import transaction

from dsr.identity.blind_index import email_blind_index
from dsr.notifications.models import EmailKind
from dsr.notifications.outbox import email_queue
from dsr.workflow.models import DataSubjectRequest


def status_link_request(*, reference: str, email: str) -> None:
    """Queue the status link for the request with this reference and e-mail address.

    The page answers the same whether or not they match (no enumeration), and the look-up runs in
    the worker, so the response time does not tell either. Only the keyed hash of the address
    travels through the broker.
    """
    from dsr.portal.tasks import send_status_link

    reference, index = reference.strip().upper(), email_blind_index(email)
    transaction.on_commit(lambda: send_status_link.delay(reference, index), robust=True)


def status_link_send(*, reference: str, email_index: str) -> None:
    """E-mail the status link if a request has this reference and this address; else nothing."""
    request = DataSubjectRequest.objects.filter(reference=reference, email_index=email_index).first()
    if request is None or not request.email:
        return
    with transaction.atomic():
        email_queue(request=request, kind=EmailKind.STATUS_LINK)
