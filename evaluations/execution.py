"""The worker side of a job: claim it, run lm-eval through the runner, record the outcome.

A Celery worker process keeps one Runner (and with it lm-eval's task index and the last loaded
model) for its lifetime, so consecutive jobs do not pay start-up again."""

from __future__ import annotations

import hashlib
import logging
import socket
import time

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from . import lmeval_runner, services
from .domain_sets import write_lm_eval_task
from .models import DomainEvalSet, EvalJob, JobStatus
from .specs import task_include_paths

logger = logging.getLogger(__name__)

_runner: lmeval_runner.Runner | None = None


def runner() -> lmeval_runner.Runner:
    global _runner
    if _runner is None:
        _runner = lmeval_runner.Runner(offline=settings.EVAL_HF_OFFLINE)
    return _runner


def run_request_for(job: EvalJob) -> lmeval_runner.RunRequest:
    return lmeval_runner.RunRequest(
        backend=job.backend,
        model_args=job.model_args,
        tasks=tuple(job.tasks),
        num_fewshot=job.num_fewshot,
        limit=job.limit,
        batch_size=job.batch_size,
        seed=job.seed,
        apply_chat_template=job.apply_chat_template,
        device=job.device or None,
        cache_path=str(_cache_path(job)),
        include_paths=(*task_include_paths(), *_domain_task_dirs(job.tasks)),
    )


def _domain_task_dirs(tasks: list[str]) -> tuple[str, ...]:
    """Write the job's domain evaluation sets out as lm-eval tasks on this worker (from the
    database: workers share no file system). Each version is its own task name and file."""
    sets = DomainEvalSet.objects.filter(task_name__in=tasks)
    if not sets:
        return ()
    folder = settings.EVAL_CACHE_DIR / "domain-tasks"
    for domain_set in sets:
        write_lm_eval_task(
            folder, task_name=domain_set.task_name, kind=domain_set.kind, rows=domain_set.rows
        )
    return (str(folder),)


def _cache_path(job: EvalJob) -> object:
    """lm-eval's request cache keys ignore the model: one cache per model and revision."""
    identity = f"{job.backend}|{job.model_args.get('pretrained') or job.model_args.get('model')}"
    identity += f"|{job.model_args.get('revision', '')}|{job.model_args.get('dtype', '')}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    folder = settings.EVAL_CACHE_DIR / "requests"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{job.model.key}-{digest}"


class _ProgressWriter:
    """Writes progress to the job at most once a second and tells the runner of a cancel."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self._last_write = 0.0
        self._cancel = False

    def report(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last_write < settings.EVAL_PROGRESS_INTERVAL_S and done < total:
            return
        self._last_write = now
        self._cancel = services.eval_job_progress(job_id=self.job_id, done=done, total=total)

    def cancel_requested(self) -> bool:
        return self._cancel


def eval_job_execute(*, job_id: int) -> str:
    """Run job `job_id` if it is still queued; returns the status it ended with."""
    worker_host = socket.gethostname()
    job = services.eval_job_start(job_id=job_id, worker_host=worker_host)
    if job is None:
        return "skipped"
    progress = _ProgressWriter(job.pk)
    try:
        output = runner().run(
            run_request_for(job),
            on_progress=progress.report,
            should_cancel=progress.cancel_requested,
        )
    except lmeval_runner.RunCancelled:
        services.eval_job_end(job_id=job.pk, status=JobStatus.CANCELLED)
        return JobStatus.CANCELLED
    except lmeval_runner.RunFailed as exc:
        logger.warning("Job %s failed: %s", job.pk, exc)
        services.eval_job_end(job_id=job.pk, status=JobStatus.FAILED, error=str(exc))
        return JobStatus.FAILED
    except SoftTimeLimitExceeded:
        limit = settings.EVAL_SOFT_TIME_LIMIT_S
        services.eval_job_end(
            job_id=job.pk,
            status=JobStatus.FAILED,
            error=f"Stopped: the job ran past its time limit of {limit} seconds.",
        )
        return JobStatus.FAILED
    services.eval_job_store_results(job_id=job.pk, output=output, worker_host=worker_host)
    return JobStatus.SUCCEEDED
