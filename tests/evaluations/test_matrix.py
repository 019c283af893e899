from decimal import Decimal

import pytest
from django.urls import reverse

from ..factories import LanguageModelFactory, ReportedScoreFactory
from .factories import EvalRunFactory, MetricResultFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pm_client(client, project_manager):
    client.force_login(project_manager)
    return client


@pytest.fixture
def models():
    small = LanguageModelFactory(name="Small 7B", parameters=7_000_000_000)
    large = LanguageModelFactory(name="Large 70B", parameters=70_000_000_000)
    ReportedScoreFactory(model=small, benchmark="mmlu", value=Decimal("0.601"))
    ReportedScoreFactory(model=large, benchmark="mmlu", value=Decimal("0.689"))
    ReportedScoreFactory(model=large, benchmark="gsm8k", value=Decimal("0.568"), shots=8)
    return small, large


def _matrix(client, **query):
    page = client.get(reverse("evaluations:matrix"), query)
    return page, page.context["tasks"], page.context["rows"]


def test_a_measured_result_takes_the_place_of_a_reported_one_and_is_labelled(pm_client, models):
    small, _ = models
    run = EvalRunFactory(job__model=small)
    MetricResultFactory(run=run, task="mmlu", metric="acc", value=0.55, stderr=0.004)
    MetricResultFactory(run=run, task="mmlu", metric="acc_norm", value=0.58, stderr=0.004)

    page, tasks, rows = _matrix(pm_client)

    assert tasks == ["gsm8k", "mmlu"]
    cells = {row.model.name: row.cells for row in rows}
    assert cells["Small 7B"][1].kind == "measured"
    assert (cells["Small 7B"][1].value, cells["Small 7B"][1].stderr) == (0.55, 0.004)  # acc first
    assert cells["Large 70B"][1].kind == "reported" and cells["Large 70B"][1].value == 0.689
    assert cells["Small 7B"][0] is None
    html = page.content.decode()
    assert "tag-measured" in html and "tag-reported" in html
    assert f"run {run.pk}" in html


def test_the_latest_run_is_the_evidence(pm_client, models):
    small, _ = models
    MetricResultFactory(run=EvalRunFactory(job__model=small), task="mmlu", value=0.4)
    MetricResultFactory(run=EvalRunFactory(job__model=small), task="mmlu", value=0.45)
    _, _, rows = _matrix(pm_client, task="mmlu")
    small_row = next(r for r in rows if r.model == small)
    assert small_row.cells[0].value == 0.45


def test_filters_and_sorting(pm_client, models):
    _, tasks, rows = _matrix(pm_client, size_class="small")
    assert [r.model.name for r in rows] == ["Small 7B"]
    _, tasks, rows = _matrix(pm_client, task="gsm8k")
    assert tasks == ["gsm8k"] and [r.model.name for r in rows] == ["Large 70B"]
    _, tasks, rows = _matrix(pm_client, sort="mmlu")
    assert [r.model.name for r in rows][:2] == ["Large 70B", "Small 7B"]


def test_a_models_run_history_lists_every_run(pm_client, models):
    small, _ = models
    first = MetricResultFactory(run=EvalRunFactory(job__model=small), task="mmlu", value=0.4)
    second = MetricResultFactory(run=EvalRunFactory(job__model=small), task="hellaswag")
    page = pm_client.get(reverse("evaluations:model-runs", args=[small.key]))
    runs = list(page.context["runs"])
    assert [r.pk for r in runs] == [second.run.pk, first.run.pk]
