"""A real Celery worker process for integration tests: Redis broker, the test PostgreSQL
database, prefork pool, started and stopped by the test session."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
SLOW_TASK = "rightsize_slow_test"


def worker_database_url(*, port: int | None = None) -> str:
    """The URL of the test database, optionally through another port (a fault-injecting proxy)."""
    db = settings.DATABASES["default"]
    return (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{port or db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )


class WorkerProcess:
    """`celery worker` in a process group of its own. `broker_url` and `database_url` default
    to the test session's; `extra_args` go on the command line (`--beat`, say)."""

    def __init__(
        self,
        *,
        queues: str,
        log_path: Path,
        extra_env: dict[str, str],
        broker_url: str | None = None,
        database_url: str | None = None,
        extra_args: tuple[str, ...] = (),
    ):
        self.name = f"itest-{uuid.uuid4().hex[:8]}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url or worker_database_url(),
            "CELERY_BROKER_URL": broker_url or settings.CELERY_BROKER_URL,
            "EVAL_MODEL_ROOTS": ",".join(str(p) for p in settings.EVAL_MODEL_ROOTS),
            "EVAL_PROGRESS_INTERVAL_S": "0.2",
            **extra_env,
        }
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                f"--queues={queues}",
                "--concurrency=1",
                "--prefetch-multiplier=1",
                "--without-gossip",
                "--without-mingle",
                f"--hostname={self.name}@%h",
                "--loglevel=INFO",
                *extra_args,
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready." in self.log_path.read_text():
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited:\n{self.log_path.read_text()}")
            time.sleep(0.2)
        raise TimeoutError(f"worker not ready after {timeout} s:\n{self.log_path.read_text()}")

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text()

    def pool_pids(self) -> list[int]:
        """The worker's pool processes (children of its main process) that are alive now."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def kill_pool_process(self, sig: int = signal.SIGKILL) -> int:
        """Kill the one pool process (what the out-of-memory killer does); the main process
        lives on and starts another. Returns the pid killed."""
        [pid] = self.pool_pids()
        os.kill(pid, sig)
        return pid

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Kill the whole worker, main process and pool, as a lost node would be."""
        if self.alive():
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=20)
        self._log.close()

    def stop(self) -> None:
        if self._log.closed:
            return
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


def purge_queues(*queues: str) -> None:
    from config.celery import app

    with app.connection_for_write() as conn:
        for queue in queues:
            conn.default_channel.client.delete(queue)


# Fixtures (imported into tests/conftest.py so browser tests share the one worker).
@pytest.fixture(scope="session")
def slow_task_dir(tmp_path_factory):
    """A local lm-eval task big enough to still be running when the test cancels it."""
    folder = tmp_path_factory.mktemp("slow-task")
    docs = folder / "slow.jsonl"
    with docs.open("w") as out:
        for n in range(3000):
            question = f"Question {n}: which of these words comes first in the list? " * 4
            out.write(
                json.dumps({"question": question, "choices": ["a", "b", "c", "d"], "answer": n % 4})
                + "\n"
            )
    (folder / "slow.yaml").write_text(
        f"task: {SLOW_TASK}\n"
        "dataset_path: json\n"
        f"dataset_kwargs:\n  data_files:\n    test: {docs}\n"
        "test_split: test\n"
        "output_type: multiple_choice\n"
        "doc_to_text: '{{question}}'\n"
        "doc_to_choice: '{{choices}}'\n"
        "doc_to_target: '{{answer}}'\n"
        "metric_list:\n  - metric: acc\n"
    )
    return folder


@pytest.fixture(scope="session")
def eval_worker(django_db_setup, django_db_blocker, slow_task_dir, tmp_path_factory):
    purge_queues("cpu")
    process = WorkerProcess(
        queues="cpu",
        log_path=tmp_path_factory.mktemp("worker") / "worker.log",
        extra_env={"EVAL_TASK_DIRS": str(slow_task_dir)},
    )
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()
