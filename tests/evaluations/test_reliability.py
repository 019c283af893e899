"""Evaluation jobs survive faults.

First the rules, on the services alone: claims, attempts, fenced and idempotent writes, the
reconciler. Then the faults themselves (`integration`): real Celery workers, a Redis server of
this module's own and PostgreSQL, killed, restarted or cut off while jobs run, many times over.

Each fault test counts its trials: jobs finished, lost (not finished in time) and duplicated
(more than one set of results). With RIGHTSIZE_RELIABILITY_REPORT=<file.md> the counts are
written there as a table (docs/reliability.md holds a recorded run)."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from evaluations import execution, services
from evaluations.demo import demo_model_ensure
from evaluations.lmeval_runner import MetricRow, RunOutput
from evaluations.models import EvalJob, EvalRun, JobStatus, MetricResult, RequestedVia
from evaluations.reconcile import eval_jobs_reconcile
from evaluations.services import eval_job_create
from evaluations.specs import JobSpec

from ..factories import UserFactory
from .factories import EvalJobFactory
from .worker import WorkerProcess, worker_database_url


def integration(test):
    """Starts real processes: PostgreSQL needed, and redis-server to start one of our own."""
    for mark in (
        pytest.mark.integration,
        pytest.mark.django_db(transaction=True),
        pytest.mark.skipif(
            not (settings.POSTGRES_AVAILABLE and shutil.which("redis-server")),
            reason="needs the real PostgreSQL and redis-server",
        ),
    ):
        test = mark(test)
    return test


# ------------------------------------------------------------------------------ the rules
@pytest.fixture
def sent(monkeypatch) -> list[int]:
    """Job ids sent to the broker (nothing is sent)."""
    ids: list[int] = []
    monkeypatch.setattr(services, "_send", lambda job: ids.append(job.pk))
    return ids


@pytest.fixture
def fault_settings(settings):
    settings.EVAL_HEARTBEAT_INTERVAL_S = 10
    settings.EVAL_HEARTBEAT_STALE_S = 120
    settings.EVAL_REQUEUE_AFTER_S = 600
    settings.EVAL_REQUEUE_MAX_S = 3600
    settings.EVAL_MAX_ATTEMPTS = 3
    settings.EVAL_SOFT_TIME_LIMIT_S = 6 * 3600
    return settings


def _ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


def _running_job(*, attempts: int = 1, heartbeat_s_ago: float = 1, **fields) -> EvalJob:
    return EvalJobFactory(
        status=JobStatus.RUNNING,
        attempts=attempts,
        started_at=_ago(heartbeat_s_ago + 60),
        heartbeat_at=_ago(heartbeat_s_ago),
        progress_done=5,
        progress_total=10,
        **fields,
    )


def _output() -> RunOutput:
    row = MetricRow("rightsize_demo_mc", "acc", "none", 0.5, 0.1, True, 8, 0, False)
    return RunOutput(
        raw={}, metrics=[row], lm_eval_version="0.4", transformers_version=None, torch_version=None
    )


@pytest.mark.django_db
def test_a_queued_job_is_claimed_once_as_its_first_attempt(fault_settings):
    job = EvalJobFactory()

    claimed = services.eval_job_start(job_id=job.pk, worker_host="a")
    again = services.eval_job_start(job_id=job.pk, worker_host="b")

    assert claimed.status == JobStatus.RUNNING and claimed.attempts == 1
    assert claimed.heartbeat_at is not None
    assert again is None  # a duplicate message: another worker has it


@pytest.mark.django_db
def test_a_running_job_with_a_stale_heartbeat_is_claimed_again_as_the_next_attempt(
    fault_settings,
):
    job = _running_job(heartbeat_s_ago=300)
    last_seen = job.heartbeat_at

    claimed = services.eval_job_start(job_id=job.pk, worker_host="b")

    assert claimed.attempts == 2 and claimed.worker_host == "b"
    assert claimed.interrupted_at == last_seen
    assert claimed.progress_done == 0


@pytest.mark.django_db
def test_a_job_whose_worker_is_lost_on_its_last_attempt_ends_failed(fault_settings):
    job = _running_job(attempts=3, heartbeat_s_ago=300)

    assert services.eval_job_start(job_id=job.pk, worker_host="b") is None

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "worker was lost 3 times" in job.error


@pytest.mark.django_db
def test_a_lost_job_that_was_asked_to_stop_ends_cancelled(fault_settings, sent):
    job = _running_job(heartbeat_s_ago=300, cancel_requested=True)

    report = eval_jobs_reconcile()

    assert report.ended == {job.pk: JobStatus.CANCELLED} and not sent


@pytest.mark.django_db
def test_a_lost_job_seen_up_to_its_time_limit_ends_failed_saying_so(fault_settings, sent):
    fault_settings.EVAL_SOFT_TIME_LIMIT_S = 600
    job = _running_job(heartbeat_s_ago=300)
    EvalJob.objects.filter(pk=job.pk).update(started_at=_ago(300 + 600))

    eval_jobs_reconcile()

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "ran past its time limit of 600 seconds" in job.error


@pytest.mark.django_db
def test_writes_of_an_attempt_that_was_superseded_change_nothing(fault_settings):
    job = _running_job(attempts=2)

    assert services.eval_job_progress(job_id=job.pk, attempt=1, done=9, total=10) is True
    assert services.eval_job_heartbeat(job_id=job.pk, attempt=1) is False
    assert services.eval_job_end(job_id=job.pk, attempt=1, status=JobStatus.FAILED) is False
    stored = services.eval_job_store_results(
        job_id=job.pk, attempt=1, output=_output(), worker_host="old"
    )

    assert stored is None
    job.refresh_from_db()
    assert (job.status, job.progress_done) == (JobStatus.RUNNING, 5)


@pytest.mark.django_db
def test_storing_results_again_returns_the_stored_run_and_writes_nothing(fault_settings):
    job = _running_job()

    first = services.eval_job_store_results(
        job_id=job.pk, attempt=1, output=_output(), worker_host="a"
    )
    again = services.eval_job_store_results(
        job_id=job.pk, attempt=1, output=_output(), worker_host="a"
    )

    assert again == first
    assert EvalRun.objects.filter(job=job).count() == 1
    assert MetricResult.objects.filter(run__job=job).count() == 1


@pytest.mark.django_db
def test_the_reconciler_queues_again_and_sends_a_job_whose_worker_went_quiet(
    fault_settings, sent, django_capture_on_commit_callbacks
):
    lost = _running_job(heartbeat_s_ago=300)
    alive = _running_job(heartbeat_s_ago=5)

    with django_capture_on_commit_callbacks(execute=True):
        report = eval_jobs_reconcile()

    assert report.requeued == [lost.pk] and sent == [lost.pk]
    lost.refresh_from_db()
    alive.refresh_from_db()
    assert lost.status == JobStatus.QUEUED and lost.interrupted_at and lost.last_sent_at
    assert alive.status == JobStatus.RUNNING


@pytest.mark.django_db
def test_the_reconciler_sends_again_a_job_queued_too_long_with_a_doubling_wait(
    fault_settings, sent, django_capture_on_commit_callbacks
):
    waited = EvalJobFactory(last_sent_at=_ago(700), messages_sent=1)
    fresh = EvalJobFactory(last_sent_at=_ago(60), messages_sent=1)
    sent_twice = EvalJobFactory(last_sent_at=_ago(700), messages_sent=2)  # waits 1200 s now

    with django_capture_on_commit_callbacks(execute=True):
        report = eval_jobs_reconcile()

    assert report.resent == [waited.pk] and sent == [waited.pk]
    waited.refresh_from_db()
    assert waited.messages_sent == 2
    assert fresh.pk not in sent and sent_twice.pk not in sent


@pytest.mark.django_db
def test_a_job_refused_by_the_broker_stays_queued_for_the_reconciler(
    monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError as BrokerError

    from evaluations.tasks import run_eval_job

    def refuse(*args, **kwargs):
        raise BrokerError("Connection refused")

    monkeypatch.setattr(run_eval_job, "apply_async", refuse)
    job = EvalJobFactory()

    with django_capture_on_commit_callbacks(execute=True):
        services._mark_sent(job, timezone.now())

    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.messages_sent == 1


def test_a_write_is_retried_while_the_database_does_not_answer_then_given_up(monkeypatch, settings):
    settings.EVAL_DB_RETRY_FOR_S = 10
    clock = SimpleNamespace(now=0.0)
    fake_time = SimpleNamespace(
        monotonic=lambda: clock.now, sleep=lambda s: setattr(clock, "now", clock.now + s)
    )
    monkeypatch.setattr(execution, "time", fake_time)
    calls = []

    def flaky():
        calls.append(clock.now)
        if len(calls) < 3:
            raise OperationalError("server closed the connection unexpectedly")
        return "stored"

    assert execution.with_db_retry("Storing", flaky) == "stored"
    assert calls == [0.0, 0.5, 1.5]  # backing off

    def down():
        raise OperationalError("connection refused")

    clock.now = 0.0
    with pytest.raises(OperationalError):
        execution.with_db_retry("Storing", down)
    assert clock.now <= 10


@pytest.mark.django_db
def test_the_job_page_tells_of_an_interruption(client, fault_settings):
    job = EvalJobFactory(attempts=2, interrupted_at=_ago(60), status=JobStatus.QUEUED)
    client.force_login(UserFactory(role="Engineers"))

    page = client.get(reverse("evaluations:job-detail", args=[job.pk])).content.decode()

    assert "Interrupted at" in page and "queued to run again" in page and "Attempts: 2" in page


# ------------------------------------------------------------------------------ the faults
KILL_TRIALS = 20
WHOLE_WORKER_EVERY = 5  # every fifth kill takes the main process too, not only the pool process
REDIS_RESTARTS = 5
DB_OUTAGES = 5
DB_OUTAGE_S = 2.5
DOCS_PER_TASK = 150  # 600 requests: a second or two of the tiny model's time
LONG_DOCS = 3000  # longer than any time limit used here
FINISH_TIMEOUT_S = 90

# Short fault-detection times, so that a trial takes seconds (production: settings/base.py).
FAULT_ENV = {
    "EVAL_HEARTBEAT_INTERVAL_S": "0.5",
    "EVAL_HEARTBEAT_STALE_S": "2",
    "EVAL_REQUEUE_AFTER_S": "2",
    "EVAL_REQUEUE_MAX_S": "2",
    "EVAL_RECONCILE_EVERY_S": "1",
    "EVAL_MAX_ATTEMPTS": "3",
    "EVAL_DB_RETRY_FOR_S": "30",
    # The tiny model on a small shared machine: one thread per process beats several contending.
    "OMP_NUM_THREADS": "1",
}


# ------------------------------------------------------------------------------ the processes
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of this module's own, with no persistence: a restart loses every message."""

    def __init__(self, folder: Path):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._folder = folder
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self._folder)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class TcpProxy:
    """Forwards a local port to PostgreSQL. `cut()` drops every connection and refuses new ones
    until `restore()`: to the worker behind it the database has gone away."""

    def __init__(self, target_port: int):
        self.port = _free_port()
        self._target = ("127.0.0.1", target_port)
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        self._listener.close()
        with self._lock:
            doomed, self._sockets = self._sockets, set()
        for sock in doomed:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while listener.fileno() != -1:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            with self._lock:
                self._sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


