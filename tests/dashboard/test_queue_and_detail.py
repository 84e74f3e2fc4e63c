"""The queue (filters, search through the blind index, sort, badges, CSV) and the request page."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from dsr.workflow.models import Assignment, AuthorizedAgent, ConnectorJob, JobStatus, RequestType, Status
from tests.dashboard.conftest import make_staff
from tests.factories import RequestFactory, SystemFactory

pytestmark = pytest.mark.django_db


def _references(response) -> list[str]:  # type: ignore[no-untyped-def]
    html = response.content.decode()
    return [part.split('"', 1)[0] for part in html.split('data-reference="')[1:]]


@pytest.fixture
def queue_world():  # type: ignore[no-untyped-def]
    now = timezone.now()
    return {
        "overdue": RequestFactory(
            email="late@example.com", status=Status.IN_PROGRESS, due_at=now - timedelta(days=3)
        ),
        "soon": RequestFactory(
            email="Jane.Doe@Example.com", status=Status.AWAITING_APPROVAL, due_at=now + timedelta(days=2)
        ),
        "later": RequestFactory(
            type=RequestType.ERASURE, jurisdiction="US-CA", regime="CCPA", status=Status.IN_PROGRESS,
            due_at=now + timedelta(days=30),
        ),
        "closed": RequestFactory(status=Status.COMPLETED, due_at=now - timedelta(days=10), closed_at=now),
    }  # fmt: skip


def test_the_queue_is_sorted_by_due_date_and_can_be_reversed(dashboard_client, queue_world):
    client = dashboard_client("viewer")
    w = queue_world
    assert _references(client.get("/dashboard/")) == [
        w["closed"].reference, w["overdue"].reference, w["soon"].reference, w["later"].reference,
    ]  # fmt: skip
    assert _references(client.get("/dashboard/?sort=-due"))[0] == w["later"].reference


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("overdue=on", ["overdue"]),
        ("due_soon=on", ["soon"]),
        ("status=awaiting_approval", ["soon"]),
        ("type=erasure", ["later"]),
        ("jurisdiction=us-ca", ["later"]),
        ("q=jane.doe%40example.com", ["soon"]),  # the blind index normalises the address
        ("q=JANE.DOE%40EXAMPLE.COM", ["soon"]),
        ("q=nobody%40example.com", []),
    ],
)
def test_the_queue_filters(dashboard_client, queue_world, query, expected):
    response = dashboard_client("agent").get(f"/dashboard/?{query}")
    assert _references(response) == [queue_world[name].reference for name in expected]


def test_a_viewer_cannot_search_by_e_mail(dashboard_client, queue_world):
    viewer = dashboard_client("viewer")
    response = viewer.get("/dashboard/?q=jane.doe%40example.com")
    assert _references(response) == []
    assert "Your role cannot search by e-mail address." in response.content.decode()
    export = viewer.get("/dashboard/export.csv?q=jane.doe%40example.com")
    assert export.content.decode().count("\n") == 1  # the header only


def test_searching_by_reference_finds_one_request(dashboard_client, queue_world):
    reference = queue_world["later"].reference
    response = dashboard_client("agent").get(f"/dashboard/?q={reference.lower()}")
    assert _references(response) == [reference]


def test_the_queue_filters_by_system_and_assignee(dashboard_client, queue_world):
    client = dashboard_client("agent")
    system = SystemFactory(key="crm")
    ConnectorJob.objects.create(
        request=queue_world["later"], system=system, action="erase", status=JobStatus.PENDING
    )
    from django.contrib.auth import get_user_model

    me = get_user_model().objects.get(username="agent-user")
    Assignment.objects.create(
        request=queue_world["soon"], assignee=me, assigned_at=timezone.now(), assigned_by="x"
    )
    assert _references(client.get("/dashboard/?system=crm")) == [queue_world["later"].reference]
    assert _references(client.get("/dashboard/?assignee=me")) == [queue_world["soon"].reference]
    assert _references(client.get("/dashboard/?assignee=agent-user")) == [queue_world["soon"].reference]
    assert queue_world["soon"].reference not in _references(client.get("/dashboard/?assignee=none"))


def test_the_queue_shows_deadline_badges(dashboard_client, queue_world):
    html = dashboard_client("viewer").get("/dashboard/").content.decode()
    assert '<span class="badge overdue">overdue 3 d</span>' in html
    assert (
        '<span class="badge soon">1 d left</span>' in html
        or '<span class="badge soon">2 d left</span>' in html
    )
    assert '<span class="badge late">closed late</span>' in html  # closed 10 days after its due date


def test_the_queue_shows_masked_e_mails_to_everyone(dashboard_client, queue_world):
    html = dashboard_client("admin").get("/dashboard/").content.decode()
    assert "l***@example.com" in html
    assert "late@example.com" not in html


def test_the_csv_export_masks_e_mails_for_viewers_and_not_for_agents(dashboard_client, queue_world):
    def emails(role: str) -> list[str]:
        body = dashboard_client(role).get("/dashboard/export.csv?overdue=on").content.decode()
        return [row[5] for row in csv.reader(io.StringIO(body))][1:]

    assert emails("viewer") == ["l***@example.com"]
    assert emails("agent") == ["late@example.com"]


def test_the_csv_export_neutralises_cells_a_spreadsheet_would_run_as_formulas(dashboard_client):
    request = RequestFactory(email="=1+cmd@example.com", status=Status.IN_PROGRESS)
    Assignment.objects.create(
        request=request,
        assignee=make_staff("agent", username="@sum"),
        assigned_at=timezone.now(),
        assigned_by="x",
    )

    def row(role: str) -> list[str]:
        body = dashboard_client(role).get("/dashboard/export.csv").content.decode()
        return list(csv.reader(io.StringIO(body)))[1]

    assert (row("agent")[5], row("agent")[11]) == ("'=1+cmd@example.com", "'@sum")
    assert row("viewer")[5] == "'=*****@example.com"


def test_the_request_page_masks_the_identity_until_revealed(dashboard_client):
    request = RequestFactory(email="jane.doe@example.com", full_name="Jane Doe")
    client = dashboard_client("agent")
    html = client.get(f"/dashboard/requests/{request.pk}/").content.decode()
    assert "j*******@example.com" in html
    assert "jane.doe@example.com" not in html
    assert "Jane Doe" not in html
    assert "Reveal identity (audited)" in html
    revealed = client.post(f"/dashboard/requests/{request.pk}/reveal/").content.decode()
    assert "jane.doe@example.com" in revealed
    assert "Jane Doe" in revealed
    assert "request.identity_revealed" in revealed  # the audit trail on the same page shows it


def test_revealing_a_request_filed_by_an_agent_shows_the_agents_identity_too(dashboard_client):
    request = RequestFactory(email="jane.doe@example.com")
    AuthorizedAgent.objects.create(
        request=request,
        name="Alex Agent",
        email="alex@agents.example",
        permission_path="agents/x.pdf",
        permission_content_type="application/pdf",
        permission_size=10,
    )
    client = dashboard_client("agent")
    assert "alex@agents.example" not in client.get(f"/dashboard/requests/{request.pk}/").content.decode()
    revealed = client.post(f"/dashboard/requests/{request.pk}/reveal/").content.decode()
    assert "<dd>Alex Agent</dd>" in revealed
    assert "<dd>alex@agents.example</dd>" in revealed


def test_a_viewer_sees_no_reveal_button_and_no_actions(dashboard_client):
    request = RequestFactory(status=Status.AWAITING_APPROVAL)
    html = dashboard_client("viewer").get(f"/dashboard/requests/{request.pk}/").content.decode()
    assert "Reveal identity" not in html
    assert 'id="approve"' not in html
    assert 'id="extend-form"' not in html


def test_the_request_page_shows_the_deadline_and_its_explanation(dashboard_client):
    request = RequestFactory(
        due_explanation="due 2026-12-29: GDPR Art. 12(3), one month from receipt on 2026-11-29"
    )
    html = dashboard_client("viewer").get(f"/dashboard/requests/{request.pk}/").content.decode()
    assert "due 2026-12-29: GDPR Art. 12(3), one month from receipt on 2026-11-29" in html


def test_an_unknown_request_is_a_404(dashboard_client):
    import uuid

    assert dashboard_client("admin").get(f"/dashboard/requests/{uuid.uuid4()}/").status_code == 404


def test_the_timeline_shows_only_what_the_person_is_told(dashboard_client):
    from dsr.audit.services import audit_record

    request = RequestFactory()
    for action in ["request.received", "request.verified", "job.retried", "request.identity_revealed"]:
        audit_record(actor="x", action=action, request_id=request.pk)
    html = dashboard_client("viewer").get(f"/dashboard/requests/{request.pk}/").content.decode()
    timeline = html.split('id="timeline"')[1].split("</section>")[0]
    assert "Request received" in timeline
    assert "E-mail address confirmed" in timeline
    assert "retried" not in timeline
    assert "revealed" not in timeline


def test_the_bulk_deny_needs_a_reason_and_a_message(dashboard_client):
    request = RequestFactory(status=Status.AWAITING_APPROVAL)
    client = dashboard_client("approver")
    response = client.post("/dashboard/bulk/", {"action": "deny", "ids": [str(request.pk)]}, follow=True)
    assert "Choose the reason for the denial." in response.content.decode()
    assert request.__class__.objects.get(pk=request.pk).status == Status.AWAITING_APPROVAL
