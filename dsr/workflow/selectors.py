"""The one way to reach a request, for staff and for the subject, and the one request queue.

Every face (portal, dashboard, API, download page) fetches requests through these helpers, so "not
found" and "not yours" give the same answer everywhere and the queue filters mean the same thing in
the dashboard and in the API.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from dsr.identity.blind_index import email_blind_index
from dsr.staff.roles import has_permission
from dsr.workflow.models import TERMINAL_STATUSES, DataSubjectRequest


def request_get_for_staff(*, user: Any, request_id: uuid.UUID | str) -> DataSubjectRequest:
    """The request for a staff member who may view requests; 404 otherwise or when unknown."""
    if not has_permission(user, "request.view"):
        raise Http404
    request = DataSubjectRequest.objects.filter(pk=request_id).first()
    if request is None:
        raise Http404
    return request


def request_get_for_subject(*, request_id: uuid.UUID | str) -> DataSubjectRequest:
    """A subject reaches a request by its unguessable id; unknown ids give the same 404."""
    request = DataSubjectRequest.objects.filter(pk=request_id).first()
    if request is None:
        raise Http404
    return request


@dataclass(frozen=True, kw_only=True)
class QueueFilters:
    """Filters of the request queue; empty values filter nothing."""

    status: str = ""
    type: str = ""
    jurisdiction: str = ""
    system: str = ""  # a system key: requests with a job on that system
    overdue: bool | None = None  # True: open and past due; False: everything that is not
    due_soon: bool = False  # open and due within DSR_DUE_SOON (7 days by default)
    due_before: datetime | None = None
    assignee: str = ""  # a username, "me" or "none"
    email: str = ""  # looked up through the blind index, never scanned in clear
    reference: str = ""
    q: str = ""  # the dashboard's search box: a reference, or an e-mail address
    sort: str = "due"  # "due" (soonest first) or "-due"
    nothing: bool = False  # a refused search: match no request


def request_queue(
    *, filters: QueueFilters, user: Any = None, now: datetime | None = None
) -> QuerySet[DataSubjectRequest]:
    """The request queue for ``filters``, soonest due first (``sort="-due"``: latest first).

    An e-mail search goes through the blind index only: identities are encrypted and never scanned
    in clear. ``assignee="me"`` needs ``user``.
    """
    now = now or timezone.now()
    qs = DataSubjectRequest.objects.select_related("assignment__assignee").prefetch_related("jobs")
    if filters.nothing:
        return qs.none()
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.type:
        qs = qs.filter(type=filters.type)
    if filters.jurisdiction:
        qs = qs.filter(jurisdiction=filters.jurisdiction.strip().upper())
    if filters.system:
        qs = qs.filter(jobs__system__key=filters.system).distinct()
    if filters.overdue is not None:
        late = DataSubjectRequest.objects.exclude(status__in=TERMINAL_STATUSES).filter(due_at__lt=now)
        qs = qs.filter(pk__in=late) if filters.overdue else qs.exclude(pk__in=late)
    if filters.due_soon:
        qs = qs.exclude(status__in=TERMINAL_STATUSES).filter(
            due_at__gte=now, due_at__lte=now + settings.DSR_DUE_SOON
        )
    if filters.due_before:
        qs = qs.filter(due_at__lt=filters.due_before)
    if filters.assignee == "none":
        qs = qs.filter(assignment__isnull=True)
    elif filters.assignee == "me":
        qs = qs.filter(assignment__assignee=user)
    elif filters.assignee:
        qs = qs.filter(assignment__assignee__username=filters.assignee)
    email = filters.email.strip()
    reference = filters.reference.strip()
    q = filters.q.strip()
    if "@" in q:
        email = email or q
    elif q:
        reference = reference or q
    if email:
        qs = qs.filter(email_index=email_blind_index(email))
    if reference:
        qs = qs.filter(reference=reference.upper())
    order = "-due_at" if filters.sort == "-due" else "due_at"
    return qs.order_by(order, "received_at")
