"""The JSON API: bearer tokens, who may use it, and jobs queued, read, cancelled and retried."""

import pytest
from django.conf import settings
from django.utils import timezone

from accounts import roles
from accounts.services import api_token_create, api_token_revoke
from evaluations.models import EvalJob, EvalRun, JobStatus, MetricResult, RequestedVia
from evaluations.services import eval_job_cancel, eval_job_create
from evaluations.specs import JobSpec

from ..factories import LanguageModelFactory, UserFactory

pytestmark = pytest.mark.django_db

JOBS = "/api/jobs"


@pytest.fixture
def model():
    return LanguageModelFactory(key="tiny", name="Tiny GPT-2")


@pytest.fixture
def payload(model):
    return {
        "model": model.key,
        "backend": "hf",
        "tasks": ["rightsize_demo_mc"],
        "model_args": {"pretrained": str(settings.EVAL_MODEL_ROOTS[0] / "tiny-gpt2")},
        "device": "cpu",
        "limit": 8,
    }


def bearer(user) -> dict:
    _, raw = api_token_create(user=user, name="tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def as_engineer(engineer):
    return bearer(engineer)


def queued_job(model, user, **spec) -> EvalJob:
    fields = {
        "model_key": model.key,
        "backend": "hf",
        "tasks": ("rightsize_demo_mc",),
        "model_args": {"pretrained": str(settings.EVAL_MODEL_ROOTS[0] / "tiny-gpt2")},
        "device": "cpu",
        **spec,
    }
    return eval_job_create(spec=JobSpec(**fields), requested_by=user, requested_via="web")


def succeed_with_results(job: EvalJob) -> EvalRun:
    """What a worker leaves behind, written directly."""
    now = timezone.now()
    job.status = JobStatus.SUCCEEDED
    job.started_at, job.finished_at = now, now
    job.progress_done = job.progress_total = 16
    job.save()
    run = EvalRun.objects.create(
        job=job,
        model=job.model,
        raw={"results": {}},
        lm_eval_version="0.4.13",
        transformers_version="5.24.0",
        model_sha="abc123",
        model_dtype="float32",
        device="cpu",
        worker_host="worker-1",
        duration_s=12.5,
    )
    MetricResult.objects.create(
        run=run,
        task="rightsize_demo_mc",
        metric="acc",
        filter="none",
        value=0.375,
        stderr=0.18,
        n_samples=8,
        shots=0,
    )
    return run


def post_json(client, path, data=None, **headers):
    return client.post(path, data or {}, content_type="application/json", **headers)


# ---------------------------------------------------------------- queueing


def test_an_engineer_queues_a_job(client, engineer, as_engineer, payload, model):
    response = post_json(client, JOBS, payload, **as_engineer)

    assert response.status_code == 201, response.json()
    body = response.json()
    job = EvalJob.objects.get()
    assert body["id"] == job.pk
    assert body["status"] == "queued"
    assert body["queue"] == "cpu"
    assert body["spec"]["model"] == model.key
    assert body["spec"]["tasks"] == ["rightsize_demo_mc"]
    assert job.requested_via == RequestedVia.API
    assert job.requested_by == engineer
    assert job.limit == 8


def test_a_catalog_admin_queues_a_job_by_model_name(client, catalog_admin, payload, model):
    response = post_json(client, JOBS, {**payload, "model": model.name}, **bearer(catalog_admin))

    assert response.status_code == 201
    assert EvalJob.objects.get().model == model


def test_an_identical_finished_job_is_reused_unless_forced(
    client, engineer, as_engineer, payload, model
):
    earlier = queued_job(model, engineer, limit=8)
    succeed_with_results(earlier)

    reused = post_json(client, JOBS, payload, **as_engineer).json()
    forced = post_json(client, JOBS, {**payload, "force": True}, **as_engineer).json()

    assert reused["reused_from"] == earlier.pk
    assert reused["status"] == "succeeded"
    assert forced["reused_from"] is None
    assert forced["status"] == "queued"


@pytest.mark.parametrize(
    ("model_args", "named"),
    [
        ({"trust_remote_code": True}, "trust_remote_code"),
        ({"api_key": "sk-do-not-echo-me"}, "api_key"),
        ({"temperature_knob": 3}, "temperature_knob"),
        ({"pretrained": "/etc/passwd-model"}, "pretrained"),
    ],
)
def test_a_refused_model_argument_is_named_and_nothing_is_stored(
    client, as_engineer, payload, model_args, named
):
    payload["model_args"] = {**payload["model_args"], **model_args}

    response = post_json(client, JOBS, payload, **as_engineer)

    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "model_args"
    assert named in body["detail"]
    assert "sk-do-not-echo-me" not in response.content.decode()
    assert not EvalJob.objects.exists()


def test_a_non_scalar_model_argument_is_refused_without_echoing_it(client, as_engineer, payload):
    payload["model_args"] = {"pretrained": ["sk-secret-looking-value"]}

    response = post_json(client, JOBS, payload, **as_engineer)

    assert response.status_code == 422
    assert "sk-secret-looking-value" not in response.content.decode()
    assert not EvalJob.objects.exists()


def test_an_unknown_task_is_named(client, as_engineer, payload):
    payload["tasks"] = ["rightsize_demo_mc", "no_such_task_anywhere"]

    response = post_json(client, JOBS, payload, **as_engineer)

    assert response.status_code == 422
    assert response.json()["field"] == "tasks"
    assert "no_such_task_anywhere" in response.json()["detail"]
    assert not EvalJob.objects.exists()


def test_an_unknown_model_is_named(client, as_engineer, payload):
    response = post_json(client, JOBS, {**payload, "model": "gpt-17"}, **as_engineer)

    assert response.status_code == 422
    assert response.json() == {"detail": "No catalog model 'gpt-17'.", "field": "model"}


def test_an_unknown_field_is_refused(client, as_engineer, payload):
    response = post_json(client, JOBS, {**payload, "num_shots": 5}, **as_engineer)

    assert response.status_code == 422
    assert "num_shots" in response.content.decode()
    assert not EvalJob.objects.exists()


# ---------------------------------------------------------------- who may use it


def test_a_project_managers_token_is_refused_everywhere(
    client, project_manager, engineer, payload, model
):
    job = queued_job(model, engineer)
    as_pm = bearer(project_manager)

    responses = [
        post_json(client, JOBS, payload, **as_pm),
        client.get(JOBS, **as_pm),
        client.get(f"{JOBS}/{job.pk}", **as_pm),
        post_json(client, f"{JOBS}/{job.pk}/cancel", **as_pm),
        post_json(client, f"{JOBS}/{job.pk}/retry", **as_pm),
    ]

    assert [r.status_code for r in responses] == [403] * 5
    assert "engineers and catalog admins" in responses[0].json()["detail"]
    assert EvalJob.objects.count() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer rs_not-a-real-token"},
        {"HTTP_AUTHORIZATION": "Token something"},
    ],
)
def test_without_a_valid_token_the_answer_is_401(client, payload, headers):
    assert post_json(client, JOBS, payload, **headers).status_code == 401
    assert client.get(JOBS, **headers).status_code == 401
    assert not EvalJob.objects.exists()


