"""Staff calls and the worker's completion check on one request, in parallel, on PostgreSQL.

Every write takes the request row before the audit head (LOCK ORDER, dsr/audit/services.py). Before
that order held, notes (audit head, then the request row through the note's foreign key) and
assignments or transitions (request row, then audit head) deadlocked: PostgreSQL aborted one of
them, a 500 for staff or an unretried ``check_request`` that left the request in progress.
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import pytest
import requests
from django.core.management import call_command
from django.db import connection

from connectors.manual.tests import MANUAL_CONFIG
from dsr.staff.services import staff_create
from dsr.tasks.models import Task
from dsr.workflow.models import JobStatus, Status
from dsr.workflow.tasks import check_request
from tests.tasks.conftest import make_system, start_request  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_notes_assigns_and_the_worker_check_leave_no_500_no_stuck_request_and_a_valid_chain(
    live_server,
    start_request,  # noqa: F811
    settings,
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    make_system("archive", "manual", MANUAL_CONFIG)
    dsr, job = start_request("archive")
    task = Task.objects.get(job=job)
    _, token = staff_create(username="lead", role="admin", token=True)
    for name in ("agent-a", "agent-b"):
        staff_create(username=name, role="agent")
    base = f"{live_server.url}/api/v1"
    headers = {"Authorization": f"Token {token}"}

    calls = [("note", i) for i in range(16)] + [("assign", i) for i in range(16)]
    calls += [("check", i) for i in range(6)] + [("complete", 0)]
    random.Random(19).shuffle(calls)
    start = threading.Barrier(20)

    def run(position: int, call: tuple[str, int]) -> int:
        kind, i = call
        if position < 20:  # the first 20 calls, one per thread, start together
            start.wait(timeout=60)
        try:
            if kind == "note":
                url, body = f"{base}/staff/requests/{dsr.pk}/notes", {"body": f"note {i}"}
            elif kind == "assign":
                url, body = f"{base}/staff/requests/{dsr.pk}/assign", {"assignee": f"agent-{'ab'[i % 2]}"}
            elif kind == "complete":
                url = f"{base}/staff/tasks/{task.pk}/complete"
                body = {"records_found": 3, "records_erased": 3, "note": "shredded"}
            else:  # the worker: the completion check the job's success enqueues
                check_request.delay(str(dsr.pk))
                return 200
            return requests.post(url, json=body, headers=headers, timeout=60).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(run, range(len(calls)), calls))

    assert sorted(set(statuses)) == [200, 201]  # no 500: every call did what it was asked
    assert statuses.count(201) == 16
    dsr.refresh_from_db()
    job.refresh_from_db()
    assert (job.status, dsr.status) == (JobStatus.SUCCEEDED, Status.COMPLETED)
    assert dsr.notes.count() == 16
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert out.getvalue().startswith("Audit chain intact:")
