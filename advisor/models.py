"""Saved recommendations: a snapshot of what was decided, on which evidence, for good."""

import uuid

from django.conf import settings
from django.db import models


class Recommendation(models.Model):
    """A use case, the engine's answer, and the evidence it used, frozen when saved.

    The permalink shows exactly this, even after the catalog or the results change; re-running
    it with today's evidence creates a new recommendation linked by `rerun_of`."""

    slug = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recommendations"
    )
    name = models.CharField(max_length=200)
    use_case = models.JSONField(help_text="The use case as entered (the advisor's JSON).")
    result = models.JSONField(help_text="The engine's answer, as it was.")
    evidence = models.JSONField(
        default=list,
        blank=True,
        help_text="Every run and source the answer used, with labels and links.",
    )
    verdict = models.CharField(max_length=10, blank=True, help_text="Empty: no candidate.")
    top_model = models.CharField(max_length=200, blank=True)
    top_deployment = models.CharField(max_length=30, blank=True)
    rerun_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reruns"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name}: {self.verdict}"


class DecisionWatch(models.Model):
    """A saved recommendation waiting for the evaluations it proposed: when they have ended,
    the recommendation is evaluated again and its owner told if the answer moved."""

    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.CASCADE, related_name="watches"
    )
    jobs = models.ManyToManyField("evaluations.EvalJob", related_name="decision_watches")
    created_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    result = models.ForeignKey(
        Recommendation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The re-evaluation made when the jobs had ended.",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        state = "checked" if self.checked_at else "waiting"
        return f"Watch on {self.recommendation} ({state})"


class Notice(models.Model):
    """A message for a user in the app (and by email): what changed in a decision."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.CASCADE, null=True, blank=True, related_name="notices"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.subject
