"""Property-based API testing from the OpenAPI schema (schemathesis 4), in-process through WSGI.

Every built-in check is on (no server error, status codes, content types, response schemas and
headers, positive data accepted, negative data rejected, ...); only "positive data accepted" is off
for the operations of ``BUSINESS_RULE_400``, whose 400s apply rules a schema cannot state. Each
operation is exercised without credentials and with a staff (admin) token, with well-formed path
ids mostly replaced by those of seeded objects so that valid cases reach the code behind the 404;
the jurisdiction enum of the schema makes generated requests valid ones. A stateful phase chains
operations through the links schemathesis infers (the id a create answers is the id a verify
takes).

``DSR_SCHEMATHESIS_EXAMPLES`` sets the examples per operation: 25 in the suite, 200 with
``make fuzz``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.specs.openapi.checks import positive_data_acceptance

from dsr.staff.services import staff_create
from dsr.wsgi import application
from tests.factories import RequestFactory, SystemFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
EXAMPLES = int(os.environ.get("DSR_SCHEMATHESIS_EXAMPLES", "25"))
SETTINGS = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases on every run: a failure is reproducible
    suppress_health_check=list(HealthCheck),
)

# Ids of objects the fixture seeds, drawn from by the path-parameter hook below.
SEEDED: dict[str, list[Any]] = {"request_id": [], "task_id": [], "job_id": []}


@schema.hook("flatmap_path_parameters")
def _seeded_ids(context: Any, parameters: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Keep the generated id, or use a seeded one of the same kind. Only a well-formed generated
    id is replaced, so a negative case (an id that is not a UUID or an integer) stays negative."""
    choices = [parameters]
    for name, value in (parameters or {}).items():
        pool = SEEDED.get(name) or []
        if pool and _well_formed(name, value):
            choices += [{**parameters, name: seeded} for seeded in pool]
    return st.sampled_from(choices)


def _well_formed(name: str, value: Any) -> bool:
    if name == "request_id":
        try:
            uuid.UUID(str(value))
        except ValueError:
            return False
        return True
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


@pytest.fixture(autouse=True)
def _keep_the_test_transaction_open() -> Iterator[None]:
    """Calling the WSGI application fires request_started/finished, whose close_old_connections
    would close the connection holding the test's transaction; Django's test client unhooks it
    the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(db: None, settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Requests in each open status, a failed job and an open manual task; the admin's token."""
    from dsr.tasks.models import Task
    from dsr.workflow.models import ConnectorJob, JobStatus, Status

    settings.DSR_RATE_LIMITS = {name: "100000/hour" for name in settings.DSR_RATE_LIMITS}  # one limiter
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast set-up
    system = SystemFactory(key="archive", connector="manual", config={"instructions": "Look", "due_days": 7})
    requests = [
        RequestFactory(status=status)
        for status in (Status.PENDING_VERIFICATION, Status.AWAITING_APPROVAL, Status.IN_PROGRESS)
    ]
    job = ConnectorJob.objects.create(
        request=requests[2], system=system, action="erase", status=JobStatus.FAILED, error="boom"
    )
    task = Task.objects.create(
        request=requests[2],
        job=job,
        system=system,
        kind="manual",
        action="erase",
        instructions="Look",
        due_at=timezone.now() + timedelta(days=7),
    )
    staff_create(username="dana", role="agent")  # a valid assignee
    SEEDED.update(request_id=[str(r.pk) for r in requests], task_id=[task.pk], job_id=[job.pk])
    yield staff_create(username="fuzz-admin", role="admin", token=True)[1]
    for pool in SEEDED.values():
        pool.clear()


@pytest.fixture(params=["anonymous", "staff"])
def credentials(request, seeded: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Token {seeded}"} if request.param == "staff" else {}


# Operations whose 400s apply rules a JSON schema cannot state: which request types a
# jurisdiction's law grants and that a correction needs ``details`` (create); that the code is the
# one e-mailed (verify, download); that the assignee is a staff member (assign); that the extension
# is still allowed (extend); which fields a task needs depends on its action (complete); that only a
# failed job is retried (retry). For them a schema-valid 400 is not a contract failure; every other
# check still runs on them, and every check on all other operations.
BUSINESS_RULE_400 = {
    "POST /api/v1/requests",
    "POST /api/v1/staff/test-requests",
    "POST /api/v1/requests/{request_id}/verify",
    "POST /api/v1/requests/{request_id}/download",
    "POST /api/v1/requests/{request_id}/download-code",
    "POST /api/v1/staff/requests/{request_id}/assign",
    "POST /api/v1/staff/requests/{request_id}/extend",
    "POST /api/v1/staff/requests/{request_id}/jobs/{job_id}/retry",
    "POST /api/v1/staff/tasks/{task_id}/complete",
}


def _excluded(case: Any) -> list[Any]:
    return [positive_data_acceptance] if case.operation.label in BUSINESS_RULE_400 else []


@schema.parametrize()
@SETTINGS
@pytest.mark.django_db
def test_every_operation_answers_as_its_schema_says(case, credentials) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(headers=credentials, excluded_checks=_excluded(case))


@pytest.mark.django_db
def test_chained_operations_answer_as_the_schema_says(credentials) -> None:  # type: ignore[no-untyped-def]
    workflow = schema.as_state_machine()

    class Workflow(workflow):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": credentials}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, excluded_checks=_excluded(case), headers=credentials)

    run_state_machine_as_test(
        Workflow,
        settings=hypothesis_settings(
            max_examples=max(EXAMPLES // 5, 3),
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
