"""The request types the portal adds: their clocks, and that no job does the wrong action."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest

from connectors import Capability, registry
from dsr.workflow.intake import request_create, request_types_for, request_verify
from dsr.workflow.models import ConnectorJob, Status
from tests.factories import SystemFactory
from tests.support.scripted import ScriptedConnector

pytestmark = pytest.mark.django_db


class EverythingConnector(ScriptedConnector):
    """Claims every capability, as a future connector might, but only erases when run."""

    key = "everything"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability)


@pytest.fixture
def everything(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(
        registry.BUILTINS, "everything", "tests.portal.test_request_types:EverythingConnector"
    )
    registry.available.cache_clear()
    yield
    registry.available.cache_clear()


def test_marketing_is_offered_wherever_the_law_grants_an_opt_out() -> None:
    assert request_types_for("US-IA") == ("access", "erasure", "opt_out", "marketing")
    assert request_types_for("GB") == ("access", "erasure", "correction", "opt_out", "marketing")


def test_a_marketing_objection_runs_on_the_opt_out_clock_and_needs_no_code(
    django_capture_on_commit_callbacks, mailoutbox
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request = request_create(type="marketing", email="m@example.com", jurisdiction="US-CA")
    assert request.due_explanation.startswith("due ")
    assert "11 CCR §7026(f)" in request.due_explanation
    assert request.ack_due_at is None
    assert [m.subject for m in mailoutbox] == [f"We received your request {request.reference}"]


def test_a_correction_never_becomes_a_job_on_a_connector_that_would_erase(
    everything: None, django_capture_on_commit_callbacks, mailoutbox, settings
) -> None:
    settings.DSR_AUTO_APPROVE = ["correction"]
    SystemFactory(key="crm", connector="everything", config={"script": "crm"})
    with django_capture_on_commit_callbacks(execute=True):
        request = request_create(
            type="correction", email="c@example.com", jurisdiction="DE", details="My name is Zoë."
        )
    code = mailoutbox[0].body.split("enter this code:")[1].split()[0]
    with django_capture_on_commit_callbacks(execute=True):
        request_verify(request_id=request.pk, code=code)
    request.refresh_from_db()
    assert ConnectorJob.objects.count() == 0
    assert ScriptedConnector.calls == []
    assert request.status == Status.ACTION_REQUIRED
    assert request.status_reason.startswith("No connected system applies this automatically")
