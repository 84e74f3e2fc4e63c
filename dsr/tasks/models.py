"""The one task model: work a person does for a request, outside the connectors.

Two families share it. **Ad-hoc** tasks (``kind="adhoc"``) are checklist items staff add on a
request page (a processor to notify under GDPR Art. 19, a paper archive to check): they have a
``title`` and, once done, an outcome in ``note``; no job. **Hand-off** tasks (``manual``,
``vendor_email``) are opened by a hand-off connector's job, one per job: the job waits
(``JobStatus.WAITING``) while the task is open; completing the task stores the person's result here
and wakes the job, whose worker then records the result as the job's outcome
(``dsr/workflow/jobs.py``). Access data uploaded by the person is not kept here: it is written
straight into the request's encrypted access part, and only its path and counts stay.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dsr.identity.fields import EncryptedTextField


class TaskKind(models.TextChoices):
    ADHOC = "adhoc", _("Ad-hoc task")
    MANUAL = "manual", _("Staff task")
    VENDOR_EMAIL = "vendor_email", _("Processor instruction by e-mail")


HANDOFF_KINDS = frozenset({TaskKind.MANUAL, TaskKind.VENDOR_EMAIL})  # opened by a job, one per job


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    COMPLETED = "completed", _("Completed")


class Task(models.Model):
    # Hand-offs: the waiting job and its system. Ad-hoc tasks have neither.
    job = models.OneToOneField(
        "workflow.ConnectorJob", null=True, blank=True, on_delete=models.CASCADE, related_name="task"
    )
    request = models.ForeignKey("workflow.DataSubjectRequest", on_delete=models.CASCADE, related_name="tasks")
    system = models.ForeignKey(
        "systems.System", null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    kind = models.CharField(max_length=20, choices=TaskKind.choices)
    action = models.CharField(max_length=10, blank=True)  # hand-offs: access or erase, as the job's
    # Ad-hoc: what has to be done, in the staff member's words (encrypted at rest, at most 200).
    title = EncryptedTextField(blank=True, default="")
    created_by = models.CharField(max_length=150, blank=True)  # ad-hoc: the staff actor who added it
    status = models.CharField(
        max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN, db_index=True
    )
    instructions = models.TextField(blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
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
    # The person's own words (an ad-hoc task's outcome): encrypted at rest.
    note = EncryptedTextField(blank=True, default="")
    result_path = models.CharField(max_length=300, blank=True)  # the access part written from the upload
    result_counts = models.JSONField(default=dict, blank=True)  # records per category of the upload
    completed_by = models.CharField(max_length=254, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        if not self.is_handoff:
            return f"{self.get_kind_display()} {self.pk} for {self.request_id}"
        return f"{self.get_kind_display()}: {self.action} in {self.system_id} for {self.request_id}"

    @property
    def is_handoff(self) -> bool:
        return self.kind in HANDOFF_KINDS
