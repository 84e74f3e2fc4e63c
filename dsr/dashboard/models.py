"""What the privacy team adds to a request: who works on it, internal notes, manual tasks, and
the last health check of each system. Status and deadlines stay on the request (``dsr.workflow``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dsr.identity.fields import EncryptedTextField


class Assignment(models.Model):
    """The staff member working on a request (at most one)."""

    request = models.OneToOneField(
        "workflow.DataSubjectRequest", on_delete=models.CASCADE, related_name="assignment"
    )
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    assigned_at = models.DateTimeField()
    assigned_by = models.CharField(max_length=150)

    def __str__(self) -> str:
        return f"{self.request_id} -> {self.assignee_id}"


class Note(models.Model):
    """An internal note: never shown to the data subject, never e-mailed."""

    request = models.ForeignKey("workflow.DataSubjectRequest", on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = EncryptedTextField()  # encrypted at rest; the audit event names the note's id only
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note {self.pk} on {self.request_id}"


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class ManualTask(models.Model):
    """Work done by a person outside DSR Hub: a system without connector, a processor to notify
    (GDPR Art. 19, 11 CCR §7022(b)), a paper archive to check."""

    request = models.ForeignKey(
        "workflow.DataSubjectRequest", on_delete=models.CASCADE, related_name="manual_tasks"
    )
    title = EncryptedTextField()  # staff free text, encrypted at rest (at most 200 characters)
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    done_by = models.CharField(max_length=150, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.title


class SystemCheck(models.Model):
    """The latest result of a system's connector ``check()``, run from the systems page."""

    system = models.OneToOneField("systems.System", on_delete=models.CASCADE, related_name="last_check")
    ok = models.BooleanField()
    message = models.TextField()
    checked_at = models.DateTimeField()
    checked_by = models.CharField(max_length=150)

    def __str__(self) -> str:
        return f"{self.system_id}: {'ok' if self.ok else 'failed'}"
