"""Shared fixtures: personas, API clients, and a real SMTP listener."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from dsr.celery import app as celery_app
from dsr.staff.models import Role
from dsr.staff.services import staff_create
from tests.support.smtp import SmtpListener

ROLES = [Role.VIEWER, Role.AGENT, Role.APPROVER, Role.ADMIN]


@pytest.fixture(autouse=True)
def _celery_eager() -> Iterator[None]:
    """Unit tests run tasks in-process; the end-to-end tests override this with a real worker."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


#: The local fakes every test talks to; production leaves DSR_OUTBOUND_ALLOW_HOSTS empty.
LOCAL_FAKES = ["127.0.0.1", "localhost"]


@pytest.fixture(autouse=True)
def _outbound_to_local_fakes(settings) -> None:  # type: ignore[no-untyped-def]
    """Connectors may call the loopback fakes; tests of the refusal clear the setting."""
    settings.DSR_OUTBOUND_ALLOW_HOSTS = LOCAL_FAKES


@pytest.fixture(autouse=True)
def _fresh_throttles() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def api() -> APIClient:
    """An anonymous client: the data subject."""
    return APIClient()


@pytest.fixture
def staff_client(db: None) -> Callable[[str], APIClient]:
    """``staff_client("approver")``: a client authenticated with that role's API token."""

    def make(role: str) -> APIClient:
        _, token = staff_create(username=f"{role}-user", role=role, token=True)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    return make


@pytest.fixture
def smtp(settings) -> Iterator[SmtpListener]:  # type: ignore[no-untyped-def]
    """A real SMTP server on loopback; the app's e-mail goes through it."""
    listener = SmtpListener()
    listener.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = listener.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield listener
    listener.stop()
