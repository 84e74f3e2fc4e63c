"""Alerts raised to the privacy team: one row per event, so each is sent once and the digest lists it."""

from __future__ import annotations

from django.db import models


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
