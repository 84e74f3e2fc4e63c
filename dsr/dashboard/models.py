"""What the dashboard keeps of its own: the last health check of each system.

Assignments and notes are casework and live in ``dsr.workflow.models``; tasks of every kind in
``dsr.tasks.models``.
"""

from __future__ import annotations

from django.db import models


class SystemCheck(models.Model):
    """The latest result of a system's connector ``check()``, run from the systems page."""

    system = models.OneToOneField("systems.System", on_delete=models.CASCADE, related_name="last_check")
    ok = models.BooleanField()
    message = models.TextField()
    checked_at = models.DateTimeField()
    checked_by = models.CharField(max_length=150)

    def __str__(self) -> str:
        return f"{self.system_id}: {'ok' if self.ok else 'failed'}"
