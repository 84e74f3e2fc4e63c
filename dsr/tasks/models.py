"""A task a person does for a hand-off connector's job: a staff member or a processor.

One task per job. The job waits (``JobStatus.WAITING``) while the task is open; completing the task
stores the person's result here and wakes the job, whose worker then records the result as the
job's outcome (``dsr/workflow/jobs.py``). Access data uploaded by the person is not kept here: it
is written straight into the request's encrypted access part, and only its path and counts stay.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dsr.identity.fields import EncryptedTextField


class TaskKind(models.TextChoices):
    MANUAL = "manual", _("Staff task")
    VENDOR_EMAIL = "vendor_email", _("Processor instruction by e-mail")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    COMPLETED = "completed", _("Completed")


class Task(models.Model):
    job = models.OneToOneField("workflow.ConnectorJob", on_delete=models.CASCADE, related_name="task")
    request = models.ForeignKey(
        "workflow.DataSubjectRequest", on_delete=models.CASCADE, related_name="connector_tasks"
    )
    system = models.ForeignKey("systems.System", on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(max_length=20, choices=TaskKind.choices)
    action = models.CharField(max_length=10)  # access or erase, as the job's
    status = models.CharField(
        max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN, db_index=True
    )
    instructions = models.TextField(blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="connector_tasks",
    )
    due_at = models.DateTimeField(db_index=True)
    # vendor_email: who was instructed, when, and until when the confirmation link works.
    recipient = models.EmailField(blank=True)
    recipient_name = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    link_expires_at = models.DateTimeField(null=True, blank=True)

    # The person's result.
    records_found = models.PositiveIntegerField(null=True, blank=True)
    records_erased = models.PositiveIntegerField(null=True, blank=True)
    method = models.CharField(max_length=30, blank=True)
    note = EncryptedTextField(blank=True, default="")  # the person's own words: encrypted at rest
    result_path = models.CharField(max_length=300, blank=True)  # the access part written from the upload
    result_counts = models.JSONField(default=dict, blank=True)  # records per category of the upload
    completed_by = models.CharField(max_length=254, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.action} in {self.system_id} for {self.request_id}"
