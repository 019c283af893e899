"""The audit log: who did what, when, to which object. Written only through audit.services."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class AuditAction(models.TextChoices):
    ADMIN_ADD = "admin.add", "Added in the admin"
    ADMIN_CHANGE = "admin.change", "Changed in the admin"
    ADMIN_DELETE = "admin.delete", "Deleted in the admin"
    APPROVE_REMOTE_CODE = "catalog.approve_remote_code", "Approved trust_remote_code"
    WITHDRAW_REMOTE_CODE = "catalog.withdraw_remote_code", "Withdrew trust_remote_code"
    JOB_QUEUE = "job.queue", "Queued a job"
    JOB_REUSE = "job.reuse", "Answered a job from a finished one"
    JOB_RETRY = "job.retry", "Retried a job"
    JOB_CANCEL = "job.cancel", "Cancelled a job"
    RESULTS_IMPORT = "results.import", "Imported a result file"
    DOMAIN_SET_UPLOAD = "domain_set.upload", "Uploaded a domain evaluation set"


class AuditEntry(models.Model):
    """One action by a person (or by a command, when `actor` is empty)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Kept when the account is deleted, so the log still says who it was.
    actor_name = models.CharField("who", max_length=150, blank=True)
    action = models.CharField(max_length=40, choices=AuditAction.choices, db_index=True)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField("object", max_length=200, blank=True)
    description = models.CharField(max_length=500)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or 'system'}: {self.description}"