def test_a_revoked_token_is_refused(client, engineer, payload):
    token, raw = api_token_create(user=engineer, name="leaked")
    api_token_revoke(token=token, by=engineer)

    response = client.get(JOBS, HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 401


def test_a_browser_session_is_not_a_token(client, engineer):
    client.force_login(engineer)

    response = client.get(JOBS)

    assert response.status_code == 401


# ---------------------------------------------------------------- reading


def test_a_job_is_returned_with_its_results_and_provenance(client, engineer, as_engineer, model):
    job = queued_job(model, engineer)
    run = succeed_with_results(job)

    response = client.get(f"{JOBS}/{job.pk}", **as_engineer)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "succeeded"
    assert body["progress_percent"] == 100
    assert body["results"] == [
        {
            "task": "rightsize_demo_mc",
            "metric": "acc",
            "filter": "none",
            "value": 0.375,
            "stderr": 0.18,
            "n_samples": 8,
            "shots": 0,
        }
    ]
    assert body["run"]["id"] == run.pk
    assert body["run"]["lm_eval_version"] == "0.4.13"
    assert body["run"]["transformers_version"] == "5.24.0"
    assert body["run"]["model_sha"] == "abc123"
    assert body["run"]["model_dtype"] == "float32"
    assert body["run"]["device"] == "cpu"
    assert body["run"]["worker_host"] == "worker-1"
    assert body["run"]["duration_s"] == 12.5


def test_a_reusing_job_shows_the_results_of_the_job_it_reused(client, engineer, as_engineer, model):
    original = queued_job(model, engineer)
    run = succeed_with_results(original)
    reusing = queued_job(model, engineer)
    assert reusing.reused_from == original

    body = client.get(f"{JOBS}/{reusing.pk}", **as_engineer).json()

    assert body["reused_from"] == original.pk
    assert body["run"]["id"] == run.pk
    assert body["run"]["job"] == original.pk
    assert [r["metric"] for r in body["results"]] == ["acc"]


def test_a_queued_job_has_no_results_yet(client, engineer, as_engineer, model):
    job = queued_job(model, engineer)

    body = client.get(f"{JOBS}/{job.pk}", **as_engineer).json()

    assert body["status"] == "queued"
    assert body["run"] is None
    assert body["results"] == []


def test_a_missing_job_is_404(client, as_engineer):
    assert client.get(f"{JOBS}/999999", **as_engineer).status_code == 404


def test_jobs_are_listed_newest_first_and_filtered(client, engineer, as_engineer, model):
    other_model = LanguageModelFactory()
    first = queued_job(model, engineer)
    second = queued_job(other_model, engineer, tasks=("rightsize_demo_gen",))
    third = queued_job(model, engineer, limit=4)
    eval_job_cancel(job=third)

    def ids(**params):
        response = client.get(JOBS, params, **as_engineer)
        assert response.status_code == 200
        return [job["id"] for job in response.json()["items"]]

    assert ids() == [third.pk, second.pk, first.pk]
    assert ids(status="cancelled") == [third.pk]
    assert ids(model=model.key) == [third.pk, first.pk]
    assert ids(task="rightsize_demo_gen") == [second.pk]


def test_the_list_is_paginated(client, engineer, as_engineer, model):
    for limit in range(1, 4):
        queued_job(model, engineer, limit=limit)

    body = client.get(JOBS, {"page": 2, "page_size": 2}, **as_engineer).json()

    assert body["count"] == 3
    assert len(body["items"]) == 1


# ---------------------------------------------------------------- managing


def test_cancelling_a_queued_job(client, engineer, as_engineer, model):
    job = queued_job(model, engineer)

    response = post_json(client, f"{JOBS}/{job.pk}/cancel", **as_engineer)

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED


def test_cancelling_a_finished_job_is_a_conflict(client, engineer, as_engineer, model):
    job = queued_job(model, engineer)
    eval_job_cancel(job=job)

    response = post_json(client, f"{JOBS}/{job.pk}/cancel", **as_engineer)

    assert response.status_code == 409
    assert "already ended" in response.json()["detail"]


def test_retrying_a_cancelled_job_queues_a_linked_one(client, engineer, as_engineer, model):
    job = queued_job(model, engineer)
    eval_job_cancel(job=job)

    response = post_json(client, f"{JOBS}/{job.pk}/retry", **as_engineer)

    assert response.status_code == 201
    body = response.json()
    retry = EvalJob.objects.get(pk=body["id"])
    assert body["retry_of"] == job.pk
    assert retry.retry_of == job
    assert retry.status == JobStatus.QUEUED
    assert retry.requested_via == RequestedVia.API


def test_retrying_a_queued_job_is_a_conflict(client, engineer, as_engineer, model):
    job = queued_job(model, engineer)

    response = post_json(client, f"{JOBS}/{job.pk}/retry", **as_engineer)

    assert response.status_code == 409
    assert EvalJob.objects.count() == 1


# ---------------------------------------------------------------- the schema


def test_the_openapi_schema_lists_the_endpoints_and_the_bearer_scheme(client, engineer):
    client.force_login(engineer)

    schema = client.get("/api/openapi.json").json()

    assert schema["info"]["title"] == "Rightsize API"
    assert set(schema["paths"]) == {
        "/api/jobs",
        "/api/jobs/{job_id}",
        "/api/jobs/{job_id}/cancel",
        "/api/jobs/{job_id}/retry",
        "/api/imports",
        "/api/domain-sets",
        "/api/recommendations",
    }
    assert set(schema["paths"]["/api/jobs"]) == {"get", "post"}
    schemes = schema["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"} in schemes.values()
    assert "403" in schema["info"]["description"]


def test_the_docs_are_for_those_who_may_use_the_api(client, engineer):
    client.force_login(UserFactory(role=roles.PROJECT_MANAGERS))
    assert client.get("/api/docs").status_code == 403

    client.force_login(engineer)
    assert client.get("/api/docs").status_code == 200
