"""The append-only, hash-chained audit log.

Each event stores the SHA-256 of its own content plus the previous event's hash, so editing,
inserting or deleting any event breaks every later link; ``manage.py verify_audit`` finds the first
broken one. Events never hold identity values in clear: only ids, references, and what happened.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class AuditEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField()
    actor = models.CharField(max_length=150)  # "system", "subject", "staff:<username>", "worker"
    action = models.CharField(max_length=80)  # "request.verified", "job.failed", ...
    request_id = models.UUIDField(null=True, blank=True, db_index=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.id} {self.action} by {self.actor}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise RuntimeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("audit events are append-only")


class AuditHead(models.Model):
    """A single row locked while appending, so that concurrent appends form one chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return self.last_hash
