"""Processor instruction e-mails: a signed, expiring link; the processor confirms; the job succeeds."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from connectors.vendor_email.tests import VENDOR_CONFIG
from dsr.audit.models import AuditEvent
from dsr.tasks.models import Task, TaskStatus
from dsr.tasks.services import vendor_link_token
from dsr.workflow import jobs
from dsr.workflow.models import ConnectorJob, JobStatus, RequestType, Status
from tests.tasks.conftest import StartRequest, make_system

pytestmark = pytest.mark.django_db


@pytest.fixture
def parcel() -> None:
    make_system("parcel", "vendor_email", VENDOR_CONFIG)


def instruct(
    start_request: StartRequest, type: str = RequestType.ERASURE, **fields: object
) -> tuple[Task, str]:
    """Run the job: it e-mails the processor. Returns the task and the link's path."""
    _, job = start_request("parcel", type=type, **fields)
    jobs.job_run(job_id=job.pk)
    [message] = mail.outbox
    link = re.search(r"http://127\.0\.0\.1:8000(/vendor/confirm/\S+)", message.body)
    assert link is not None, message.body
    return Task.objects.get(job=job), link.group(1)


def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def confirm(client: Client, path: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    page = client.get(path)
    assert page.status_code == 200
    token = page.cookies["csrftoken"].value
    return client.post(path, {**data, "csrfmiddlewaretoken": token})


def test_the_job_emails_the_processor_a_signed_erasure_instruction_citing_art_19_and_waits(
    parcel: None, start_request: StartRequest
) -> None:
    task, path = instruct(start_request, phone="+49 151 2345678")

    [message] = mail.outbox
    assert message.to == ["privacy@parcel.example"]
    assert message.subject == (
        f"Erasure instruction {task.request.reference}: please erase a data subject's personal data"
    )
    assert message.extra_headers["X-DSR-Reference"] == task.request.reference
    assert "Shop GmbH instructs you, as its processor, to erase all personal data" in message.body
    assert (
        "Legal basis: GDPR Art. 17 and Art. 19 (notification of erasure to recipients); Art. 28(3)(e)"
        in message.body
    )
    assert "- E-mail: jane.doe@example.com\n- Name: Jane Doe\n- Phone: +49 151 2345678" in message.body
    assert "Signed: Shop GmbH, data controller" in message.body
    html = message.alternatives[0][0]
    assert f'href="http://127.0.0.1:8000{path}"' in html
    job = ConnectorJob.objects.get(pk=task.job_id)
    assert job.status == JobStatus.WAITING
    assert (task.recipient, task.status) == ("privacy@parcel.example", TaskStatus.OPEN)
    assert task.sent_at is not None
    assert task.link_expires_at is not None
    assert timedelta(days=13, hours=23) < task.link_expires_at - task.sent_at <= timedelta(days=14)
    assert AuditEvent.objects.filter(action="task.vendor_instructed").count() == 1


def test_a_ccpa_request_cites_the_service_provider_rule(parcel: None, start_request: StartRequest) -> None:
    instruct(start_request, jurisdiction="US-CA", regime="CCPA")
    assert (
        "Legal basis: Cal. Civ. Code §1798.105(c) and 11 CCR §7022(b) (service providers and contractors)"
        in mail.outbox[0].body
    )


def test_the_processor_confirms_with_counts_and_the_job_succeeds_with_them_audited(
    parcel: None, start_request: StartRequest, django_capture_on_commit_callbacks
) -> None:
    task, path = instruct(start_request)
    client = csrf_client()
    page = client.get(path)
    assert page.status_code == 200
    assert task.request.reference in page.content.decode()
    assert "jane.doe" not in page.content.decode()  # a forwarded link reveals no identity

    with django_capture_on_commit_callbacks(execute=True):
        done = confirm(
            client, path, {"records_found": 4, "records_erased": 4, "method": "deleted", "note": "gone"}
        )

    assert done.status_code == 200
    assert "Your confirmation for" in done.content.decode()
    job = ConnectorJob.objects.get(pk=task.job_id)
    assert (job.status, job.records_found, job.records_erased) == (JobStatus.SUCCEEDED, 4, 4)
    assert job.detail["notes"] == f"Reported by processor:privacy@parcel.example (task {task.pk})"
    assert job.request.status == Status.COMPLETED
    event = AuditEvent.objects.get(action="task.completed")
    assert (event.actor, event.data["found"], event.data["erased"], event.data["has_note"]) == (
        "processor:privacy@parcel.example",
        4,
        4,
        True,
    )
    assert Task.objects.get(pk=task.pk).note == "gone"


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    parcel: None, start_request: StartRequest
) -> None:
    task, path = instruct(start_request)
    response = csrf_client().post(path, {"records_found": 1, "records_erased": 1, "method": "deleted"})
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_inconsistent_counts_show_the_form_again(parcel: None, start_request: StartRequest) -> None:
    task, path = instruct(start_request)
    response = confirm(csrf_client(), path, {"records_found": 1, "records_erased": 3, "method": "deleted"})
    assert response.status_code == 400
    assert "Cannot be more than the records found." in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_an_access_instruction_is_confirmed_with_an_uploaded_file(
    parcel: None, start_request: StartRequest, django_capture_on_commit_callbacks
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    task, path = instruct(start_request, RequestType.ACCESS)
    assert "please send a data subject's personal data" in mail.outbox[0].subject
    with django_capture_on_commit_callbacks(execute=True):
        done = confirm(
            csrf_client(),
            path,
            {
                "file": SimpleUploadedFile("parcels.csv", b"tracking,city\nP-1,Berlin\n"),
                "category": "parcels",
            },
        )
    assert done.status_code == 200
    job = ConnectorJob.objects.get(pk=task.job_id)
    assert (job.status, job.detail) == (JobStatus.SUCCEEDED, {"per_category": {"parcels": 1}})


def test_a_used_link_cannot_confirm_again(parcel: None, start_request: StartRequest) -> None:
    _, path = instruct(start_request)
    assert (
        confirm(
            csrf_client(), path, {"records_found": 1, "records_erased": 1, "method": "deleted"}
        ).status_code
        == 200
    )
    again = csrf_client().get(path)
    assert again.status_code == 404
    assert "This instruction was already confirmed. Thank you." in again.content.decode()


def test_an_expired_link_is_refused(parcel: None, start_request: StartRequest) -> None:
    task, path = instruct(start_request)
    Task.objects.filter(pk=task.pk).update(link_expires_at=timezone.now() - timedelta(seconds=1))
    response = csrf_client().get(path)
    assert response.status_code == 404
    assert "This confirmation link has expired." in response.content.decode()


def test_a_tampered_link_or_one_for_another_address_is_refused(
    parcel: None, start_request: StartRequest
) -> None:
    task, path = instruct(start_request)
    assert csrf_client().get(path[:-2] + "xx").status_code == 404
    Task.objects.filter(pk=task.pk).update(recipient="other@parcel.example")
    task.refresh_from_db()
    task.recipient = "privacy@parcel.example"
    stale = f"/vendor/confirm/{vendor_link_token(task=task)}"
    response = csrf_client().get(stale)
    assert response.status_code == 404
    assert "This confirmation link is not valid." in response.content.decode()


def test_a_failed_send_retries_the_job_and_sends_exactly_once_later(
    parcel: None, start_request: StartRequest, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, job = start_request("parcel")

    def refuse(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError("smtp down")

    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
        jobs.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.error) == (
        JobStatus.PENDING,
        "could not send the instruction e-mail: ConnectionRefusedError",
    )
    assert Task.objects.get().sent_at is None

    ConnectorJob.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now())
    jobs.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.WAITING
    assert len(mail.outbox) == 1
    assert Task.objects.count() == 1
