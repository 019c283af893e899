"""Celery tasks: thin; each takes an id (or nothing) and calls a service."""

from celery import shared_task
from django.conf import settings

from .execution import eval_job_execute
from .reconcile import eval_jobs_reconcile


@shared_task(
    acks_late=True,
    soft_time_limit=settings.EVAL_SOFT_TIME_LIMIT_S,
    time_limit=settings.EVAL_TIME_LIMIT_S,
)
def run_eval_job(job_id: int) -> str:
    return eval_job_execute(job_id=job_id)


@shared_task
def reconcile_eval_jobs() -> dict:
    """Sent by Celery beat (CELERY_BEAT_SCHEDULE)."""
    return eval_jobs_reconcile().as_dict()
