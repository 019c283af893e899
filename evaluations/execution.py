"""The worker side of a job: claim it, run lm-eval through the runner, record the outcome.

A Celery worker process keeps one Runner (and with it lm-eval's task index and the last loaded
model) for its lifetime, so consecutive jobs do not pay start-up again.

Faults: while a job runs, a thread writes its heartbeat every EVAL_HEARTBEAT_INTERVAL_S, so the
reconciler can tell a worker that died from one that is busy. Writes are retried with backoff
while the database does not answer (EVAL_DB_RETRY_FOR_S); a lost progress write is skipped.
Every write names the attempt this worker claimed: once the job was claimed again elsewhere,
this worker stops and writes nothing."""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection

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


T = TypeVar("T")


def with_db_retry(what: str, write: Callable[[], T]) -> T:
    """`write()`, tried again with backoff (0.5 s, doubling to 8 s) while the database does not
    answer, for up to EVAL_DB_RETRY_FOR_S; then the error is raised. `write` must be safe to
    repeat: one transaction, idempotent."""
    deadline = time.monotonic() + settings.EVAL_DB_RETRY_FOR_S
    delay = 0.5
    while True:
        try:
            return write()
        except (OperationalError, InterfaceError) as exc:
            if connection.in_atomic_block or time.monotonic() + delay > deadline:
                raise
            logger.warning("%s: database error (%s); trying again in %.1f s", what, exc, delay)
            connection.close()  # reconnect on the next query
            time.sleep(delay)
            delay = min(delay * 2, 8.0)


class _Heartbeat:
    """Writes the job's heartbeat from a thread of its own, so the job shows signs of life while
    a model loads or one long request runs (lm-eval reports no progress then). `lost` turns
    true when the job is no longer this attempt's."""

    def __init__(self, job_id: int, attempt: int):
        self.job_id, self.attempt = job_id, attempt
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _beat(self) -> None:
        try:
            while not self._stop.wait(settings.EVAL_HEARTBEAT_INTERVAL_S):
                try:
                    held = services.eval_job_heartbeat(job_id=self.job_id, attempt=self.attempt)
                except DatabaseError as exc:
                    logger.warning("Job %s: heartbeat not written (%s)", self.job_id, exc)
                    connection.close()
                    continue
                if not held:
                    self.lost = True
                    return
        finally:
            connection.close()  # this thread's own connection


class _ProgressWriter:
    """Writes progress to the job every EVAL_PROGRESS_INTERVAL_S at most, and tells the runner to
    stop when a cancel was requested or the job is no longer this attempt's."""

    def __init__(self, job_id: int, attempt: int, heartbeat: _Heartbeat):
        self.job_id, self.attempt = job_id, attempt
        self._heartbeat = heartbeat
        self._last_write = 0.0
        self._stop = False

    def report(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last_write < settings.EVAL_PROGRESS_INTERVAL_S and done < total:
            return
        self._last_write = now
        try:
            self._stop = services.eval_job_progress(
                job_id=self.job_id, attempt=self.attempt, done=done, total=total
            )
        except DatabaseError as exc:  # progress is not worth stopping a run for
            logger.warning("Job %s: progress not written (%s)", self.job_id, exc)
            connection.close()

    def should_stop(self) -> bool:
        return self._stop or self._heartbeat.lost


def eval_job_execute(*, job_id: int) -> str:
    """Run job `job_id` if it is queued (or lost its worker); returns the status it ended with,
    or "skipped" when there was nothing to run and "superseded" when the job was claimed again
    elsewhere while this worker ran it."""
    worker_host = socket.gethostname()
    job = with_db_retry(
        f"Claiming job {job_id}",
        lambda: services.eval_job_start(job_id=job_id, worker_host=worker_host),
    )
    if job is None:
        return "skipped"
    attempt = job.attempts
    with _Heartbeat(job.pk, attempt) as heartbeat:
        status, error, output = _run(job, _ProgressWriter(job.pk, attempt, heartbeat))
        if output is not None:
            stored = with_db_retry(
                f"Storing the results of job {job.pk}",
                lambda: services.eval_job_store_results(
                    job_id=job.pk, attempt=attempt, output=output, worker_host=worker_host
                ),
            )
            return JobStatus.SUCCEEDED if stored is not None else "superseded"
        ended = with_db_retry(
            f"Ending job {job.pk}",
            lambda: services.eval_job_end(
                job_id=job.pk, attempt=attempt, status=status, error=error
            ),
        )
        return status if ended else "superseded"


def _run(
    job: EvalJob, progress: _ProgressWriter
) -> tuple[str, str, lmeval_runner.RunOutput | None]:
    """(status, error, output): the output when the run succeeded, else how it ended."""
    try:
        output = runner().run(
            run_request_for(job), on_progress=progress.report, should_cancel=progress.should_stop
        )
    except lmeval_runner.RunCancelled:
        return JobStatus.CANCELLED, "", None
    except lmeval_runner.RunFailed as exc:
        if isinstance(exc.__cause__, SoftTimeLimitExceeded):  # raised inside lm-eval
            return JobStatus.FAILED, services.time_limit_message(), None
        logger.warning("Job %s failed: %s", job.pk, exc)
        return JobStatus.FAILED, str(exc), None
    except SoftTimeLimitExceeded:
        return JobStatus.FAILED, services.time_limit_message(), None
    return JobStatus.SUCCEEDED, "", output