# ------------------------------------------------------------------------------ counting
@dataclass
class Tally:
    fault: str
    trials: int = 0
    jobs: int = 0
    finished: int = 0
    lost: int = 0
    duplicated: int = 0
    attempts: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def count(self, job: EvalJob, *, expect: str = JobStatus.SUCCEEDED) -> None:
        """Count one job after its trial: ended as expected (succeeded: with one set of
        results), or not."""
        job.refresh_from_db()
        self.jobs += 1
        runs = EvalRun.objects.filter(job=job).count()
        rows = MetricResult.objects.filter(run__job=job)
        if job.status == expect and runs == (1 if expect == JobStatus.SUCCEEDED else 0):
            self.finished += 1
        else:
            self.lost += 1
        # One run per job is a database constraint; one row per metric is what lm-eval returned.
        if runs > 1 or rows.count() > 1 or any(row.n_samples != DOCS_PER_TASK for row in rows):
            self.duplicated += 1
        self.attempts[job.attempts] += 1

    def as_row(self, seconds: float) -> dict:
        return {
            "fault": self.fault,
            "trials": self.trials,
            "jobs": self.jobs,
            "finished": self.finished,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "attempts": dict(sorted(self.attempts.items())),
            "notes": "; ".join(self.notes),
            "seconds": round(seconds),
        }


