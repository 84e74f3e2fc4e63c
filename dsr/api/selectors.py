"""The one way to reach a request, for staff and for the subject."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from dsr.staff.roles import has_permission
from dsr.workflow.models import TERMINAL_STATUSES, DataSubjectRequest
from dsr.workflow.services import email_blind_index


def request_get_for_staff(*, user: Any, request_id: uuid.UUID | str) -> DataSubjectRequest:
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


def request_list(
    *,
    status: str | None = None,
    type: str | None = None,
    jurisdiction: str | None = None,
    overdue: bool | None = None,
    due_before: datetime | None = None,
    email: str | None = None,
    reference: str | None = None,
) -> QuerySet[DataSubjectRequest]:
    qs = DataSubjectRequest.objects.all().prefetch_related("jobs").order_by("due_at", "received_at")
    if status:
        qs = qs.filter(status=status)
    if type:
        qs = qs.filter(type=type)
    if jurisdiction:
        qs = qs.filter(jurisdiction=jurisdiction.upper())
    if overdue is not None:
        now = timezone.now()
        open_ = qs.exclude(status__in=TERMINAL_STATUSES)
        qs = open_.filter(due_at__lt=now) if overdue else qs.exclude(pk__in=open_.filter(due_at__lt=now))
    if due_before:
        qs = qs.filter(due_at__lt=due_before)
    if email:
        qs = qs.filter(email_index=email_blind_index(email))  # no plaintext scan
    if reference:
        qs = qs.filter(reference=reference.strip().upper())
    return qs
