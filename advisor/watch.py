"""The decision watch: a saved recommendation whose proposed evaluations were queued is
evaluated again once they have ended, and its owner is told when the answer moved."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from evaluations.models import FINISHED, EvalJob

from .models import DecisionWatch, Notice, Recommendation
from .services import recommendation_changes, recommendation_rerun


def decision_watch_start(*, recommendation: Recommendation, jobs: list[EvalJob]) -> DecisionWatch:
    """Watch `jobs` for `recommendation` (the evaluations it proposed, just queued)."""
    watch = DecisionWatch.objects.create(recommendation=recommendation)
    watch.jobs.set(jobs)
    return watch


def decision_watches_check() -> list[DecisionWatch]:
    """Re-evaluate every watched recommendation whose jobs have all ended. Returns the
    watches checked. Safe to run often and from several places (a row lock per watch)."""
    checked = []
    waiting = DecisionWatch.objects.filter(checked_at__isnull=True).values_list("pk", flat=True)
    for pk in waiting:
        watch = _check_one(pk)
        if watch is not None:
            checked.append(watch)
    return checked


@transaction.atomic
def _check_one(pk: int) -> DecisionWatch | None:
    watch = (
        DecisionWatch.objects.select_for_update(skip_locked=True)
        .select_related("recommendation", "recommendation__owner")
        .filter(pk=pk, checked_at__isnull=True)
        .first()
    )
    if watch is None:
        return None
    statuses = list(watch.jobs.values_list("status", flat=True))
    if not statuses or any(status not in FINISHED for status in statuses):
        return None
    previous = _latest(watch.recommendation)
    rerun = recommendation_rerun(recommendation=previous, owner=previous.owner)
    watch.checked_at = timezone.now()
    watch.result = rerun
    watch.save(update_fields=["checked_at", "result"])
    moved = (previous.verdict, previous.top_model, previous.top_deployment) != (
        rerun.verdict,
        rerun.top_model,
        rerun.top_deployment,
    )
    if moved:
        _notify(previous, rerun)
    return watch


def _latest(recommendation: Recommendation) -> Recommendation:
    """The newest re-evaluation in the chain that starts at `recommendation`."""
    latest = recommendation
    while True:
        newer = latest.reruns.order_by("-created_at").first()
        if newer is None:
            return latest
        latest = newer


def _notify(previous: Recommendation, rerun: Recommendation) -> Notice:
    changes = recommendation_changes(previous, rerun)
    url = reverse("advisor:recommendation", args=[rerun.slug])
    subject = f"{rerun.name}: the recommendation changed"
    body = (
        "The evaluations proposed for this decision have finished, and the answer moved:\n\n"
        + "\n".join(f"- {change}" for change in changes)
        + f"\n\nSee {settings.SITE_URL.rstrip('/')}{url}"
    )
    notice = Notice.objects.create(
        user=previous.owner, recommendation=rerun, subject=subject, body=body
    )
    if previous.owner.email:
        transaction.on_commit(
            lambda: send_mail(subject, body, None, [previous.owner.email], fail_silently=True)
        )
    return notice