_REPORT: list[dict] = []


@pytest.fixture(scope="module", autouse=True)
def reliability_report():
    yield
    target = os.environ.get("RIGHTSIZE_RELIABILITY_REPORT")
    if not target or not _REPORT:
        return
    Path(target).write_text(_report_markdown(_REPORT))


@pytest.fixture
def tally(request):
    started = time.monotonic()
    tallies: list[Tally] = []

    def make(fault: str) -> Tally:
        tallies.append(Tally(fault))
        return tallies[-1]

    yield make
    _REPORT.extend(tally.as_row(time.monotonic() - started) for tally in tallies)
    print(json.dumps([tally.as_row(time.monotonic() - started) for tally in tallies]))


def _report_markdown(rows: list[dict]) -> str:
    lines = [
        "# Reliability of evaluation jobs",
        "",
        "Faults injected into real processes by `tests/evaluations/test_reliability.py`:",
        "Celery workers (prefork, late acknowledgement, prefetch 1), Celery beat with the worker",
        "that runs the reconciler, a redis-server of the test's own (no persistence) and",
        f"PostgreSQL; the tiny local GPT-2 answers {DOCS_PER_TASK}-question lm-eval tasks on the",
        "CPU. Fault detection is shortened for the test: heartbeat every 0.5 s, stale after 2 s,",
        "reconciler every 1 s, queued jobs sent again after 2 s (production defaults: README,",
        "Evaluation jobs).",
        "",
        "*finished*: ended as expected (succeeded with exactly one stored run; the job over its",
        f"time limit: failed, saying so, with none); *lost*: did not, within {FINISH_TIMEOUT_S} s;",
        "*duplicated*: more than one run, or more metric rows than lm-eval returned; *attempts*:",
        "times a worker claimed the job.",
        "",
        "Recorded by `RIGHTSIZE_RELIABILITY_REPORT=docs/reliability.md .venv/bin/python -m pytest"
        " tests/evaluations/test_reliability.py` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}: {platform.platform()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; load average "
        f"{os.getloadavg()[1]:.1f} over the last 5 minutes (a machine shared with other runs).",
        "",
        "| fault | trials | jobs | finished | lost | duplicated | attempts per job | seconds |",
        "|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for row in rows:
        attempts = ", ".join(f"{n}: {count}" for n, count in row["attempts"].items())
        lines.append(
            f"| {row['fault']} | {row['trials']} | {row['jobs']} | {row['finished']} "
            f"| {row['lost']} | {row['duplicated']} | {attempts} | {row['seconds']} |"
        )
    notes = [f"- {row['fault']}: {row['notes']}" for row in rows if row["notes"]]
    return "\n".join([*lines, "", *notes, ""]) if notes else "\n".join([*lines, ""])


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    """This module's own Redis; the test process sends its jobs there too."""
    from config.celery import app

    def use(url: str) -> None:
        # Celery reads CELERY_BROKER_URL from the environment before its configuration, and the
        # app keeps connection and producer pools: drop them to connect to the new URL.
        patch.setenv("CELERY_BROKER_URL", url)
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    old_url = app.conf.broker_url
    with pytest.MonkeyPatch.context() as patch:
        use(server.url)
        try:
            yield server
        finally:
            use(old_url)
            server.kill()


@pytest.fixture(scope="module")
def rel_tasks(tmp_path_factory) -> Path:
    """Local lm-eval tasks, one per job, so that no job is answered from another's request cache:
    `rightsize_rel_<n>` (DOCS_PER_TASK questions) and `rightsize_rel_long` (LONG_DOCS)."""
    folder = tmp_path_factory.mktemp("reliability-tasks")
    sizes = {f"rightsize_rel_{n}": DOCS_PER_TASK for n in range(60)}
    sizes["rightsize_rel_long"] = LONG_DOCS
    for name, n_docs in sizes.items():
        docs = folder / f"{name}.jsonl"
        with docs.open("w") as out:
            for n in range(n_docs):
                question = f"{name}, question {n}: which of these words comes first?"
                line = {"question": question, "choices": ["a", "b", "c", "d"], "answer": n % 4}
                out.write(json.dumps(line) + "\n")
        (folder / f"{name}.yaml").write_text(
            f"task: {name}\ndataset_path: json\n"
            f"dataset_kwargs:\n  data_files:\n    test: {docs}\n"
            "test_split: test\noutput_type: multiple_choice\n"
            "doc_to_text: '{{question}}'\ndoc_to_choice: '{{choices}}'\n"
            "doc_to_target: '{{answer}}'\nmetric_list:\n  - metric: acc\n"
        )
    return folder


@pytest.fixture
def demo_model(transactional_db, settings, rel_tasks):
    settings.EVAL_TASK_DIRS = [rel_tasks]
    return demo_model_ensure()


@pytest.fixture
def start_worker(demo_model, rel_tasks, tmp_path):
    """Start workers (stopped after the test, before the database is emptied)."""
    started: list[WorkerProcess] = []
    cache = tmp_path / "lm-eval-cache"  # a request cache of this test's own

    def start(*, broker_url: str, queues: str = "cpu", wait: bool = True, **options):
        extra_env = {
            **FAULT_ENV,
            "EVAL_TASK_DIRS": str(rel_tasks),
            "EVAL_CACHE_DIR": str(cache),
            **options.pop("extra_env", {}),
        }
        worker = WorkerProcess(
            queues=queues,
            log_path=tmp_path / f"worker-{len(started)}.log",
            extra_env=extra_env,
            broker_url=broker_url,
            **options,
        )
        started.append(worker)
        if wait:
            worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def reconciler(start_worker, broker, tmp_path):
    """Celery beat with a worker of its own for the default queue, as in docker-compose.yml."""
    return start_worker(
        broker_url=broker.url,
        queues="default",  # its worker process runs the reconciler
        wait=False,
        extra_args=("--beat", f"--schedule={tmp_path / 'beat-schedule'}"),
    )


def _job(model, task: str) -> EvalJob:
    spec = JobSpec(model_key=model.key, backend="hf", tasks=(task,), device="cpu")
    return eval_job_create(spec=spec, requested_by=None, requested_via=RequestedVia.CLI, force=True)


def _wait(job: EvalJob, until, timeout: float = FINISH_TIMEOUT_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if until(job):
            return True
        time.sleep(0.02)
    return False


def _running(job: EvalJob) -> bool:
    """Running and answering (or already over: the caller checks which)."""
    return (job.status == JobStatus.RUNNING and job.progress_done > 0) or job.is_finished


def _finished(job: EvalJob) -> bool:
    return job.is_finished


# ------------------------------------------------------------------------------ the faults
@integration
def test_a_worker_killed_mid_job_runs_it_again_and_stores_one_set_of_results(
    broker, reconciler, start_worker, demo_model, tally, client
):
    counts = tally("Worker killed with SIGKILL during a job")
    # Two workers, one job each per round: both killed at once, both jobs recovered.
    workers = [start_worker(broker_url=broker.url, wait=False) for _ in range(2)]
    for worker in [*workers, reconciler]:
        worker.wait_ready()
    tasks = (f"rightsize_rel_{n}" for n in range(KILL_TRIALS))
    jobs, whole, recovery_s = [], 0, []
    for round_ in range(KILL_TRIALS // 2):
        pair = [_job(demo_model, next(tasks)) for _ in workers]
        for job in pair:
            assert _wait(job, _running) and job.status == JobStatus.RUNNING, [
                worker.log()[-2000:] for worker in workers
            ]
        for n, worker in enumerate(workers):
            if (2 * round_ + n) % WHOLE_WORKER_EVERY == WHOLE_WORKER_EVERY - 1:
                worker.kill(signal.SIGKILL)  # main process and pool: a node lost
                workers[n] = start_worker(broker_url=broker.url, wait=False)
                whole += 1
            else:
                worker.kill_pool_process(signal.SIGKILL)  # as the out-of-memory killer does
            counts.trials += 1
        killed_at = timezone.now()
        for job in pair:
            _wait(job, _finished)
            counts.count(job)
            if job.finished_at:
                recovery_s.append((job.finished_at - killed_at).total_seconds())
        jobs += pair
    recovery_s.sort()
    counts.notes.append(
        f"{KILL_TRIALS - whole} kills of the pool process running the job (the worker starts "
        f"another), {whole} of the whole worker (a new worker started); from the kill to the "
        f"stored results {recovery_s[0]:.1f} to {recovery_s[-1]:.1f} s, median "
        f"{recovery_s[len(recovery_s) // 2]:.1f} s"
    )

    assert counts.finished == counts.jobs == KILL_TRIALS, [
        (job.pk, job.status, job.error) for job in jobs if job.status != JobStatus.SUCCEEDED
    ]
    assert counts.duplicated == 0
    assert all(job.attempts >= 2 and job.interrupted_at for job in jobs)
    # The job page tells of the interruption.
    client.force_login(UserFactory(role="Engineers"))
    page = client.get(reverse("evaluations:job-detail", args=[jobs[-1].pk])).content.decode()
    assert "Interrupted at" in page and f"Attempts: {jobs[-1].attempts}" in page


@integration
def test_a_redis_restart_loses_no_queued_or_running_job(
    broker, reconciler, start_worker, demo_model, tally
):
    counts = tally("Redis restarted (no persistence) with jobs queued and running")
    workers = [start_worker(broker_url=broker.url, wait=False) for _ in range(2)]
    for worker in [*workers, reconciler]:
        worker.wait_ready()
    tasks = (f"rightsize_rel_{n}" for n in range(60))
    jobs = []
    for _ in range(REDIS_RESTARTS):
        running = [_job(demo_model, next(tasks)) for _ in workers]
        queued = [_job(demo_model, next(tasks)) for _ in range(2)]
        for job in running:
            assert _wait(job, _running) and job.status == JobStatus.RUNNING, [
                worker.log()[-2000:] for worker in workers
            ]
        broker.kill()
        # Queued while Redis is down: the broker refuses its message; the job stays queued.
        refused = _job(demo_model, next(tasks))
        time.sleep(1)
        broker.start()
        counts.trials += 1
        trial_jobs = [*running, *queued, refused]
        for job in trial_jobs:
            _wait(job, _finished)
            counts.count(job)
        jobs += trial_jobs
    resent = sum(job.messages_sent > 1 for job in jobs)
    counts.notes.append(
        "per restart: 2 jobs running, 2 queued in Redis, 1 queued while Redis was down; "
        f"{resent} of {len(jobs)} jobs were sent again by the reconciler"
    )

    assert counts.finished == counts.jobs == 5 * REDIS_RESTARTS, [
        (job.pk, job.status, job.error) for job in jobs if job.status != JobStatus.SUCCEEDED
    ]
    assert counts.duplicated == 0
    assert all(worker.alive() for worker in workers)
    assert all(job.messages_sent > 1 for job in jobs[4::5])  # those the broker refused


@integration
def test_a_database_outage_while_storing_results_is_retried_and_stores_them_once(
    broker, start_worker, demo_model, tally
):
    counts = tally("PostgreSQL unreachable while the worker stores results")
    proxy = TcpProxy(int(settings.DATABASES["default"]["PORT"] or 5432))
    try:
        worker = start_worker(
            broker_url=broker.url, database_url=worker_database_url(port=proxy.port)
        )
        retried, outages = 0, []
        for trial in range(DB_OUTAGES):
            job = _job(demo_model, f"rightsize_rel_{trial}")
            assert _wait(job, _running) and job.status == JobStatus.RUNNING, worker.log()[-3000:]
            proxy.cut()
            cut_at = time.monotonic()
            # The outage lasts DB_OUTAGE_S, and on until the worker's store has met it.
            store_failed = f"Storing the results of job {job.pk}: database error"
            while time.monotonic() - cut_at < DB_OUTAGE_S or (
                store_failed not in worker.log() and time.monotonic() - cut_at < 30
            ):
                time.sleep(0.1)
            proxy.restore()
            outages.append(time.monotonic() - cut_at)
            counts.trials += 1
            _wait(job, _finished)
            counts.count(job)
            retried += store_failed in worker.log()
    finally:
        proxy.close()
    counts.notes.append(
        f"outages of {min(outages):.1f} to {max(outages):.1f} s; the store met the outage and "
        f"was retried in {retried} of {DB_OUTAGES} trials"
    )

    assert counts.finished == counts.jobs == DB_OUTAGES
    assert counts.duplicated == 0
    assert retried == DB_OUTAGES, worker.log()[-3000:]


@integration
def test_a_job_over_its_time_limit_fails_saying_so_and_the_worker_takes_the_next(
    broker, start_worker, demo_model, tally
):
    counts = tally("Job over its soft time limit, then the next job on the same worker")
    limit = 15  # past the first job's start-up (imports, model load) on a busy machine
    worker = start_worker(
        broker_url=broker.url,
        extra_env={"EVAL_SOFT_TIME_LIMIT_S": str(limit), "EVAL_TIME_LIMIT_S": str(limit + 20)},
    )
    first = _job(demo_model, "rightsize_rel_0")
    assert _wait(first, _finished), worker.log()[-5000:]
    pool = worker.pool_pids()

    too_long = _job(demo_model, "rightsize_rel_long")
    assert _wait(too_long, _finished, timeout=limit + 30), worker.log()[-5000:]
    after = _job(demo_model, "rightsize_rel_1")
    assert _wait(after, _finished)
    counts.trials = 1
    counts.count(first)
    counts.count(too_long, expect=JobStatus.FAILED)
    counts.count(after)
    counts.notes.append(
        f"limit {limit} s; the job over it ended failed in {too_long.duration_s:.1f} s, "
        "the next one succeeded in the same pool process"
    )

    assert first.status == JobStatus.SUCCEEDED, first.error
    assert too_long.status == JobStatus.FAILED
    assert f"ran past its time limit of {limit} seconds" in too_long.error
    assert not EvalRun.objects.filter(job=too_long).exists()
    assert after.status == JobStatus.SUCCEEDED, after.error
    assert worker.pool_pids() == pool  # stopped by the soft limit, not killed and replaced
