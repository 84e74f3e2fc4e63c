"""Reliability fixtures: a private Redis broker, real Celery workers with short leases and a one-second
reconciler (beat), and a fake HubSpot whose request log counts every mutating call.

Requests are created and approved through the services in this process; their jobs travel through
the private Redis to the worker subprocess, which calls the fake over loopback HTTP.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from connectors.hubspot.fake import FakeHubSpot
from connectors.testing.server import serve
from dsr.celery import app as celery_app
from dsr.systems.models import System
from dsr.workflow.intake import request_create
from dsr.workflow.models import DataSubjectRequest, Status
from dsr.workflow.transitions import request_transition
from tests.support.waiting import wait_until
from tests.support.worker import RedisServer, Worker, use_broker

TOKEN = "pat-na1-reliability-token"
FINAL = (Status.COMPLETED, Status.ACTION_REQUIRED)


@pytest.fixture(autouse=True)
def _celery_eager() -> Iterator[None]:
    """Tasks go through the real broker to a real worker (the unit tests run them in-process)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    """A private Redis on a free port: restarting it cannot disturb any other test."""
    server = RedisServer(log_path=tmp_path / "redis.log")
    server.start()
    with use_broker(server.url):
        yield server
    server.stop()


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    with serve(FakeHubSpot(TOKEN)) as fake:
        yield fake


@pytest.fixture
def crm(transactional_db: None, hubspot: FakeHubSpot) -> System:
    """The fake HubSpot configured as a system; its token is stored encrypted like any secret."""
    if connection.vendor != "postgresql":
        raise AssertionError("reliability tests need DATABASE_URL to point at PostgreSQL (use `make test`)")
    return System.objects.create(
        key="crm",
        name="CRM",
        connector="hubspot",
        config={"base_url": hubspot.url, "timeout": 1.0},
        secrets=json.dumps({"access_token": TOKEN}),
    )


WorkerFactory = Callable[..., Worker]


@pytest.fixture
def make_worker(transactional_db: None, broker: RedisServer, tmp_path: Path) -> Iterator[WorkerFactory]:
    """``make_worker(lease=4)``: a started worker with beat, on the private broker and the test
    database, whose reconciler runs every second and takes over a job a ``lease`` after its claim."""
    started: list[Worker] = []
    db = connection.settings_dict

    def make(*, lease: int = 6, max_attempts: int = 6, concurrency: int = 2, start: bool = True) -> Worker:
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": broker.url,
            "EMAIL_URL": "dummymail://",
            "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
            "DSR_OUTBOUND_ALLOW_HOSTS": "127.0.0.1,localhost",  # the vendor fakes run on loopback
            "DSR_JOB_LEASE_SECONDS": str(lease),
            "DSR_JOB_REQUEUE_AFTER_SECONDS": "1",
            "DSR_RECONCILE_INTERVAL_SECONDS": "1",
            "DSR_JOB_MAX_ATTEMPTS": str(max_attempts),
            "DSR_JOB_BACKOFF_BASE_SECONDS": "0.2",
            "DSR_JOB_BACKOFF_MAX_SECONDS": "1",
        }
        worker = Worker(
            env=env, log_path=tmp_path / f"worker-{len(started)}.log", concurrency=concurrency, beat=True
        )
        started.append(worker)
        if start:
            worker.start()
        return worker

    yield make
    for worker in started:
        worker.stop()


def erasure_in_progress(email: str) -> DataSubjectRequest:
    """An erasure request received, verified and approved: its jobs are sent to the broker."""
    received = request_create(type="erasure", email=email, jurisdiction="US-CA")
    now = timezone.now()
    return request_transition(
        request_id=received.pk,
        to=Status.IN_PROGRESS,
        actor="staff:approver",
        event="request.approved",
        fields={"verified_at": now, "approved_at": now},
    )


def wait_final(request_ids: list, *, timeout: float = 60.0) -> dict[str, str]:
    """Wait until every request is completed or needs action; return id -> status."""

    def statuses() -> dict[str, str]:
        return {
            str(pk): status
            for pk, status in DataSubjectRequest.objects.filter(pk__in=request_ids).values_list(
                "pk", "status"
            )
        }

    wait_until(
        lambda: all(status in FINAL for status in statuses().values()),
        timeout=timeout,
        what=lambda: f"requests final: {statuses()}",
    )
    return statuses()


def gdpr_deletes(hubspot: FakeHubSpot) -> list[str]:
    """The contact ids of every GDPR delete that reached the vendor's handler (not a fault)."""
    return [
        r.json()["objectId"]
        for r in hubspot.requests_to("POST", "/gdpr-delete$")
        if r.fault in (None, "delay")
    ]
