"""Benchmark: queued evaluation jobs on a warm worker against the plain lm-eval command line.

    .venv/bin/python bench/eval_jobs.py [--repeats 5]

Uses the real PostgreSQL (database `rightsize_bench`, created if missing) and Redis (db 14), a
real Celery worker, the tiny local model and four local multiple-choice tasks. Reports medians:
  1. one task: queue -> stored results on a warm worker, vs one `lm_eval run` of the same task;
  2. four tasks: one job, vs four separate `lm_eval run` invocations.
Record the output in docs/benchmarks.md with the machine and date."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import ROOT, machine, setup_django

TASKS = [f"rightsize_bench_{n}" for n in range(1, 5)]
DOCS_PER_TASK = 40


def write_tasks(folder: Path) -> None:
    for n, task in enumerate(TASKS, start=1):
        data = folder / f"{task}.jsonl"
        with data.open("w") as out:
            for i in range(DOCS_PER_TASK):
                out.write(
                    json.dumps(
                        {
                            "question": f"Set {n}, question {i}: which planet is the largest?",
                            "choices": ["Jupiter", "Mars", "Venus", "Mercury"],
                            "answer": 0,
                        }
                    )
                    + "\n"
                )
        (folder / f"{task}.yaml").write_text(
            f"task: {task}\ndataset_path: json\n"
            f"dataset_kwargs:\n  data_files:\n    test: {data}\n"
            "test_split: test\noutput_type: multiple_choice\n"
            "doc_to_text: '{{question}}'\ndoc_to_choice: '{{choices}}'\n"
            "doc_to_target: '{{answer}}'\nmetric_list:\n  - metric: acc\n"
        )


def time_job(model, tasks: list[str]) -> float:
    from evaluations.models import EvalJob, JobStatus, RequestedVia
    from evaluations.services import eval_job_create
    from evaluations.specs import JobSpec

    spec = JobSpec(model_key=model.key, backend="hf", tasks=tuple(tasks), device="cpu")
    started = time.perf_counter()
    job = eval_job_create(spec=spec, requested_by=None, requested_via=RequestedVia.CLI, force=True)
    while True:
        status = EvalJob.objects.values_list("status", flat=True).get(pk=job.pk)
        if status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED):
            break
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    if status != JobStatus.SUCCEEDED:
        raise RuntimeError(f"job {job.pk} ended {status}: {EvalJob.objects.get(pk=job.pk).error}")
    return elapsed


def time_cli(model_path: Path, task_dir: Path, tasks: list[str], env: dict[str, str]) -> float:
    command = [
        str(ROOT / ".venv" / "bin" / "lm_eval"), "run", "--model", "hf",
        "--model_args", f"pretrained={model_path}", "--tasks", ",".join(tasks),
        "--include_path", str(task_dir), "--device", "cpu", "--batch_size", "1",
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env, cwd=tempfile.gettempdir())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    setup_django()
    from django.conf import settings

    from evaluations.demo import demo_model_ensure
    from tests.evaluations.worker import WorkerProcess, purge_queues

    model = demo_model_ensure()
    task_dir = Path(tempfile.mkdtemp(prefix="rightsize-bench-tasks-"))
    write_tasks(task_dir)
    settings.EVAL_TASK_DIRS = [task_dir]
    purge_queues("cpu")
    worker = WorkerProcess(
        queues="cpu",
        log_path=task_dir / "worker.log",
        extra_env={"EVAL_TASK_DIRS": str(task_dir), "EVAL_PROGRESS_INTERVAL_S": "1.0"},
    )
    cli_env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HOME": str(task_dir / "hf-home"),
    }
    try:
        worker.wait_ready()
        time_job(model, TASKS)  # warm-up: the worker imports lm-eval and loads the model once
        results = {"job_1": [], "cli_1": [], "job_4": [], "cli_4x1": []}
        for _ in range(args.repeats):
            results["job_1"].append(time_job(model, TASKS[:1]))
            results["cli_1"].append(time_cli(Path(model.hf_repo), task_dir, TASKS[:1], cli_env))
            results["job_4"].append(time_job(model, TASKS))
            results["cli_4x1"].append(
                sum(time_cli(Path(model.hf_repo), task_dir, [t], cli_env) for t in TASKS)
            )
    finally:
        worker.stop()

    medians = {name: statistics.median(values) for name, values in results.items()}
    print(f"machine: {machine()}; {args.repeats} repeats; {DOCS_PER_TASK} docs x 4 choices/task")
    for name, values in results.items():
        print(
            f"{name:8} median {medians[name]:7.2f} s   all: {', '.join(f'{v:.2f}' for v in values)}"
        )
    print(f"one task: job / CLI = {medians['job_1'] / medians['cli_1']:.3f} (target <= 0.5)")
    print(
        f"four tasks: job / 4 CLI runs = {medians['job_4'] / medians['cli_4x1']:.3f} (target < 0.5)"
    )


if __name__ == "__main__":
    main()
