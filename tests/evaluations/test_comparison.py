"""The domain-set comparison: base, finetuned checkpoints and large models, with their costs."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Weights
from catalog.services import checkpoint_register
from evaluations.comparison import ServingVolume, domain_set_comparison
from evaluations.models import DomainEvalSet

from ..factories import (
    ApiDeploymentFactory,
    HardwareProfileFactory,
    LanguageModelFactory,
    SelfHostedDeploymentFactory,
    SourceFactory,
)
from .factories import EvalRunFactory, MetricResultFactory

pytestmark = pytest.mark.django_db

VOLUME = ServingVolume(requests_per_month=1000, input_tokens=500, output_tokens=200)


@pytest.fixture
def domain_set():
    return DomainEvalSet.objects.create(
        name="claims",
        kind="multiple_choice",
        rows=[{"question": "q", "choices": ["a", "b"], "answer": 0}],
        n_rows=1,
        content_hash="c" * 64,
        task_name="domain_claims_cccccccc",
    )


def _measure(model, task: str, value: float, stderr: float | None = 0.04):
    MetricResultFactory(
        run=EvalRunFactory(job__model=model), task=task, metric="acc", value=value, stderr=stderr
    )


@pytest.fixture
def world(domain_set):
    base = LanguageModelFactory(key="mistral-7b", name="Mistral 7B", hf_repo="mistralai/m7b")
    SelfHostedDeploymentFactory(model=base, hardware=HardwareProfileFactory(usd_per_hour=3))
    SelfHostedDeploymentFactory(
        model=base, hardware=HardwareProfileFactory(name="1 x L4", usd_per_hour=Decimal("1.5"))
    )
    checkpoint = checkpoint_register(
        base_model=base,
        name="Mistral 7B claims",
        key="mistral-7b-claims",
        method="lora",
        data_description="claims",
        gpu_hours=Decimal(10),
        hardware=HardwareProfileFactory(gpu_count=8, usd_per_hour=Decimal(16)),
        trained_on=datetime.date(2024, 3, 1),
        location="acme/claims-lora",
        location_kind="adapter",
        registered_by=None,
    )
    source = SourceFactory()
    gpt4 = LanguageModelFactory(
        key="gpt-4", name="GPT-4", parameters=None, parameters_source=None,
        stated_size_class="large", stated_size_class_source=source, weights=Weights.API_ONLY,
        weights_source=source, licence=None, licence_source=None, training_tokens=None,
    )  # fmt: skip
    ApiDeploymentFactory(model=gpt4, usd_per_million_input=30, usd_per_million_output=60)
    ApiDeploymentFactory(model=gpt4, usd_per_million_input=10, usd_per_million_output=30)
    task = domain_set.task_name
    _measure(base, task, 0.40, 0.05)
    _measure(checkpoint, task, 0.80)
    _measure(gpt4, task, 0.82)
    _measure(LanguageModelFactory(name="Elsewhere"), "mmlu", 0.9)  # another task: not shown
    return {"base": base, "checkpoint": checkpoint, "gpt4": gpt4}


def _rows(domain_set):
    comparison = domain_set_comparison(domain_set=domain_set, volume=VOLUME)
    return comparison, {row.model.key: row for row in comparison.rows}


def test_base_then_its_checkpoints_then_the_other_models(domain_set, world):
    comparison, _ = _rows(domain_set)
    assert [(row.model.key, row.role) for row in comparison.rows] == [
        ("mistral-7b", "base"),
        ("mistral-7b-claims", "finetune"),
        ("gpt-4", "other"),
    ]
    assert comparison.best_other.model == world["gpt4"]


def test_scores_come_with_their_stderr_and_the_gain_over_the_base(domain_set, world):
    _, rows = _rows(domain_set)
    checkpoint = rows["mistral-7b-claims"]
    assert (checkpoint.evidence.value, checkpoint.evidence.stderr) == (0.80, 0.04)
    assert checkpoint.gain_over_base == pytest.approx(0.40)
    assert rows["mistral-7b"].gain_over_base is None


def test_finetuning_cost_is_gpu_hours_at_one_gpus_price(domain_set, world):
    _, rows = _rows(domain_set)
    assert rows["mistral-7b-claims"].training_cost_usd == Decimal(20)  # 10 h x $16 / 8 GPUs
    assert rows["mistral-7b"].training_cost_usd is None


def test_api_models_cost_their_cheapest_api_at_the_volume(domain_set, world):
    _, rows = _rows(domain_set)
    serving = rows["gpt-4"].serving
    # 1000 requests x (500 x $10 + 200 x $30) per million tokens; the $30/$60 API costs $27.
    assert serving.kind == "api"
    assert serving.usd_per_month == Decimal(11)


def test_open_models_cost_their_cheapest_hardware_all_month(domain_set, world):
    _, rows = _rows(domain_set)
    base = rows["mistral-7b"].serving
    assert (base.kind, base.usd_per_month) == ("self_hosted", Decimal("1.5") * 730)
    assert "1 x L4" in base.how


def test_a_checkpoint_without_a_deployment_is_priced_on_its_bases_hardware(domain_set, world):
    _, rows = _rows(domain_set)
    serving = rows["mistral-7b-claims"].serving
    assert serving.usd_per_month == Decimal("1.5") * 730
    assert "its base's hardware" in serving.how


def test_the_verdict_says_whether_finetuning_closed_the_gap(domain_set, world):
    comparison, _ = _rows(domain_set)
    [verdict] = comparison.verdicts
    assert "clearly above its base by 40.0 points" in verdict
    assert "within two standard errors of GPT-4: the gap is closed" in verdict


def test_a_gap_beyond_the_standard_errors_is_still_open(domain_set, world):
    _measure(world["gpt4"], domain_set.task_name, 0.97, 0.01)  # a newer run counts
    comparison, _ = _rows(domain_set)
    assert "it trails GPT-4 by 17.0 points: the gap is still open" in comparison.verdicts[0]


def test_an_unmeasured_checkpoint_of_a_measured_base_is_listed(domain_set, world):
    checkpoint_register(
        base_model=world["base"], name="Mistral 7B claims v2", key="mistral-7b-claims-v2",
        method="full", data_description="claims", gpu_hours=1, hardware_description="CPU",
        trained_on=datetime.date(2024, 4, 1), location="acme/claims-v2", location_kind="hub",
        registered_by=None,
    )  # fmt: skip
    _, rows = _rows(domain_set)
    assert rows["mistral-7b-claims-v2"].evidence is None
    assert rows["mistral-7b-claims-v2"].training_cost_usd is None  # CPU: no profile to price


def test_the_page_shows_scores_stderr_and_costs_at_the_chosen_volume(
    client, engineer, domain_set, world
):
    client.force_login(engineer)
    url = reverse("evaluations:domain-set-compare", args=[domain_set.pk])
    page = client.get(url, VOLUME.__dict__).content.decode()
    assert '0.800 <span class="stderr">± 0.040</span>' in page
    assert "$11.00" in page  # GPT-4's API at 1000 requests
    assert "$1,095.00" in page  # 1 x L4 all month
    assert "$20.00" in page  # the finetune
    assert "one instance running all month" in page


def test_project_managers_read_the_comparison(client, project_manager, domain_set, world):
    client.force_login(project_manager)
    url = reverse("evaluations:domain-set-compare", args=[domain_set.pk])
    assert client.get(url).status_code == 200


def test_a_wrong_volume_falls_back_to_the_defaults_and_says_so(client, engineer, domain_set):
    client.force_login(engineer)
    url = reverse("evaluations:domain-set-compare", args=[domain_set.pk])
    response = client.get(url, {"requests_per_month": "-5"})
    assert response.status_code == 200
    assert response.context["comparison"].volume == ServingVolume()
    assert response.context["form"].errors["requests_per_month"]


def test_the_domain_sets_page_links_each_set_to_its_comparison(client, engineer, domain_set):
    client.force_login(engineer)
    page = client.get(reverse("evaluations:domain-sets")).content.decode()
    assert reverse("evaluations:domain-set-compare", args=[domain_set.pk]) in page
