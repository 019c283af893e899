import csv
import io

import pytest
from django.urls import reverse

from evaluations.models import EvalJob, JobStatus

from ..factories import LanguageModelFactory
from .factories import EvalJobFactory, MetricResultFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def engineer_client(client, engineer):
    client.force_login(engineer)
    return client


@pytest.fixture
def pm_client(client, project_manager):
    client.force_login(project_manager)
    return client


def test_the_form_queues_a_job(engineer_client, engineer, django_capture_on_commit_callbacks):
    model = LanguageModelFactory(key="demo", hf_repo="org/demo")
    with django_capture_on_commit_callbacks() as callbacks:
        response = engineer_client.post(
            reverse("evaluations:job-create"),
            {"model": "demo", "backend": "hf", "tasks": "rightsize_demo_mc, mmlu", "device": "cpu",
             "batch_size": 1, "seed": 1234, "priority": 3, "limit": 5},
        )  # fmt: skip
    job = EvalJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("evaluations:job-detail", args=[job.pk])
    assert (job.model, job.tasks, job.queue, job.requested_by) == (
        model, ["rightsize_demo_mc", "mmlu"], "cpu", engineer,
    )  # fmt: skip
    assert len(callbacks) == 1  # the Celery task is sent only after the commit


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"model_args": "trust_remote_code=true"}, "&#x27;trust_remote_code&#x27; refused"),
        ({"model_args": "api_key=sk-1"}, "API keys are read from the worker"),
        ({"model_args": "pretrained"}, "is not name=value"),
        ({"tasks": "no_such_task_xyz"}, "Unknown task: no_such_task_xyz"),
    ],
)
def test_the_form_explains_what_it_refuses_and_stores_nothing(engineer_client, fields, message):
    LanguageModelFactory(key="demo", hf_repo="org/demo")
    data = {"model": "demo", "backend": "hf", "tasks": "rightsize_demo_mc", "device": "cpu",
            "batch_size": 1, "seed": 1234, "priority": 5, **fields}  # fmt: skip
    response = engineer_client.post(reverse("evaluations:job-create"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not EvalJob.objects.exists()


def test_a_project_manager_cannot_queue_but_can_read(pm_client):
    job = EvalJobFactory()
    assert pm_client.get(reverse("evaluations:job-create")).status_code == 403
    assert pm_client.post(reverse("evaluations:job-cancel", args=[job.pk])).status_code == 403
    assert pm_client.get(reverse("evaluations:job-list")).status_code == 200
    assert pm_client.get(reverse("evaluations:job-detail", args=[job.pk])).status_code == 200


def test_polling_a_running_job_returns_the_fragment_and_keeps_polling(engineer_client):
    job = EvalJobFactory(status=JobStatus.RUNNING, progress_done=30, progress_total=120)
    response = engineer_client.get(
        reverse("evaluations:job-detail", args=[job.pk]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"job-{job.pk}-live",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<section id="job-{job.pk}-live"')
    assert 'hx-trigger="every 1s"' in html
    assert 'value="25"' in html
    assert "30 of 120 lm-eval requests" in html


def test_polling_stops_when_the_job_has_ended(engineer_client):
    metric = MetricResultFactory(value=0.625, stderr=0.05)
    job = metric.run.job
    response = engineer_client.get(
        reverse("evaluations:job-detail", args=[job.pk]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"job-{job.pk}-live",
    )
    html = response.content.decode()
    assert response.status_code == 286  # htmx stops polling
    assert "hx-trigger" not in html
    assert "0.6250" in html and "0.0500" in html


def test_a_failed_job_shows_its_error_and_offers_a_retry(engineer_client, engineer):
    job = EvalJobFactory(status=JobStatus.FAILED, error="CUDA out of memory")
    page = engineer_client.get(reverse("evaluations:job-detail", args=[job.pk])).content.decode()
    assert "CUDA out of memory" in page
    assert "Retry as a new job" in page


def test_cancel_a_queued_job(engineer_client):
    job = EvalJobFactory()
    engineer_client.post(reverse("evaluations:job-cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED


def test_cancel_a_running_job_asks_the_worker_to_stop(engineer_client):
    job = EvalJobFactory(status=JobStatus.RUNNING)
    engineer_client.post(reverse("evaluations:job-cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    assert job.cancel_requested


def test_retry_queues_a_new_linked_job(engineer_client, django_capture_on_commit_callbacks):
    model = LanguageModelFactory(hf_repo="org/demo")
    job = EvalJobFactory(model=model, status=JobStatus.CANCELLED)
    with django_capture_on_commit_callbacks():
        response = engineer_client.post(reverse("evaluations:job-retry", args=[job.pk]))
    retry = EvalJob.objects.exclude(pk=job.pk).get()
    assert retry.retry_of == job
    assert retry.status == JobStatus.QUEUED
    assert response["Location"] == reverse("evaluations:job-detail", args=[retry.pk])


def test_a_finished_job_cannot_be_cancelled(engineer_client):
    job = EvalJobFactory(status=JobStatus.SUCCEEDED)
    response = engineer_client.post(reverse("evaluations:job-cancel", args=[job.pk]), follow=True)
    assert "has already ended" in response.content.decode()


def test_the_job_list_filters(engineer_client, engineer):
    mine = EvalJobFactory(requested_by=engineer, tasks=["mmlu"], status=JobStatus.FAILED)
    other = EvalJobFactory(tasks=["hellaswag"])
    url = reverse("evaluations:job-list")

    def listed(**query):
        return [job.pk for job in engineer_client.get(url, query).context["jobs"]]

    assert listed(engineer="engineer") == [mine.pk]
    assert listed(task="hellaswag") == [other.pk]
    assert listed(status="failed") == [mine.pk]
    assert listed(model=other.model.key) == [other.pk]


def test_compare_jobs_side_by_side_and_export_csv(engineer_client):
    a = MetricResultFactory(value=0.5, stderr=0.1)
    b = MetricResultFactory(value=0.75, stderr=None)
    MetricResultFactory(run=b.run, task="mmlu", value=0.3)
    url = reverse("evaluations:job-compare")
    query = {"jobs": [a.run.job.pk, b.run.job.pk]}

    page = engineer_client.get(url, query)
    rows = page.context["rows"]
    assert [(r.task, [c.value if c else None for c in r.cells]) for r in rows] == [
        ("mmlu", [None, 0.3]),
        ("rightsize_demo_mc", [0.5, 0.75]),
    ]
    exported = engineer_client.get(url, {**query, "format": "csv"})
    assert exported["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(exported.content.decode())))
    assert table[0][:3] == ["task", "metric", "filter"]
    assert table[2] == ["rightsize_demo_mc", "acc", "none", "0.5", "0.1", "0.75", ""]
