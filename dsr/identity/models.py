"""One-time codes that prove a person controls the e-mail address of a request."""

from __future__ import annotations

from django.db import models


class Purpose(models.TextChoices):
    VERIFY = "verify", "Verify the request"
    DOWNLOAD = "download", "Re-verify before a download"


class VerificationChallenge(models.Model):
    request = models.ForeignKey(
        "workflow.DataSubjectRequest", on_delete=models.CASCADE, related_name="challenges"
    )
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.VERIFY)
    code_hash = models.CharField(max_length=64, blank=True)  # HMAC of the code; emptied once used
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    sends = models.PositiveSmallIntegerField(default=1)
    last_sent_at = models.DateTimeField()
    locked_at = models.DateTimeField(null=True, blank=True)
    consumed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "purpose"], name="one_challenge_per_purpose")
        ]

    def __str__(self) -> str:
        return f"{self.purpose} challenge of {self.request_id}"
