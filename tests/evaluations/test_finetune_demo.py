"""The seed article's claim, end to end on this machine: the tiny model finetuned on a
domain's own data beats its base on that domain's held-out questions, measured by real lm-eval
jobs on a real Celery worker, and the comparison page sets the two side by side."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from advisor.models import Notice
from advisor.services import recommendation_create
from advisor.watch import decision_watch_start, decision_watches_check
from catalog.models import LanguageModel, SelfHostedDeployment
from evaluations.finetune_demo import CHECKPOINT_KEY, DOMAIN_SET_NAME, checkpoint_path
from evaluations.models import DomainEvalSet, EvalJob, JobStatus, MetricResult, RequestedVia
from evaluations.services import eval_job_create
from evaluations.specs import JobSpec

from ..advisor import use_case_data
from ..factories import HardwareProfileFactory, UserFactory

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (settings.REDIS_AVAILABLE and settings.POSTGRES_AVAILABLE),
        reason="needs the real PostgreSQL and Redis",
    ),
]


def _wait(job: EvalJob, *, timeout: float = 180, every: float = 0.1) -> EvalJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        time.sleep(every)
    raise AssertionError(f"job {job.pk} still {job.status} after {timeout} s")


def _queue(model: LanguageModel, task: str) -> EvalJob:
    spec = JobSpec(model_key=model.key, backend="hf", tasks=(task,), device="cpu")
    return eval_job_create(spec=spec, requested_by=None, requested_via=RequestedVia.CLI)


def test_the_finetuned_checkpoint_beats_its_base_on_the_held_out_set(
    eval_worker, client, django_capture_on_commit_callbacks
):
    call_command("finetune_demo", stdout=StringIO())
    again = StringIO()
    call_command("finetune_demo", stdout=again)
    assert "Reusing the finetuned checkpoint" in again.getvalue()

    checkpoint = LanguageModel.objects.get(key=CHECKPOINT_KEY)
    base = checkpoint.base_model
    [domain_set] = DomainEvalSet.objects.filter(name=DOMAIN_SET_NAME)
    assert checkpoint.finetune.method == "full"
    assert checkpoint.hf_repo == str(checkpoint_path())
    assert LanguageModel.objects.filter(base_model=base).count() == 1

    # The demo model runs on a small GPU profile, so the advisor can rank it.
    SelfHostedDeployment.objects.create(
        model=base, precision="fp32", hardware=HardwareProfileFactory(key="small-gpu")
    )
    owner = UserFactory(role="Project managers", email="owner@example.org")
    saved = recommendation_create(
        owner=owner,
        data=use_case_data(
            name="Paint orders",
            domain_eval_set=DOMAIN_SET_NAME,
            labelled_examples=240,
            weights={"accuracy": 0.7, "cost": 0.1, "privacy": 0.1, "generality": 0.1},
        ),
    )
    jobs = {model.key: _queue(model, domain_set.task_name) for model in (base, checkpoint)}
    decision_watch_start(recommendation=saved, jobs=list(jobs.values()))
    assert decision_watches_check() == []  # the evaluations are still running
    for job in jobs.values():
        _wait(job)
        assert job.status == JobStatus.SUCCEEDED, job.error
    assert (saved.top_model, saved.top_deployment) == (base.key, "self_hosted")
    with django_capture_on_commit_callbacks(execute=True):  # the email goes after the commit
        [watch] = decision_watches_check()  # what Celery beat runs every minute
    rerun = watch.result
    assert rerun.rerun_of == saved
    used = {item["run_id"] for item in rerun.evidence if item["kind"] == "measured"}
    assert jobs[checkpoint.key].run.pk in used  # the finetune's measured result counts
    # Measured, finetuning wins: the answer moved, and the owner is told in the app and by mail.
    assert (rerun.top_model, rerun.top_deployment) == (base.key, "self_hosted_finetuned")
    notice = Notice.objects.get(user=owner, recommendation=rerun)
    assert "The top candidate changed" in notice.body
    assert [message.to for message in mail.outbox] == [["owner@example.org"]]
    acc = {
        key: MetricResult.objects.get(
            run__job=job, task=domain_set.task_name, metric="acc", filter="none"
        )
        for key, job in jobs.items()
    }
    assert acc[checkpoint.key].value > acc[base.key].value
    assert acc[checkpoint.key].stderr is not None and acc[base.key].stderr is not None

    client.force_login(UserFactory(role="Engineers"))
    page = client.get(reverse("evaluations:domain-set-compare", args=[domain_set.pk]))
    rows = {row.model.key: row for row in page.context["comparison"].rows}
    assert (rows[base.key].role, rows[checkpoint.key].role) == ("base", "finetune")
    html = page.content.decode()
    for metric in acc.values():
        assert f'{metric.value:.3f} <span class="stderr">± {metric.stderr:.3f}</span>' in html
    assert "clearly above its base" in html
