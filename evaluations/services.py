"""Writes for evaluation jobs: queueing, cancelling, retrying, and what the worker records."""

from __future__ import annotations

import importlib.metadata
from dataclasses import asdict

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from config.errors import ApplicationError

from . import lmeval_runner
from .models import FINISHED, EvalJob, EvalRun, JobStatus, MetricResult
from .specs import JobSpec, job_spec_validate, queue_for


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
    that is not there yet."""
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
        job.full_clean()
        job.save()
        if reusable is None:
            transaction.on_commit(lambda: _send(job))
    return job


def _send(job: EvalJob) -> None:
    from .tasks import run_eval_job

    run_eval_job.apply_async(args=[job.pk], queue=job.queue, priority=job.priority)


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
    spec = JobSpec(
        model_key=job.model.key,
        backend=job.backend,
        tasks=tuple(job.tasks),
        model_args=dict(job.model_args),
        num_fewshot=job.num_fewshot,
        limit=job.limit,
        batch_size=job.batch_size,
        seed=job.seed,
        apply_chat_template=job.apply_chat_template,
        device=job.device,
        priority=job.priority,
    )
    return eval_job_create(
        spec=spec, requested_by=requested_by, requested_via=requested_via, force=True, retry_of=job
    )


# ---------------------------------------------------------------- worker side


def eval_job_start(*, job_id: int, worker_host: str) -> EvalJob | None:
    """Claim a queued job for this worker. None when it must not run: cancelled while queued,
    finished already, or running elsewhere (a message delivered twice)."""
    with transaction.atomic():
        job = EvalJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != JobStatus.QUEUED:
            return None
        job.status = JobStatus.RUNNING
        job.started_at = timezone.now()
        job.worker_host = worker_host
        job.save(update_fields=["status", "started_at", "worker_host"])
    return job


def eval_job_progress(*, job_id: int, done: int, total: int) -> bool:
    """Record progress; returns whether a cancel was requested meanwhile."""
    EvalJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
        progress_done=min(done, total), progress_total=total
    )
    return EvalJob.objects.filter(pk=job_id, cancel_requested=True).exists()


def eval_job_end(*, job_id: int, status: str, error: str = "") -> None:
    assert status in FINISHED
    EvalJob.objects.filter(pk=job_id).exclude(status__in=FINISHED).update(
        status=status, error=error, finished_at=timezone.now()
    )


@transaction.atomic
def eval_job_store_results(
    *, job_id: int, output: lmeval_runner.RunOutput, worker_host: str
) -> EvalRun:
    """Store the run and one row per (task, metric, filter) and mark the job succeeded, in one
    transaction: a job never shows half its results."""
    job = EvalJob.objects.select_for_update().get(pk=job_id)
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
    MetricResult.objects.bulk_create(
        MetricResult(
            run=run,
            task=row.task,
            metric=row.metric,
            filter=row.filter,
            value=row.value,
            stderr=row.stderr,
            n_samples=row.n_samples,
            shots=row.shots,
            higher_is_better=row.higher_is_better,
            is_group=row.is_group,
        )
        for row in output.metrics
    )
    job.status = JobStatus.SUCCEEDED
    job.finished_at = finished_at
    job.progress_total = max(job.progress_total, output.n_requests)
    job.progress_done = job.progress_total
    job.save(update_fields=["status", "finished_at", "progress_done", "progress_total"])
    return run
