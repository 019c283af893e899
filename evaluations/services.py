"""Writes for evaluation jobs: queueing, cancelling, retrying, and what the worker records."""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from config.errors import ApplicationError

from . import lmeval_runner
from .models import FINISHED, EvalJob, EvalRun, JobStatus, MetricResult
from .specs import JobSpec, job_spec_validate, queue_for

logger = logging.getLogger(__name__)


def _lm_eval_version() -> str | None:
    try:
        return importlib.metadata.version("lm_eval")
    except importlib.metadata.PackageNotFoundError:
        return None


def eval_job_create(
    *,
    spec: JobSpec,
    requested_by: AbstractBaseUser | None,
    requested_via: str,
    force: bool = False,
    retry_of: EvalJob | None = None,
) -> EvalJob:
    """Validate `spec` and queue it, or answer from an identical finished job unless forced.

    The Celery task is sent after the transaction commits, so a worker never looks for a job
    that is not there yet. If the broker does not take it, the job stays queued and the
    reconciler sends it again (reconcile.py)."""
    spec, model = job_spec_validate(spec)
    spec_hash = spec.digest(lm_eval_version=_lm_eval_version())
    reusable = None
    if not force:
        reusable = (
            EvalJob.objects.filter(
                spec_hash=spec_hash,
                status=JobStatus.SUCCEEDED,
                reused_from__isnull=True,
                run__isnull=False,
            )
            .order_by("-finished_at")
            .first()
        )
    fields = asdict(spec)
    fields.pop("model_key")
    now = timezone.now()
    with transaction.atomic():
        job = EvalJob(
            model=model,
            **{**fields, "tasks": list(spec.tasks)},
            queue=queue_for(spec.backend, spec.device),
            spec_hash=spec_hash,
            forced=force,
            requested_by=requested_by,
            requested_via=requested_via,
            retry_of=retry_of,
        )
        if reusable is not None:
            job.status = JobStatus.SUCCEEDED
            job.reused_from = reusable
            job.progress_done = job.progress_total = reusable.progress_total
            job.started_at = job.finished_at = now
        else:
            job.last_sent_at, job.messages_sent = now, 1
        job.full_clean()
        job.save()
        if reusable is None:
            transaction.on_commit(lambda: _send(job))
    return job


def _send(job: EvalJob) -> None:
    """Ask a worker to run `job`. The job row says a message was sent (`last_sent_at`) before
    this runs; a message the broker refuses or loses is sent again by the reconciler."""
    from .tasks import run_eval_job

    try:
        # No time limits in the message: the worker's own (EVAL_SOFT_TIME_LIMIT_S on its node)
        # apply, not those of whichever process sent it.
        run_eval_job.apply_async(
            args=[job.pk],
            queue=job.queue,
            priority=job.priority,
            time_limit=None,
            soft_time_limit=None,
        )
    except BrokerError as exc:
        logger.warning(
            "Job %s: the broker did not take its message (%s); it stays queued", job.pk, exc
        )


def eval_job_cancel(*, job: EvalJob) -> EvalJob:
    """A queued job never starts; a running one is asked to stop (the worker checks every
    second and ends it cancelled)."""
    with transaction.atomic():
        job = EvalJob.objects.select_for_update().get(pk=job.pk)
        if job.status == JobStatus.QUEUED:
            job.status = JobStatus.CANCELLED
            job.finished_at = timezone.now()
        elif job.status == JobStatus.RUNNING:
            job.cancel_requested = True
        else:
            raise ApplicationError(f"Job {job.pk} has already ended ({job.get_status_display()}).")
        job.save(update_fields=["status", "finished_at", "cancel_requested"])
    return job


def eval_job_retry(
    *, job: EvalJob, requested_by: AbstractBaseUser | None, requested_via: str
) -> EvalJob:
    """Queue a failed or cancelled job again, as a new job linked to the old one."""
    if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
        raise ApplicationError("Only a failed or cancelled job can be retried.")
    spec = JobSpec.from_job(job)
    return eval_job_create(
        spec=spec, requested_by=requested_by, requested_via=requested_via, force=True, retry_of=job
    )


# ---------------------------------------------------------------- worker side
#
# A job may be delivered more than once (a redelivered message, one the reconciler sent again):
# each claim is an attempt, numbered in `attempts`, and every write a worker makes afterwards
# names its attempt and changes nothing once the job is no longer its own.


