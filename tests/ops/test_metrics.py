"""/metrics over HTTP: django-prometheus's metrics plus DSR Hub's own, protected in production."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from dsr.workflow.models import Action, ConnectorJob, JobStatus, RequestType, Status
from tests.factories import RequestFactory, SystemFactory

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-0123456789abcdef"


def samples(response) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:  # type: ignore[no-untyped-def]
    text = response.content.decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_count_requests_jobs_queue_depth_deadline_risk_and_job_durations(client) -> None:
    now = timezone.now()
    crm, shop = SystemFactory(key="crm"), SystemFactory(key="shop")
    erasure = RequestFactory(
        type=RequestType.ERASURE, status=Status.IN_PROGRESS, due_at=now - timedelta(days=1)
    )
    RequestFactory(type=RequestType.ERASURE, status=Status.IN_PROGRESS, due_at=now + timedelta(days=2))
    RequestFactory(type=RequestType.ACCESS, status=Status.COMPLETED, due_at=now - timedelta(days=3))
    ConnectorJob.objects.create(
        request=erasure, system=crm, action=Action.ERASE, status=JobStatus.SUCCEEDED,
        started_at=now - timedelta(seconds=40), finished_at=now - timedelta(seconds=10),
    )  # fmt: skip
    ConnectorJob.objects.create(request=erasure, system=shop, action=Action.ERASE, status=JobStatus.PENDING)

    assert client.get("/healthz").status_code == 200
    response = client.get("/metrics")
    assert response.status_code == 200
    got = samples(response)
    assert got[("dsr_requests", (("status", "in_progress"), ("type", "erasure")))] == 2
    assert got[("dsr_requests", (("status", "completed"), ("type", "access")))] == 1
    assert got[("dsr_jobs", (("status", "succeeded"), ("system", "crm")))] == 1
    assert got[("dsr_jobs", (("status", "pending"), ("system", "shop")))] == 1
    assert got[("dsr_job_queue_depth", (("system", "shop"),))] == 1
    assert got[("dsr_job_queue_depth", (("system", "crm"),))] == 0
    assert got[("dsr_requests_deadline_risk", (("risk", "overdue"),))] == 1  # the completed one is not
    assert got[("dsr_requests_deadline_risk", (("risk", "due_soon"),))] == 1
    assert got[("dsr_job_duration_seconds_bucket", (("le", "15.0"), ("system", "crm")))] == 0
    assert got[("dsr_job_duration_seconds_bucket", (("le", "60.0"), ("system", "crm")))] == 1
    assert got[("dsr_job_duration_seconds_count", (("system", "crm"),))] == 1
    assert got[("dsr_job_duration_seconds_sum", (("system", "crm"),))] == pytest.approx(30.0)
    # django-prometheus: HTTP responses by status (the /healthz above counts).
    assert got[("django_http_responses_total_by_status_total", (("status", "200"),))] >= 1


def test_in_production_metrics_need_the_bearer_token_or_an_allowed_address(client, settings) -> None:
    settings.PRODUCTION = True
    settings.DSR_METRICS_TOKEN = TOKEN
    settings.DSR_METRICS_ALLOW_IPS = []
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200

    settings.DSR_METRICS_TOKEN = ""
    settings.DSR_METRICS_ALLOW_IPS = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 403
    response = client.get("/metrics", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert b"dsr_requests" in response.content


def test_in_production_metrics_are_closed_when_neither_token_nor_addresses_are_set(client, settings) -> None:
    settings.PRODUCTION = True
    settings.DSR_METRICS_TOKEN = ""
    settings.DSR_METRICS_ALLOW_IPS = []
    response = client.get("/metrics")
    assert response.status_code == 403
    assert b"dsr_" not in response.content
