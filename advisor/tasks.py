"""Celery tasks of the advisor: thin; they call a service."""

from celery import shared_task

from .watch import decision_watches_check


@shared_task
def check_decision_watches() -> int:
    """Periodic (Celery beat): re-evaluate recommendations whose proposed jobs have ended."""
    return len(decision_watches_check())