def time_limit_message() -> str:
    """The error of a job stopped by its (soft) time limit."""
    return f"Stopped: the job ran past its time limit of {settings.EVAL_SOFT_TIME_LIMIT_S} seconds."


def _heartbeat_stale(job: EvalJob, now: datetime) -> bool:
    last_seen = job.heartbeat_at or job.started_at
    return last_seen is None or now - last_seen > timedelta(seconds=settings.EVAL_HEARTBEAT_STALE_S)


def _release_lost(job: EvalJob, *, now: datetime) -> None:
    """`job` (locked, running) lost its worker: queue it again, or end it when it was asked to
    stop, was seen running up to its time limit (it would not finish: the worker's hard limit
    kills it without a word) or has had every attempt."""
    last_seen = job.heartbeat_at or job.started_at or now
    job.interrupted_at = last_seen
    # Seen alive up to its soft time limit (give or take a heartbeat): it would not finish.
    ran_s = (last_seen - (job.started_at or last_seen)).total_seconds()
    ran_s += 2 * settings.EVAL_HEARTBEAT_INTERVAL_S
    if job.cancel_requested:
        job.status, job.finished_at = JobStatus.CANCELLED, now
    elif ran_s >= settings.EVAL_SOFT_TIME_LIMIT_S:
        job.status, job.finished_at = JobStatus.FAILED, now
        job.error = time_limit_message()
    elif job.attempts >= settings.EVAL_MAX_ATTEMPTS:
        job.status, job.finished_at = JobStatus.FAILED, now
        job.error = (
            f"Its worker was lost {job.attempts} times (last seen at {last_seen:%Y-%m-%d %H:%M:%S} "
            "UTC); not run again. Retry it as a new job once the workers are healthy."
        )
    else:
        job.status = JobStatus.QUEUED
        job.progress_done = 0
    job.save(update_fields=["status", "finished_at", "error", "interrupted_at", "progress_done"])


def eval_job_start(*, job_id: int, worker_host: str) -> EvalJob | None:
    """Claim job `job_id` for this worker, as its next attempt. None when it must not run:
    cancelled while queued, finished already, or running on a worker that is alive (a fresh
    heartbeat). A running job whose heartbeat is stale lost its worker and is claimed again."""
    now = timezone.now()
    with transaction.atomic():
        job = EvalJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None
        if job.status == JobStatus.RUNNING and _heartbeat_stale(job, now):
            _release_lost(job, now=now)
        if job.status != JobStatus.QUEUED:
            return None
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = job.heartbeat_at = now
        job.worker_host = worker_host
        job.progress_done = 0
        job.save(
            update_fields=[
                "status",
                "attempts",
                "started_at",
                "heartbeat_at",
                "worker_host",
                "progress_done",
            ]
        )
    return job


def _held(job_id: int, attempt: int):
    return EvalJob.objects.filter(pk=job_id, status=JobStatus.RUNNING, attempts=attempt)


def eval_job_heartbeat(*, job_id: int, attempt: int) -> bool:
    """Record that the worker holding `attempt` is alive; False when the job is no longer its."""
    return bool(_held(job_id, attempt).update(heartbeat_at=timezone.now()))


def eval_job_progress(*, job_id: int, attempt: int, done: int, total: int) -> bool:
    """Record progress (a heartbeat too); returns whether the worker should stop: a cancel was
    requested, or the job is no longer its own (claimed again after its heartbeat went stale)."""
    held = _held(job_id, attempt).update(
        progress_done=min(done, total), progress_total=total, heartbeat_at=timezone.now()
    )
    return not held or EvalJob.objects.filter(pk=job_id, cancel_requested=True).exists()


def eval_job_end(*, job_id: int, attempt: int, status: str, error: str = "") -> bool:
    """End the job with `status`; False (nothing written) when it is no longer this attempt's."""
    assert status in FINISHED
    return bool(
        _held(job_id, attempt).update(status=status, error=error, finished_at=timezone.now())
    )


