"""The reconciler: makes the broker agree with the database, which is the truth about jobs.

The broker can lose messages (Redis restarted without persistence) and workers can die in the
middle of a job (SIGKILL, out of memory, a node gone) without telling anyone. Celery beat sends
`reconcile_eval_jobs` every EVAL_RECONCILE_EVERY_S; each run

- queues again, and sends, every running job whose worker wrote no heartbeat for
  EVAL_HEARTBEAT_STALE_S (or ends it failed after EVAL_MAX_ATTEMPTS, cancelled if a cancel was
  asked for);
- sends another message for every queued job that no worker started EVAL_REQUEUE_AFTER_S after
  its last message (the wait doubles with each message, up to EVAL_REQUEUE_MAX_S).

Sending too much is harmless: `eval_job_start` claims a queued job once, and leaves a running
one whose worker is alive. Several reconcilers at once are harmless too: each job is re-checked
under its row lock, and a row another process holds is left for the next run."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from . import services
from .models import EvalJob, JobStatus

logger = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    """Job ids, by what the reconciler did with them."""

    requeued: list[int] = field(default_factory=list)  # lost their worker; queued and sent
    ended: dict[int, str] = field(default_factory=dict)  # lost their worker; now failed/cancelled
    resent: list[int] = field(default_factory=list)  # queued; their message may have been lost

    def as_dict(self) -> dict:
        return {"requeued": self.requeued, "ended": self.ended, "resent": self.resent}


def eval_jobs_reconcile() -> ReconcileReport:
    """Recover running jobs that lost their worker and queued jobs whose message was lost."""
    now = timezone.now()
    report = ReconcileReport()

    stale_before = now - timedelta(seconds=settings.EVAL_HEARTBEAT_STALE_S)
    lost = EvalJob.objects.filter(status=JobStatus.RUNNING).filter(
        Q(heartbeat_at__lt=stale_before)
        | Q(heartbeat_at__isnull=True, started_at__lt=stale_before)
        | Q(heartbeat_at__isnull=True, started_at__isnull=True)
    )
    for job_id in lost.order_by("pk").values_list("pk", flat=True):
        status = services.eval_job_recover_lost(job_id=job_id)
        if status == JobStatus.QUEUED:
            report.requeued.append(job_id)
        elif status is not None:
            report.ended[job_id] = status

    due_before = now - timedelta(seconds=settings.EVAL_REQUEUE_AFTER_S)
    waiting = EvalJob.objects.filter(status=JobStatus.QUEUED).filter(
        Q(last_sent_at__lt=due_before) | Q(last_sent_at__isnull=True, created_at__lt=due_before)
    )
    for job_id in waiting.order_by("pk").values_list("pk", flat=True):
        if services.eval_job_send_again(job_id=job_id):
            report.resent.append(job_id)

    if report.requeued or report.ended or report.resent:
        logger.warning("Reconciled evaluation jobs: %s", report.as_dict())
    return report
