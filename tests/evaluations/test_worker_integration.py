"""A real Celery worker on Redis with PostgreSQL runs real lm-eval on the tiny local model."""

from __future__ import annotations

import json
import time

import pytest
from django.conf import settings

from evaluations import lmeval_runner
from evaluations.demo import demo_model_ensure
from evaluations.execution import run_request_for
from evaluations.models import EvalJob, EvalRun, JobStatus, MetricResult, RequestedVia
from evaluations.services import eval_job_cancel, eval_job_create
from evaluations.specs import JobSpec, JobSpecError

from ..factories import UserFactory
from .worker import SLOW_TASK

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (settings.REDIS_AVAILABLE and settings.POSTGRES_AVAILABLE),
        reason="needs the real PostgreSQL and Redis",
    ),
]


@pytest.fixture
def task_dirs(settings, slow_task_dir):
    settings.EVAL_TASK_DIRS = [slow_task_dir]


@pytest.fixture
def demo_model(transactional_db):
    return demo_model_ensure()


def _spec(model, **overrides) -> JobSpec:
    fields = {
        "backend": "hf",
        "tasks": ("rightsize_demo_mc", "rightsize_demo_gen"),
        "device": "cpu",
    }
    return JobSpec(model_key=model.key, **{**fields, **overrides})


def _wait(job: EvalJob, *, until, timeout: float = 120, every: float = 0.05) -> list[int]:
    """Poll the job row; return the distinct progress values seen on the way."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if not seen or seen[-1] != job.progress_done:
            seen.append(job.progress_done)
        if until(job):
            return seen
        time.sleep(every)
    raise AssertionError(f"job {job.pk} still {job.status} after {timeout} s")


def test_a_queued_job_runs_on_the_worker_and_stores_what_lm_eval_returned(
    eval_worker, demo_model, task_dirs
):
    engineer = UserFactory(role="Engineers")
    job = eval_job_create(
        spec=_spec(demo_model, limit=None), requested_by=engineer, requested_via=RequestedVia.WEB
    )
    assert job.queue == "cpu"

    seen = _wait(job, until=lambda j: j.is_finished)

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.progress_done == job.progress_total > 0
    assert seen == sorted(seen)  # progress only rises
    run = EvalRun.objects.get(job=job)
    assert run.lm_eval_version and run.transformers_version and run.worker_host
    assert set(run.task_versions) >= {"rightsize_demo_mc", "rightsize_demo_gen"}
    # The same request through lm-eval in this process gives the same numbers.
    expected = lmeval_runner.Runner().run(run_request_for(job))
    stored = {
        (m.task, m.metric, m.filter): (m.value, m.stderr)
        for m in MetricResult.objects.filter(run=run)
    }
    assert stored == {
        (row.task, row.metric, row.filter): (row.value, row.stderr) for row in expected.metrics
    }
    assert ("rightsize_demo_mc", "acc", "none") in stored
    assert ("rightsize_demo_gen", "exact_match", "strip") in stored


def test_a_second_identical_job_is_answered_from_the_first(eval_worker, demo_model, task_dirs):
    first = eval_job_create(
        spec=_spec(demo_model, limit=4), requested_by=None, requested_via=RequestedVia.CLI
    )
    _wait(first, until=lambda j: j.is_finished)
    assert first.status == JobStatus.SUCCEEDED, first.error

    second = eval_job_create(
        spec=_spec(demo_model, limit=4, priority=1),
        requested_by=None,
        requested_via=RequestedVia.CLI,
    )
    assert second.reused_from == first
    assert second.status == JobStatus.SUCCEEDED
    assert not EvalRun.objects.filter(job=second).exists()  # nothing ran again

    forced = eval_job_create(
        spec=_spec(demo_model, limit=4),
        requested_by=None,
        requested_via=RequestedVia.CLI,
        force=True,
    )
    assert forced.reused_from is None
    _wait(forced, until=lambda j: j.is_finished)
    assert forced.status == JobStatus.SUCCEEDED


def test_a_running_job_is_cancelled_within_ten_seconds(eval_worker, demo_model, task_dirs):
    job = eval_job_create(
        spec=_spec(demo_model, tasks=(SLOW_TASK,)),
        requested_by=None,
        requested_via=RequestedVia.WEB,
    )
    _wait(job, until=lambda j: j.status == JobStatus.RUNNING and j.progress_done > 0)
    asked = time.monotonic()
    eval_job_cancel(job=job)

    _wait(job, until=lambda j: j.is_finished, timeout=30)

    assert job.status == JobStatus.CANCELLED
    assert time.monotonic() - asked < 10
    assert job.progress_done < job.progress_total
    assert not EvalRun.objects.filter(job=job).exists()
    # The worker is free for the next job.
    after = eval_job_create(
        spec=_spec(demo_model, limit=2), requested_by=None, requested_via=RequestedVia.WEB
    )
    _wait(after, until=lambda j: j.is_finished)
    assert after.status == JobStatus.SUCCEEDED


def test_a_failing_run_ends_failed_with_the_error_and_the_worker_lives_on(
    eval_worker, demo_model, task_dirs
):
    missing = settings.EVAL_MODEL_ROOTS[0] / "no-such-model"
    job = eval_job_create(
        spec=_spec(demo_model, model_args={"pretrained": str(missing)}),
        requested_by=None,
        requested_via=RequestedVia.WEB,
    )
    _wait(job, until=lambda j: j.is_finished)
    assert job.status == JobStatus.FAILED
    assert "Model folder not found" in job.error
    assert eval_worker.alive()


def test_a_queued_job_cancelled_before_a_worker_takes_it_never_starts(demo_model, task_dirs):
    job = eval_job_create(
        spec=_spec(demo_model, limit=3, seed=7), requested_by=None, requested_via=RequestedVia.WEB
    )
    eval_job_cancel(job=job)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert job.started_at is None


def test_a_refused_model_argument_is_explained_and_nothing_is_stored(demo_model):
    with pytest.raises(JobSpecError, match="'trust_remote_code' refused"):
        eval_job_create(
            spec=_spec(demo_model, model_args={"trust_remote_code": True}),
            requested_by=None,
            requested_via=RequestedVia.API,
        )
    assert not EvalJob.objects.exists()


def test_a_domain_set_runs_as_a_task_on_the_worker_and_lands_in_the_matrix(
    eval_worker, demo_model, client
):
    from django.urls import reverse

    from evaluations.uploads import domain_set_upload

    engineer = UserFactory(role="Engineers")
    lines = [
        {"question": f"Claim {n}: is water wet?", "choices": ["yes", "no"], "answer": n % 2}
        for n in range(12)
    ]
    domain_set, _ = domain_set_upload(
        name="Claims triage",
        description="",
        data="\n".join(json.dumps(line) for line in lines).encode(),
        uploaded_by=engineer,
    )
    job = eval_job_create(
        spec=_spec(demo_model, tasks=(domain_set.task_name,)),
        requested_by=engineer,
        requested_via=RequestedVia.WEB,
    )
    _wait(job, until=lambda j: j.is_finished)
    assert job.status == JobStatus.SUCCEEDED, job.error
    acc = MetricResult.objects.get(run__job=job, task=domain_set.task_name, metric="acc")
    assert acc.n_samples == 12

    client.force_login(UserFactory(role="Project managers"))
    page = client.get(reverse("evaluations:matrix"), {"task": domain_set.task_name})
    tasks, rows = page.context["tasks"], page.context["rows"]
    assert tasks == [domain_set.task_name]
    [row] = rows
    assert row.model == demo_model
    assert row.cells[0].kind == "measured" and row.cells[0].value == acc.value