@transaction.atomic
def eval_job_store_results(
    *, job_id: int, attempt: int, output: lmeval_runner.RunOutput, worker_host: str
) -> EvalRun | None:
    """Store the run and one row per (task, metric, filter) and mark the job succeeded, in one
    transaction: a job never shows half its results.

    Idempotent, keyed by the job: when the job already has its run (this store committed but
    the answer was lost, and the worker tries again), that run is returned and nothing is
    written. None when the job is no longer this attempt's: its results are not stored."""
    job = EvalJob.objects.select_for_update().get(pk=job_id)
    existing = EvalRun.objects.filter(job=job).first()
    if existing is not None:
        return existing
    if job.status != JobStatus.RUNNING or job.attempts != attempt:
        return None
    finished_at = timezone.now()
    run = EvalRun.objects.create(
        job=job,
        model=job.model,
        raw=output.raw,
        lm_eval_version=output.lm_eval_version or "",
        transformers_version=output.transformers_version or "",
        torch_version=output.torch_version or "",
        backend=job.backend,
        model_args=job.model_args,
        model_sha=output.model_sha or "",
        model_dtype=output.model_dtype or "",
        device=output.device or job.device,
        worker_host=worker_host,
        num_fewshot=job.num_fewshot,
        limit=job.limit,
        task_versions=output.task_versions,
        task_hashes=output.task_hashes,
        started_at=job.started_at,
        finished_at=finished_at,
        duration_s=(finished_at - job.started_at).total_seconds() if job.started_at else None,
    )
    metric_rows_store((run.pk, row) for row in output.metrics)
    job.status = JobStatus.SUCCEEDED
    job.finished_at = finished_at
    job.progress_total = max(job.progress_total, output.n_requests)
    job.progress_done = job.progress_total
    job.save(update_fields=["status", "finished_at", "progress_done", "progress_total"])
    return run


# ---------------------------------------------------------------- recovery (reconcile.py)


def _mark_sent(job: EvalJob, now: datetime) -> None:
    job.last_sent_at = now
    job.messages_sent += 1
    job.save(update_fields=["last_sent_at", "messages_sent"])
    transaction.on_commit(lambda: _send(job))


def eval_job_recover_lost(*, job_id: int) -> str | None:
    """A running job whose heartbeat is stale lost its worker: queue it again and send it, or
    end it (asked to cancel, past its time limit, out of attempts). Returns the status it now
    has; None when it turned out not to be lost (a heartbeat came, a worker holds the row)."""
    now = timezone.now()
    with transaction.atomic():
        job = EvalJob.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
        if job is None or job.status != JobStatus.RUNNING or not _heartbeat_stale(job, now):
            return None
        _release_lost(job, now=now)
        if job.status == JobStatus.QUEUED:
            _mark_sent(job, now)
    return job.status


def _send_due(job: EvalJob, now: datetime) -> bool:
    # The wait doubles with each message sent: a job waiting hours behind others in its queue
    # gathers a few duplicates, not hundreds.
    doublings = min(max(job.messages_sent - 1, 0), 16)
    wait_s = min(settings.EVAL_REQUEUE_AFTER_S * 2**doublings, settings.EVAL_REQUEUE_MAX_S)
    return now - (job.last_sent_at or job.created_at) >= timedelta(seconds=wait_s)


def eval_job_send_again(*, job_id: int) -> bool:
    """Send another message for a queued job that no worker started long after its last one
    (the broker may have lost it). A duplicate is harmless: eval_job_start claims a job once."""
    now = timezone.now()
    with transaction.atomic():
        job = EvalJob.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
        if job is None or job.status != JobStatus.QUEUED or not _send_due(job, now):
            return False
        _mark_sent(job, now)
    return True


_METRIC_COLUMNS = (
    "run_id", "task", "metric", "filter", "value", "stderr", "n_samples", "shots",
    "higher_is_better", "is_group",
)  # fmt: skip


def metric_rows_store(rows: Iterable[tuple[int, lmeval_runner.MetricRow]]) -> None:
    """Write (run id, metric row) pairs in bulk: PostgreSQL's COPY where we have it (a batch of
    imported files holds tens of thousands of rows), bulk_create elsewhere. Used for job results
    and imports alike."""
    values = (
        (run_id, r.task, r.metric, r.filter, r.value, r.stderr, r.n_samples, r.shots,
         r.higher_is_better, r.is_group)
        for run_id, r in rows
    )  # fmt: skip
    if connection.vendor != "postgresql":
        MetricResult.objects.bulk_create(
            (MetricResult(**dict(zip(_METRIC_COLUMNS, row, strict=True))) for row in values),
            batch_size=2000,
        )
        return
    table = connection.ops.quote_name(MetricResult._meta.db_table)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(_METRIC_COLUMNS)}) FROM STDIN") as copy,
    ):
        for row in values:
            copy.write_row(row)
