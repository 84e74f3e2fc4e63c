"""Casework on a request's own clock: the deadline engine maps a request type to its rule itself, so
every caller (intake, the portal, an extension) passes the request's own type."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dsr.audit.models import AuditEvent
from dsr.workflow.models import DataSubjectRequest, RequestType, Status
from tests.factories import RequestFactory

pytestmark = pytest.mark.django_db


def test_a_gdpr_marketing_objection_is_extended_on_the_opt_out_clock(staff_client):
    received = datetime(2026, 11, 10, 9, 30, tzinfo=UTC)
    objection = RequestFactory(
        type=RequestType.MARKETING,
        jurisdiction="DE",
        status=Status.AWAITING_APPROVAL,
        received_at=received,
        due_at=datetime(2026, 12, 10, 22, 59, 59, 999999, tzinfo=UTC),
    )

    response = staff_client("approver").post(
        f"/api/v1/staff/requests/{objection.pk}/extend", {"reason": "Records sit in three archives."}
    )

    assert response.status_code == 200, response.json()
    objection = DataSubjectRequest.objects.get(pk=objection.pk)
    # GDPR Art. 12(3) with Regulation 1182/71 Art. 3(2)(c): two further months, three months from
    # receipt on 10 November (Berlin time).
    assert objection.due_at == datetime(2027, 2, 10, 22, 59, 59, 999999, tzinfo=UTC)
    assert objection.due_explanation == (
        "due 2027-02-10: GDPR Art. 12(3), extended by two months: three months from receipt on "
        "2026-11-10 (originally due 2026-12-10)"
    )
    event = AuditEvent.objects.get(request_id=objection.pk, action="request.extended")
    assert event.data["citation"] == "GDPR Art. 12(3)"
