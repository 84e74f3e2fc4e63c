"""A request's identity in clear, for staff whose role may reveal it; every reveal is audited."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.db import transaction

from dsr.workflow.models import (
    DataSubjectRequest,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgentIdentity:
    name: str
    email: str


@dataclass(frozen=True)
class Identity:
    email: str
    full_name: str
    phone: str
    agent: AgentIdentity | None = None


def identity_reveal(*, request_id: uuid.UUID | str, actor: str) -> Identity:
    """The request's identity (and its authorized agent's) in clear, for the dashboard and the staff
    API alike. Every reveal is one ``request.identity_revealed`` audit event: who looked, when."""
    from dsr.audit.services import audit_record

    with transaction.atomic():
        request = DataSubjectRequest.objects.select_related("agent").get(pk=request_id)
        audit_record(actor=actor, action="request.identity_revealed", request_id=request.pk)
    agent = getattr(request, "agent", None)
    return Identity(
        email=request.email,
        full_name=request.full_name,
        phone=request.phone,
        agent=AgentIdentity(name=agent.name, email=agent.email) if agent is not None else None,
    )
