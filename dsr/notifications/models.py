"""The e-mail outbox: one row per e-mail to a data subject, sent by the worker and re-sent by the
reconciler until it is delivered or has visibly failed (never lost to a broker or SMTP outage); and
alerts raised to the privacy team: one row per event, so each is sent once and the digest lists it."""

from __future__ import annotations

from django.db import models


class EmailKind(models.TextChoices):
    VERIFY_CODE = "verify_code", "Verification code"
    DOWNLOAD_CODE = "download_code", "Download code"
    ACKNOWLEDGED = "acknowledged", "Request received"
    COMPLETED = "completed", "Request complete"
    DENIED = "denied", "Request denied"
    STATUS_LINK = "status_link", "Status link"


CODE_KINDS = frozenset({EmailKind.VERIFY_CODE, EmailKind.DOWNLOAD_CODE})


class EmailStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Not needed any more"


class OutboundEmail(models.Model):
    """What to send, not the message itself: the address, the wording and the links are rendered
    from the request when the e-mail is sent. Only what cannot be rendered later (a one-time code,
    of which the database keeps just an HMAC) is in ``payload``, encrypted like identities
    (AES-GCM, ``DSR_ENCRYPTION_KEYS``) and erased once the e-mail is sent or given up."""

    request = models.ForeignKey(
        "workflow.DataSubjectRequest", on_delete=models.CASCADE, related_name="emails"
    )
    kind = models.CharField(max_length=20, choices=EmailKind.choices)
    payload = models.TextField(blank=True)  # crypto.encrypt(json); "" once sent
    challenge = models.ForeignKey(
        "identity.VerificationChallenge", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    challenge_sends = models.PositiveSmallIntegerField(null=True, blank=True)  # which code of the challenge
    status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.kind} e-mail {self.pk} ({self.status})"


class AlertKind(models.TextChoices):
    JOB_FAILED = "job_failed", "Job failed for good"
    SYSTEM_CHECK_FAILED = "system_check_failed", "System health check failed"
    DEADLINE_RISK = "deadline_risk", "Request will miss its deadline"


class Alert(models.Model):
    kind = models.CharField(max_length=30, choices=AlertKind.choices)
    key = models.CharField(max_length=200)  # what the alert is about, e.g. "job:42": one alert each
    subject = models.CharField(max_length=300)
    message = models.TextField()  # references and system keys only, never a person's identity
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="alert_once_per_event")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.subject
