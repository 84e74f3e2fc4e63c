from __future__ import annotations

from django.db import models


class AccessPackage(models.Model):
    """The zip answering an access request, stored encrypted through Django's storage API."""

    request = models.OneToOneField(
        "workflow.DataSubjectRequest", on_delete=models.CASCADE, related_name="package"
    )
    path = models.CharField(max_length=300)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)  # of the plain zip, shown to the person
    records = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    downloads = models.PositiveIntegerField(default=0)
    purged_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"package of {self.request_id}"
