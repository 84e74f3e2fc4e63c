"""A per-request troubleshooting bundle that can be attached to a bug report or sent to support.

It holds what explains a stuck or failed request — its status and deadlines, each job with its
attempts, timings, outcome counts and errors, the audit trail's event names, the app, connector
and library versions and the settings that steer jobs — and nothing that identifies the person or
opens a system: no e-mail, name, phone, details or agent, no connector config values, no secret,
no broker or database URL. Free text that could carry them (errors, notes, status reasons) is
scrubbed: the person's identity values and every system secret become ``[redacted]``, any other
e-mail address ``[email]``, and credentials in URLs ``***``.
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import re
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from connectors import registry
from dsr.audit.models import AuditEvent
from dsr.systems.models import System
from dsr.systems.services import system_connector_config
from dsr.workflow.models import ConnectorJob, DataSubjectRequest

FORMAT = 1
_EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]+@")
# Audit event data worth a troubleshooter's time; anything else (notes, messages) is left out.
_EVENT_KEYS = frozenset(
    {"from", "to", "job", "system", "action", "found", "erased", "retained", "error", "reason", "rule"}
    | {"failed_jobs", "manual", "template", "test", "dry_run", "created", "existing", "errors"}
)
_SETTINGS = (
    "DSR_ENV",
    "DSR_AUTO_APPROVE",
    "DSR_JOB_MAX_ATTEMPTS",
    "DSR_JOB_LEASE",
    "DSR_JOB_BACKOFF_BASE",
    "DSR_JOB_BACKOFF_MAX",
    "DSR_JOB_REQUEUE_AFTER",
    "DSR_JOB_QUEUES",
    "DSR_UNVERIFIED_EXPIRY",
    "DSR_CODE_TTL",
    "DSR_PACKAGE_TTL",
    "TIME_ZONE",
    "CELERY_TASK_DEFAULT_QUEUE",
    "CELERY_TASK_ALWAYS_EAGER",
)


def app_version() -> str:
    """The installed ``dsr-hub`` version, else the one in the checkout's pyproject.toml."""
    try:
        return importlib.metadata.version("dsr-hub")
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        pyproject = Path(settings.BASE_DIR) / "pyproject.toml"
        return str(tomllib.loads(pyproject.read_text())["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def _library_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _connector_version(key: str) -> dict[str, str]:
    try:
        cls = registry.get(key)
    except Exception:  # an uninstalled connector still gets a bundle
        return {"class": "unknown", "version": "unknown"}
    top = cls.__module__.split(".")[0]
    if top == "connectors":
        version = f"built-in {app_version()}"
    else:  # a third-party connector: the version of the distribution that installed it
        dists = importlib.metadata.packages_distributions().get(top) or []
        version = _library_version(dists[0]) if dists else "unknown"
    return {"class": f"{cls.__module__}.{cls.__qualname__}", "version": version}


class Scrubber:
    """Replaces identity values and secrets in free text (see the module docstring)."""

    def __init__(self, values: list[str]) -> None:
        # Longest first, so a value containing another is replaced whole.
        self.values = sorted({v for v in values if v and len(v) >= 3}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.values:
            value = re.sub(re.escape(secret), "[redacted]", value, flags=re.IGNORECASE)
        value = _URL_CREDENTIALS.sub(r"\g<scheme>***@", value)
        return _EMAIL.sub("[email]", value)

    def any(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.any(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.any(v) for v in value]
        return value


def _system_secrets(system: System) -> list[str]:
    """Plain values of the system's secret fields (resolved as the worker would), to scrub them."""
    try:
        config = system_connector_config(system=system)
        names = registry.get(system.connector).Config.secret_fields()
    except Exception:  # a broken config still gets a bundle: scrub the literal secrets stored
        stored = json.loads(system.secrets) if system.secrets else {}
        config = {**system.config, **{k: v for k, v in stored.items() if isinstance(v, str)}}
        names = list(stored)
    values = [str(config[name]) for name in names if config.get(name)]
    # Secret-looking plain fields too (a DSN with a password is a plain "url" in some configs).
    values += [str(v) for k, v in config.items() if isinstance(v, str) and _looks_secret(k)]
    return values


def _looks_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in ("secret", "token", "password", "key", "dsn", "url", "auth"))


def _identity_values(request: DataSubjectRequest) -> list[str]:
    values = [request.email, request.full_name, request.phone, request.details]
    local = request.email.partition("@")[0]
    values.append(local)
    if request.phone:
        values.append(re.sub(r"\D", "", request.phone))
    agent = getattr(request, "agent", None)  # the reverse one-to-one raises AttributeError if none
    if agent is not None:
        values += [agent.name, agent.email]
    if request.full_name:
        values += [part for part in request.full_name.split() if len(part) >= 3]
    return [v for v in values if v]


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return round((end - start).total_seconds(), 3) if start and end else None


def _job(job: ConnectorJob, scrub: Scrubber) -> dict[str, Any]:
    detail = job.detail or {}
    return {
        "id": job.pk,
        "system": job.system.key,
        "system_enabled": job.system.enabled,
        "connector": job.system.connector,
        "connector_class": _connector_version(job.system.connector)["class"],
        "connector_version": _connector_version(job.system.connector)["version"],
        "config_fields": sorted(job.system.config),  # names only, never values
        "action": job.action,
        "status": job.status,
        "attempts": job.attempts,
        "created_at": job.created_at,
        "enqueued_at": job.enqueued_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "next_attempt_at": job.next_attempt_at,
        "lease_expires_at": job.lease_expires_at,
        "run_seconds": _seconds(job.started_at, job.finished_at),
        "records_found": job.records_found,
        "records_erased": job.records_erased,
        "records_retained": job.records_retained,
        "method": job.method,
        "dry_run": bool(detail.get("dry_run")),
        "detail": scrub.any({k: v for k, v in detail.items() if k != "dry_run"}),
        "waiting_on_vendor_job": bool(job.external_handle),
        "has_access_part": bool(job.result_path),
        "error": scrub.text(job.error),
    }


def _event(event: AuditEvent, scrub: Scrubber) -> dict[str, Any]:
    data = event.data if isinstance(event.data, dict) else {}
    return {
        "at": event.created_at,
        "action": event.action,
        # The kind of actor (staff, worker, subject, system), not who: a bundle travels.
        "actor": event.actor.partition(":")[0],
        "data": scrub.any({k: v for k, v in data.items() if k in _EVENT_KEYS}),
    }


def request_diagnostics(*, request: DataSubjectRequest) -> dict[str, Any]:
    """The bundle as a JSON-ready dict (see the module docstring for what is and is not in it)."""
    jobs = list(request.jobs.select_related("system").order_by("id"))
    secrets: list[str] = []
    for system in {job.system for job in jobs}:
        secrets += _system_secrets(system)
    scrub = Scrubber(_identity_values(request) + secrets)
    broker = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    return {
        "bundle": "dsr-hub request diagnostics",
        "format": FORMAT,
        "generated_at": timezone.now(),
        "app": {
            "version": app_version(),
            "python": platform.python_version(),
            "django": _library_version("django"),
            "celery": _library_version("celery"),
            "djangorestframework": _library_version("djangorestframework"),
            "database": connection.vendor,
            "broker": broker.partition("://")[0] or "none",
        },
        "settings": {name: getattr(settings, name, None) for name in _SETTINGS},
        "request": {
            "id": request.pk,
            "reference": request.reference,
            "type": request.type,
            "jurisdiction": request.jurisdiction,
            "regime": request.regime,
            "status": request.status,
            "status_reason": scrub.text(request.status_reason),
            "channel": request.channel,
            "language": request.language,
            "test": request.is_test,
            "imported": request.external_id is not None,
            "gpc_signalled": request.gpc_signalled,
            "received_at": request.received_at,
            "ack_due_at": request.ack_due_at,
            "due_at": request.due_at,
            "due_explanation": request.due_explanation,
            "extended_at": request.extended_at,
            "verified_at": request.verified_at,
            "approved_at": request.approved_at,
            "closed_at": request.closed_at,
            "deny_reason": request.deny_reason,
            "identity_purged": request.identity_purged_at is not None,
            "open_seconds": _seconds(request.received_at, request.closed_at or timezone.now()),
        },
        "jobs": [_job(job, scrub) for job in jobs],
        "events": [_event(e, scrub) for e in AuditEvent.objects.filter(request_id=request.pk).order_by("id")],
    }


def request_diagnostics_json(*, request: DataSubjectRequest) -> bytes:
    """The bundle as indented UTF-8 JSON, as downloaded from the dashboard and the staff API."""
    bundle = request_diagnostics(request=request)
    return json.dumps(bundle, cls=DjangoJSONEncoder, indent=2, sort_keys=False).encode()


def request_diagnostics_export(*, request: DataSubjectRequest, actor: str) -> bytes:
    """The JSON bundle for ``actor``; each download is audited (``request.diagnostics_exported``)."""
    from dsr.audit.services import audit_record

    body = request_diagnostics_json(request=request)
    audit_record(
        actor=actor, action="request.diagnostics_exported", request_id=request.pk, data={"bytes": len(body)}
    )
    return body
