"""Security fixtures: the public API as an attacker or the person sees it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from rest_framework.test import APIClient

CODE_RE = re.compile(r"\b(\d{6})\b")


@pytest.fixture
def rates(settings) -> Callable[..., None]:  # type: ignore[no-untyped-def]
    """``rates(verify_ip="3/hour")``: override some of the limiter's rates (``DSR_RATE_LIMITS``)."""

    def set_rates(**overrides: str) -> None:
        changed = {name.replace("_", ":"): rate for name, rate in overrides.items()}
        settings.DSR_RATE_LIMITS = {**settings.DSR_RATE_LIMITS, **changed}

    return set_rates


@pytest.fixture(autouse=True)
def _after_commit_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run on_commit work (the code e-mail) at once: these tests run inside one transaction."""
    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


def create(api: APIClient, email: str, *, ip: str = "203.0.113.7", **extra: Any) -> Any:
    return api.post(
        "/api/v1/requests",
        {"type": "erasure", "email": email, "jurisdiction": "US-CA"},
        format="json",
        REMOTE_ADDR=ip,
        **extra,
    )


def last_code_for(email: str) -> str:
    [message] = [m for m in mail.outbox if email.lower() in [to.lower() for to in m.to]][-1:]
    match = CODE_RE.search(message.body)
    assert match is not None
    return match.group(1)
