"""Fixtures for hand-off tasks: a manual and a processor-e-mail system, and requests in progress."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core import mail

from dsr.systems.models import System
from dsr.workflow.models import ConnectorJob, DataSubjectRequest, RequestType, Status
from dsr.workflow.transitions import request_transition
from tests.factories import RequestFactory, SystemFactory


@pytest.fixture(autouse=True)
def _mail_outbox(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    return


def make_system(key: str, connector: str, config: dict[str, Any]) -> System:
    return SystemFactory(key=key, name=key.title(), connector=connector, config=config)


StartRequest = Callable[..., tuple[DataSubjectRequest, ConnectorJob]]


@pytest.fixture
def start_request(db: None) -> StartRequest:
    """Approve a verified request, so its jobs are created (one per system); return it and ``key``'s job."""

    def start(
        key: str, *, type: str = RequestType.ERASURE, **fields: Any
    ) -> tuple[DataSubjectRequest, ConnectorJob]:
        request = RequestFactory(
            type=type,
            status=Status.AWAITING_APPROVAL,
            email=fields.pop("email", "jane.doe@example.com"),
            full_name=fields.pop("full_name", "Jane Doe"),
            **fields,
        )
        request_transition(
            request_id=request.pk, to=Status.IN_PROGRESS, actor="staff:t", event="request.approved"
        )
        return request, request.jobs.select_related("system").get(system__key=key)

    return start
