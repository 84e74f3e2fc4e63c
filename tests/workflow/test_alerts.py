"""Alerts to DSR_ALERT_EMAILS and in the staff digest: a job failed for good, a system's health check
failed, a request will miss its deadline. Each is raised once; no identity is in any of them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.errors import AuthError
from dsr.dashboard import services as dashboard_services
from dsr.notifications.models import Alert, AlertKind
from dsr.notifications.tasks import alert_deadline_risk
from dsr.workflow import jobs
from dsr.workflow.models import RequestType, Status
from dsr.workflow.transitions import request_transition
from tests.dashboard.conftest import make_staff
from tests.factories import RequestFactory, SystemFactory

pytestmark = pytest.mark.django_db(transaction=True)  # alerts are sent after the job's commit


@pytest.fixture(autouse=True)
def _alert_address(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DSR_ALERT_EMAILS = ["oncall@example.org"]
    settings.DSR_DEADLINE_ALERT_WINDOW = timedelta(hours=48)


def test_a_job_that_fails_for_good_sends_one_alert_naming_the_request_and_the_system(
    scripted_connector, mailoutbox
) -> None:
    scripted_connector.scripts["crm"] = [AuthError("401 Unauthorized: token revoked")]
    SystemFactory(key="crm", connector="scripted", config={"script": "crm"})
    request = RequestFactory(
        type=RequestType.ERASURE, status=Status.AWAITING_APPROVAL, email="jane@example.com"
    )
    request_transition(
        request_id=request.pk, to=Status.IN_PROGRESS, actor="staff:t", event="request.approved"
    )
    job = request.jobs.get()  # the approval ran it (Celery is eager in the tests)
    jobs.job_run(job_id=job.pk)  # a redelivered task changes nothing

    alerts = [m for m in mailoutbox if m.to == ["oncall@example.org"]]
    assert len(alerts) == 1
    assert alerts[0].subject == f"[DSR Hub alert] crm: erase job of {request.reference} failed"
    assert "failed after 1 attempt(s): 401 Unauthorized: token revoked" in alerts[0].body
    assert f"/dashboard/requests/{request.pk}/" in alerts[0].body
    assert "jane@example.com" not in alerts[0].body
    assert Alert.objects.filter(kind=AlertKind.JOB_FAILED).count() == 1


def test_a_failed_system_check_alerts_once_a_day(scripted_connector, mailoutbox) -> None:
    scripted_connector.scripts["crm"] = []
    system = SystemFactory(key="crm", connector="no-such-connector", config={})
    first = dashboard_services.system_check(system_id=system.pk, actor="staff:admin")
    dashboard_services.system_check(system_id=system.pk, actor="staff:admin")
    assert first.ok is False
    assert [m.subject for m in mailoutbox] == ["[DSR Hub alert] crm: health check failed"]
    assert "The health check of system crm failed:" in mailoutbox[0].body


def test_requests_about_to_miss_their_deadline_are_alerted_once_each(mailoutbox) -> None:
    now = timezone.now()
    soon = RequestFactory(status=Status.IN_PROGRESS, due_at=now + timedelta(hours=10))
    late = RequestFactory(status=Status.ACTION_REQUIRED, due_at=now - timedelta(hours=1))
    RequestFactory(status=Status.IN_PROGRESS, due_at=now + timedelta(days=10))  # not at risk yet
    RequestFactory(status=Status.COMPLETED, due_at=now - timedelta(days=1), closed_at=now)  # closed

    assert alert_deadline_risk() == 2
    assert alert_deadline_risk() == 0  # the next hourly run sends nothing new

    subjects = sorted(m.subject for m in mailoutbox)
    assert subjects == sorted(
        [
            f"[DSR Hub alert] {late.reference} is overdue ({late.due_at:%Y-%m-%d %H:%M} UTC)",
            f"[DSR Hub alert] {soon.reference} will miss its deadline ({soon.due_at:%Y-%m-%d %H:%M} UTC)",
        ]
    )


def test_the_staff_digest_lists_the_alerts_of_the_last_day_even_when_nothing_is_due(mailoutbox) -> None:
    make_staff("agent", email="agent@example.com")
    system = SystemFactory(key="crm", connector="no-such-connector", config={})
    dashboard_services.system_check(system_id=system.pk, actor="staff:admin")
    mailoutbox.clear()

    assert dashboard_services.digest_send() == 1

    digest = mailoutbox[0]
    assert digest.to == ["agent@example.com"]
    assert "ALERT IN THE LAST 24 HOURS (1)" in digest.body
    assert "crm: health check failed" in digest.body
    assert "Alert in the last 24 hours (1)" in digest.alternatives[0][0]
