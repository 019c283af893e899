"""`manage.py queue_eval`: the command-line way to queue (and follow) an evaluation job."""

import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts import roles
from evaluations.management.commands.queue_eval import Command
from evaluations.models import EvalJob, EvalRun, JobStatus, MetricResult, RequestedVia

from ..factories import LanguageModelFactory

pytestmark = pytest.mark.django_db

PRETRAINED = f"pretrained={settings.EVAL_MODEL_ROOTS[0] / 'tiny-gpt2'}"


@pytest.fixture
def model():
    return LanguageModelFactory(key="tiny", name="Tiny GPT-2")


def queue_eval(*args: str) -> str:
    out = io.StringIO()
    call_command("queue_eval", *args, stdout=out)
    return out.getvalue()


def base_args(model, *extra: str) -> list[str]:
    return [
        "--model",
        model.key,
        "--tasks",
        "rightsize_demo_mc",
        "--model-args",
        PRETRAINED,
        "--device",
        "cpu",
        *extra,
    ]


def test_it_queues_a_job_and_prints_its_id_and_queue(model, engineer):
    output = queue_eval(*base_args(model, "--limit", "8", "--shots", "2", "--user", "engineer"))

    job = EvalJob.objects.get()
    assert f"Job {job.pk} queued" in output
    assert "'cpu'" in output
    assert "not reused" in output
    assert job.requested_via == RequestedVia.CLI
    assert job.requested_by == engineer
    assert (job.limit, job.num_fewshot, job.tasks) == (8, 2, ["rightsize_demo_mc"])


def test_several_tasks_and_options(model):
    queue_eval(
        "--model", model.name, "--tasks", "rightsize_demo_mc,rightsize_demo_gen",
        "--model-args", f"{PRETRAINED},dtype=float32", "--device", "cpu",
        "--batch-size", "4", "--seed", "7", "--priority", "2", "--chat-template",
    )  # fmt: skip

    job = EvalJob.objects.get()
    assert job.tasks == ["rightsize_demo_mc", "rightsize_demo_gen"]
    assert job.model_args["dtype"] == "float32"
    assert (job.batch_size, job.seed, job.priority, job.apply_chat_template) == (4, 7, 2, True)
    assert job.requested_by is None


@pytest.mark.parametrize(
    ("model_args", "named"),
    [
        (f"{PRETRAINED},api_key=sk-123", "api_key"),
        (f"{PRETRAINED},temperature_knob=3", "temperature_knob"),
        (f"{PRETRAINED},trust_remote_code=true", "trust_remote_code"),
        (f"{PRETRAINED},dtype", "dtype"),
    ],
)
def test_a_bad_model_argument_is_named_and_nothing_is_stored(model, model_args, named):
    args = base_args(model)
    args[args.index("--model-args") + 1] = model_args

    with pytest.raises(CommandError, match=named) as error:
        queue_eval(*args)

    assert error.value.returncode == 1
    assert not EvalJob.objects.exists()


def test_an_unknown_task_is_named(model):
    args = base_args(model)
    args[args.index("--tasks") + 1] = "rightsize_demo_mc,no_such_task_anywhere"

    with pytest.raises(CommandError, match="no_such_task_anywhere"):
        queue_eval(*args)

    assert not EvalJob.objects.exists()


def test_an_unknown_model_is_named(model):
    args = base_args(model)
    args[args.index("--model") + 1] = "gpt-17"

    with pytest.raises(CommandError, match="gpt-17"):
        queue_eval(*args)


def test_an_unknown_user_is_refused(model):
    with pytest.raises(CommandError, match="nobody"):
        queue_eval(*base_args(model, "--user", "nobody"))

    assert not EvalJob.objects.exists()


def test_a_project_manager_cannot_be_the_requester(model, user_with_role):
    user_with_role(roles.PROJECT_MANAGERS)

    with pytest.raises(CommandError, match="may not queue"):
        queue_eval(*base_args(model, "--user", "pm"))

    assert not EvalJob.objects.exists()


def _succeed(job: EvalJob) -> None:
    now = timezone.now()
    EvalJob.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED, started_at=now, finished_at=now
    )
    run = EvalRun.objects.create(
        job=job, model=job.model, raw={}, lm_eval_version="0.4.13", device="cpu"
    )
    MetricResult.objects.create(
        run=run, task="rightsize_demo_mc", metric="acc", filter="none", value=0.375, stderr=0.18
    )
    MetricResult.objects.create(
        run=run, task="rightsize_demo_mc", metric="acc_norm", filter="none", value=0.5
    )


def test_waiting_for_a_reused_job_prints_its_metrics_table(model):
    queue_eval(*base_args(model))
    _succeed(EvalJob.objects.get())

    output = queue_eval(*base_args(model, "--wait", "--timeout", "5"))

    assert "reused the results" in output
    assert "Succeeded 100%" in output
    lines = output.splitlines()
    assert any(line.split()[:3] == ["task", "metric", "filter"] for line in lines)
    assert any("acc" in line and "0.3750 ± 0.1800" in line for line in lines)
    assert any("acc_norm" in line and "0.5000" in line for line in lines)


def test_waiting_gives_up_after_the_timeout(model):
    with pytest.raises(CommandError, match="Timed out") as error:
        queue_eval(*base_args(model, "--wait", "--timeout", "0.5"))

    assert error.value.returncode == 1
    assert EvalJob.objects.get().status == JobStatus.QUEUED


@pytest.mark.parametrize("status", [JobStatus.FAILED, JobStatus.CANCELLED])
def test_waiting_on_a_job_that_did_not_succeed_fails(model, status):
    queue_eval(*base_args(model))
    job = EvalJob.objects.get()
    EvalJob.objects.filter(pk=job.pk).update(status=status, error="CUDA out of memory")

    with pytest.raises(CommandError, match=f"Job {job.pk} {status.label.lower()}"):
        Command(stdout=io.StringIO())._wait(job, timeout=5)
