"""Job specs are checked before anything is written: allow-list, approvals, roots, tasks."""

import pytest
from django.conf import settings

from evaluations.specs import JobSpec, JobSpecError, job_spec_validate, parse_model_args

from ..factories import LanguageModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def model():
    return LanguageModelFactory(key="demo", name="Demo", hf_repo="org/demo")


def _spec(**overrides) -> JobSpec:
    fields = {"model_key": "demo", "backend": "hf", "tasks": ("rightsize_demo_mc",)}
    return JobSpec(**{**fields, **overrides})


def test_the_catalog_model_supplies_pretrained_and_the_default_device(model):
    spec, found = job_spec_validate(_spec())
    assert found == model
    assert spec.model_args == {"pretrained": "org/demo"}
    assert spec.device == settings.EVAL_DEFAULT_DEVICE


def test_a_model_is_found_by_name_too(model):
    spec, _ = job_spec_validate(_spec(model_key="Demo"))
    assert spec.model_key == "demo"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"load_in_8bit": True}, "Model argument 'load_in_8bit' is not allowed"),
        (
            {"api_key": "sk-123"},
            "'api_key' refused: API keys are read from the worker's environment",
        ),
        (
            {"trust_remote_code": True},
            "'trust_remote_code' refused: a catalog admin has not approved",
        ),
        (
            {"pretrained": "/etc/models/x"},
            "'pretrained' refused: local path /etc/models/x is not under",
        ),
        ({"pretrained": "../../x"}, "is not under a model root"),
        ({"pretrained": ["a", "b"]}, "must be a single value"),
    ],
)
def test_refused_model_arguments_are_named(model, args, message):
    with pytest.raises(JobSpecError, match=message) as excinfo:
        job_spec_validate(_spec(model_args=args))
    assert excinfo.value.field == "model_args"


def test_trust_remote_code_runs_once_an_admin_approved_it(model):
    model.trust_remote_code_approved = True
    model.save()
    spec, _ = job_spec_validate(_spec(model_args={"trust_remote_code": True}))
    assert spec.model_args["trust_remote_code"] is True


def test_a_local_path_under_a_model_root_is_allowed(model):
    path = str(settings.EVAL_MODEL_ROOTS[0] / "my-checkpoint")
    spec, _ = job_spec_validate(_spec(model_args={"pretrained": path}))
    assert spec.model_args["pretrained"] == path


def test_api_backends_need_an_endpoint_model_and_an_http_url(model):
    with pytest.raises(JobSpecError, match="'model' is needed"):
        job_spec_validate(_spec(backend="local-completions"))
    with pytest.raises(JobSpecError, match="must be an http"):
        job_spec_validate(
            _spec(backend="local-completions", model_args={"model": "m", "base_url": "file:///x"})
        )
    with pytest.raises(JobSpecError, match="carries credentials"):
        job_spec_validate(
            _spec(
                backend="local-completions",
                model_args={"model": "m", "base_url": "https://user:pw@llm.internal/v1"},
            )
        )
    spec, _ = job_spec_validate(
        _spec(
            backend="openai-chat-completions",
            model_args={"model": "gpt-4o-mini", "base_url": "https://api.example.org/v1"},
        )
    )
    assert spec.device == ""


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"model_key": "nope"}, "model", "No catalog model 'nope'"),
        ({"backend": "magic"}, "backend", "Unknown backend 'magic'"),
        ({"tasks": ()}, "tasks", "Name at least one task"),
        ({"tasks": ("mmlu", "no_such_task_xyz")}, "tasks", "Unknown task: no_such_task_xyz"),
        ({"limit": 0}, "limit", "Limit must be 1 to"),
        ({"priority": 12}, "priority", "Priority must be 0"),
        ({"device": "tpu"}, "device", "Unknown device 'tpu'"),
    ],
)
def test_bad_specs_say_what_to_fix(model, overrides, field, message):
    with pytest.raises(JobSpecError, match=message) as excinfo:
        job_spec_validate(_spec(**overrides))
    assert excinfo.value.field == field


def test_builtin_lm_eval_tasks_are_known(model):
    spec, _ = job_spec_validate(_spec(tasks=("mmlu", "hellaswag", "gsm8k")))
    assert spec.tasks == ("mmlu", "hellaswag", "gsm8k")


def test_parse_model_args_reads_lm_evals_command_line_form():
    assert parse_model_args(
        "pretrained=org/m, dtype=bfloat16,max_length=2048,parallelize=True"
    ) == {
        "pretrained": "org/m",
        "dtype": "bfloat16",
        "max_length": 2048,
        "parallelize": True,
    }
    with pytest.raises(JobSpecError, match="is not name=value"):
        parse_model_args("pretrained")


def test_the_identity_of_a_job_ignores_priority_and_task_order():
    a = _spec(tasks=("a", "b"), priority=1).digest(lm_eval_version="0.4.13")
    b = _spec(tasks=("b", "a"), priority=9).digest(lm_eval_version="0.4.13")
    c = _spec(tasks=("a", "b"), limit=5).digest(lm_eval_version="0.4.13")
    d = _spec(tasks=("a", "b")).digest(lm_eval_version="0.4.14")
    assert a == b
    assert len({a, c, d}) == 3
