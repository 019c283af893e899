"""The decision engine on the article's use cases, and each rule of the decision on its own.

Every catalog here is plain data (tests/advisor/__init__.py): figures and prices as published.
"""

import json
import math
import random
from dataclasses import replace

import pytest

from advisor.engine import (
    DEFAULT_ASSUMPTIONS,
    ApiOption,
    Assumptions,
    Evidence,
    ModelEntry,
    ModelFacts,
    digest_catalog,
    privacy_score,
    recommend,
)
from advisor.engine.cost import size_hardware
from advisor.engine.evidence import finetuning_uplift
from advisor.engine.privacy import API_ANYWHERE, API_REGION, ON_PREMISES, PRIVATE_CLOUD
from advisor.use_case import WEIGHT_PRESETS, UseCase

from . import (
    article_models,
    chinchilla,
    gpt4,
    gpt4o,
    gpt4o_mini,
    hardware,
    llama2_70b,
    llama31_8b,
    llama31_70b,
    mistral_7b,
    phi2,
    reported,
    use_case_data,
)


def preset(key: str) -> dict[str, float]:
    return WEIGHT_PRESETS[key].weights.as_dict()


def use_case(**changes) -> UseCase:
    return UseCase.from_dict(use_case_data(**changes))


def hospital(**changes) -> UseCase:
    """Discharge letters: health records that must stay in the hospital, a model it owns,
    20,000 letters already coded by its staff to finetune on."""
    data = {
        "name": "Discharge letters",
        "description": "Summarise discharge letters and extract diagnoses and medication.",
        "task_categories": ["extraction", "summarisation", "classification"],
        "domain": "health care",
        "languages": ["de", "en"],
        "data_sensitivity": "regulated",
        "data_location": "on_premises",
        "needs_ownership": True,
        "labelled_examples": 20_000,
        "monthly_requests": 200_000,
        "input_tokens": 1500,
        "output_tokens": 300,
        "distinct_tasks": 1,
        "weights": preset("hospital"),
    }
    data.update(changes)
    return use_case(**data)


def company_assistant(**changes) -> UseCase:
    """One assistant for everyone's questions: broad needs, low volume, internal data."""
    data = {
        "name": "Company assistant",
        "task_categories": ["chat", "question_answering", "summarisation", "reasoning"],
        "domain": "general",
        "data_sensitivity": "internal",
        "data_location": "anywhere",
        "monthly_requests": 20_000,
        "input_tokens": 800,
        "output_tokens": 400,
        "ml_expertise": "none",
        "distinct_tasks": 5,
        "weights": preset("enterprise_assistant"),
    }
    data.update(changes)
    return use_case(**data)


def ticket_classification(**changes) -> UseCase:
    """Five million tickets a month into one of a fixed set of queues, 50,000 labelled."""
    data = {
        "name": "Ticket routing",
        "task_categories": ["classification"],
        "labelled_examples": 50_000,
        "monthly_requests": 5_000_000,
        "input_tokens": 400,
        "output_tokens": 5,
        "distinct_tasks": 1,
        "weights": preset("startup"),
    }
    data.update(changes)
    return use_case(**data)


def reasoning_analysis(**changes) -> UseCase:
    """Quantitative analysis with code: multi-step reasoning, few requests, high bar."""
    data = {
        "name": "Analyst copilot",
        "task_categories": ["reasoning", "code"],
        "data_sensitivity": "public",
        "monthly_requests": 2_000,
        "input_tokens": 2000,
        "output_tokens": 800,
        "min_accuracy": 0.8,
        "weights": preset("research"),
    }
    data.update(changes)
    return use_case(**data)


def by_choice(recommendation, model: str, deployment: str):
    return [c for c in recommendation.ranking if (c.model, c.deployment) == (model, deployment)]


def excluded(recommendation, model: str, deployment: str | None = None):
    return [
        e
        for e in recommendation.excluded
        if e.model == model and (deployment is None or e.deployment == deployment)
    ]


# --- the article's use cases ---------------------------------------------------------------------


def test_hospital_gets_a_small_self_hosted_model_and_no_third_party_api():
    result = recommend(hospital(), article_models())

    top = result.top
    assert result.verdict == "small"
    assert top.deployment in ("self_hosted", "self_hosted_finetuned")
    assert top.data_goes_to == "on_premises"
    assert top.model in ("llama-3.1-8b-instruct", "mistral-7b")
    # Why: the APIs may not see the records, and a model the hospital owns must be open.
    for api_model in ("gpt-4", "gpt-4o", "gpt-4o-mini"):
        (exclusion,) = excluded(result, api_model)
        assert exclusion.deployment == "api"
        assert "data must stay on premises" in exclusion.reason
        assert "third party" in exclusion.reason
        assert "not released (API only)" in exclusion.reason
        assert exclusion.constraints == ("data_location", "needs_ownership")
    # Why small: the large candidates score as well on privacy but cost several times more.
    best_large = next(c for c in result.ranking if c.verdict_class == "large")
    assert best_large.monthly_cost_usd > 4 * top.monthly_cost_usd
    assert all(c.data_goes_to == "on_premises" for c in result.ranking)


def test_hospital_lists_chinchilla_as_a_reference_and_notes_the_llama_licence_caveat():
    result = recommend(hospital(), article_models())

    (reference,) = excluded(result, "chinchilla-70b")
    assert reference.deployment is None
    assert reference.reason == "never released: shown as a reference"
    llama = by_choice(result, "llama-3.1-8b-instruct", "self_hosted")[0]
    assert any("allows commercial use with conditions" in flag for flag in llama.flags)


def test_company_assistant_gets_a_large_model_through_an_api():
    result = recommend(company_assistant(), article_models())

    top = result.top
    assert result.verdict == "large"
    assert (top.model, top.deployment) == ("gpt-4", "api")
    # Why: at 20,000 requests the API costs less than one always-on GPU server for a large
    # model, and it covers every category the assistant needs, reasoning included.
    self_hosted_large = [
        c for c in result.ranking if c.verdict_class == "large" and c.deployment != "api"
    ]
    assert top.monthly_cost_usd < min(c.monthly_cost_usd for c in self_hosted_large)
    assert top.scores.generality == 1.0
    assert {f.benchmark for f in top.evidence} >= {"mmlu", "gsm8k"}
    small = [c for c in result.ranking if c.verdict_class == "small"]
    assert all(any("world knowledge" in flag for flag in c.flags) for c in small)
    assert all(any("multi-step reasoning" in flag for flag in c.flags) for c in small)


def test_high_volume_classification_gets_a_small_model_because_api_cost_dominates():
    result = recommend(ticket_classification(), article_models())

    top = result.top
    assert result.verdict == "small"
    assert top.deployment in ("self_hosted", "self_hosted_finetuned")
    (gpt4_api,) = by_choice(result, "gpt-4", "api")
    assert gpt4_api.monthly_cost_usd == pytest.approx(5_000_000 * (400 * 30 + 5 * 60) / 1e6)
    assert gpt4_api.monthly_cost_usd > 50 * top.monthly_cost_usd
    (gpt4o_api,) = by_choice(result, "gpt-4o", "api")
    assert gpt4o_api.monthly_cost_usd > 5 * top.monthly_cost_usd


def test_high_volume_classification_finetunes_on_its_labelled_data():
    result = recommend(ticket_classification(), article_models())

    top = result.top
    assert top.deployment == "self_hosted_finetuned"
    assert top.accuracy_is_estimate
    uplift = next(f for f in top.evidence if f.role == "estimate")
    assert uplift.value == pytest.approx(0.03 * math.log10(1 + 50_000), abs=0.02)
    assert result.confidence.level == "low"
    assert "estimated finetuning uplift" in result.confidence.reason
    proposal = next(p for p in result.proposed_evaluations if p.model == top.model)
    assert "finetune on your labelled examples and measure" in proposal.reason


def test_reasoning_heavy_analysis_gets_a_large_model():
    result = recommend(reasoning_analysis(), article_models())

    assert result.verdict == "large"
    assert result.top.verdict_class == "large"
    # Why: the small open models fall below the required accuracy on reasoning and code...
    for model in ("mistral-7b", "llama-3.1-8b-instruct"):
        reasons = {e.reason for e in excluded(result, model, "self_hosted")}
        assert reasons and all("below the minimum of 0.800" in r for r in reasons)
    # ...and the small API model has no reasoning figure, flagged and counted pessimistically.
    (mini,) = by_choice(result, "gpt-4o-mini", "api")
    assert "small models are known to be weak at multi-step reasoning" in mini.flags
    assert "reasoning" in {c for f in mini.evidence if f.role == "imputed" for c in f.categories}
    assert mini.total < result.top.total


def test_many_distinct_tasks_multiply_small_finetuned_deployments_until_one_large_model_wins():
    one = recommend(hospital(distinct_tasks=1), article_models())
    three = recommend(hospital(distinct_tasks=3), article_models())

    def finetuned_8b_on_l4(result):
        return next(
            c
            for c in by_choice(result, "llama-3.1-8b-instruct", "self_hosted_finetuned")
            if c.hardware.startswith("1 x NVIDIA L4")
        )

    assert finetuned_8b_on_l4(one).cost.deployments == 1
    assert finetuned_8b_on_l4(three).cost.deployments == 3
    assert finetuned_8b_on_l4(three).cost.inference_usd == pytest.approx(
        3 * finetuned_8b_on_l4(one).cost.inference_usd
    )
    assert one.verdict == "small"
    assert three.verdict == "large"
    assert three.top.deployment == "self_hosted"  # one generalist serves all three tasks


# --- cost ----------------------------------------------------------------------------------------


def test_api_cost_is_requests_times_tokens_times_prices():
    result = recommend(use_case(monthly_requests=30_000), [gpt4o()])

    (candidate,) = result.ranking
    assert candidate.monthly_cost_usd == pytest.approx(30_000 * (400 * 2.5 + 10 * 10.0) / 1e6)
    assert candidate.cost.inference_usd == candidate.monthly_cost_usd
    assert "30,000 requests" in candidate.cost.basis


def test_self_hosted_cost_is_always_on_replicas_at_the_hourly_price():
    idle = recommend(use_case(monthly_requests=0), [phi2()])
    busy = recommend(use_case(monthly_requests=50_000_000), [phi2()])

    (at_rest,) = idle.ranking
    (loaded,) = busy.ranking
    assert at_rest.cost.replicas == 1
    assert at_rest.monthly_cost_usd == pytest.approx(0.8048 * 730)
    assert loaded.cost.replicas > 1
    assert loaded.monthly_cost_usd == pytest.approx(loaded.cost.replicas * 0.8048 * 730)
    needed = 50_000_000 * 2 / (730 * 3600)
    assert loaded.cost.replicas == math.ceil(needed / loaded.cost.capacity_requests_per_s)


def test_throughput_is_estimated_from_memory_bandwidth_and_compute():
    sizing = size_hardware(7_300_000_000, hardware("a100-80gb-x1"), DEFAULT_ASSUMPTIONS)

    weights_bytes = 7.3e9 * 2
    assert sizing.weights_gb == pytest.approx(14.6)
    assert sizing.memory_needed_gb == pytest.approx(14.6 * 1.2)
    assert sizing.step_s == pytest.approx(weights_bytes / (1935e9 * 0.6))
    assert sizing.prefill_s_per_token == pytest.approx(2 * 7.3e9 / (312e12 * 0.4))
    per_request = 400 * sizing.prefill_s_per_token + 10 * sizing.step_s / 16
    assert sizing.capacity_requests_per_s(400, 10) == pytest.approx(1 / per_request)


def test_a_model_too_large_for_one_gpu_is_split_across_the_gpus_of_its_replica():
    sizing = size_hardware(70_000_000_000, hardware("a100-80gb-x4"), DEFAULT_ASSUMPTIONS)
    small = size_hardware(7_300_000_000, hardware("a100-80gb-x4"), DEFAULT_ASSUMPTIONS)

    assert sizing.gpus_per_copy == 3  # 168 GB with overhead needs three 80 GB GPUs
    assert sizing.copies == 1
    assert small.gpus_per_copy == 1
    assert small.copies == 4


def test_finetuning_cost_is_six_flops_per_parameter_and_token_amortised_over_a_year():
    result = recommend(
        use_case(labelled_examples=10_000, input_tokens=400, output_tokens=100), [mistral_7b()]
    )

    tuned = next(
        c
        for c in by_choice(result, "mistral-7b", "self_hosted_finetuned")
        if c.hardware.startswith("1 x NVIDIA A100")
    )
    tokens = 10_000 * 500 * 3
    gpu_hours = 6 * 7.3e9 * tokens / (312e12 * 0.4) / 3600
    assert tuned.cost.training_gpu_hours == pytest.approx(gpu_hours)
    assert tuned.cost.training_usd == pytest.approx(gpu_hours * 3.673)
    assert tuned.cost.finetuning_usd == pytest.approx(gpu_hours * 3.673 / 12)
    assert tuned.monthly_cost_usd == pytest.approx(
        tuned.cost.inference_usd + tuned.cost.finetuning_usd
    )


def test_finetuned_candidates_exist_only_for_open_weights_with_labelled_examples():
    without = recommend(use_case(labelled_examples=0), article_models())
    with_examples = recommend(use_case(labelled_examples=1000), article_models())

    assert not [c for c in without.ranking if c.deployment == "self_hosted_finetuned"]
    tuned = {c.model for c in with_examples.ranking if c.deployment == "self_hosted_finetuned"}
    assert tuned == {"llama-2-70b", "mistral-7b", "phi-2", "llama-3.1-8b-instruct",
                     "llama-3.1-70b-instruct"}  # fmt: skip


# --- hard constraints ----------------------------------------------------------------------------


def test_weights_that_do_not_fit_the_hardware_exclude_that_option():
    too_small = replace(llama2_70b(), self_hosted=(hardware("a100-80gb-x1", "bf16"),))

    result = recommend(use_case(), [too_small])

    (exclusion,) = result.excluded
    assert exclusion.constraints == ("memory",)
    assert exclusion.reason == (
        "the weights need 140.0 GB at bf16 but 1 x NVIDIA A100 80GB PCIe has 80 GB"
    )
    assert result.verdict is None
    assert result.confidence.level == "low"


def test_a_region_bound_use_case_excludes_an_api_that_states_no_region():
    eu = ApiOption("Mistral", "mistral-large", 2.0, 6.0, "EU", True, False, "pricing")
    regional = replace(gpt4(), api_options=(*gpt4().api_options, eu))

    result = recommend(use_case(data_location="region"), [regional])

    (exclusion,) = result.excluded
    assert exclusion.option == "OpenAI gpt-4"
    assert "binds gpt-4 to no region (region: global)" in exclusion.reason
    assert "a global API is not region-bound" in exclusion.reason
    assert [c.option for c in result.ranking] == ["Mistral mistral-large"]
    assert result.top.data_goes_to == "api_region"
    assert "processed in EU: check that your data may go there" in result.top.flags


@pytest.mark.parametrize("location", ["on_premises", "private_cloud"])
def test_data_that_must_stay_in_the_organisation_excludes_third_party_apis(location):
    result = recommend(use_case(data_location=location), [gpt4(), mistral_7b()])

    assert {c.deployment for c in result.ranking} == {"self_hosted"}
    assert [e.constraints for e in result.excluded] == [("data_location",)]


def test_on_premises_excludes_hardware_in_a_private_cloud():
    cloud = replace(mistral_7b(), self_hosted=(hardware("l4-24gb-x1", hosting="private_cloud"),))

    on_premises = recommend(use_case(data_location="on_premises"), [cloud])
    private = recommend(use_case(data_location="private_cloud"), [cloud])

    assert on_premises.excluded[0].reason == (
        "data must stay on premises: this hardware is in a private cloud"
    )
    assert private.top.data_goes_to == "private_cloud"


@pytest.mark.parametrize(("sensitivity", "allowed"), [
    ("public", True), ("internal", True), ("confidential", False), ("regulated", False),
])  # fmt: skip
def test_a_provider_that_trains_on_api_data_is_excluded_for_confidential_data(sensitivity, allowed):
    trains = ApiOption("Cheap AI", "cheap-1", 0.1, 0.1, "global", True, True, "terms")
    model = replace(gpt4o_mini(), api_options=(trains,))

    result = recommend(use_case(data_sensitivity=sensitivity), [model])

    assert bool(result.ranking) is allowed
    if not allowed:
        assert result.excluded[0].reason == f"{sensitivity} data, and Cheap AI trains on API data"


def test_ownership_needs_open_weights_under_a_licence_that_allows_commercial_use():
    research_only = ModelEntry(
        facts=replace(
            mistral_7b().facts,
            key="llama-65b",
            name="LLaMA 65B",
            licence_commercial="not_allowed",
            licence_name="the LLaMA research licence",
        ),
        self_hosted=(hardware("l4-24gb-x1"),),
        evidence=(reported("mmlu", 0.634, "https://arxiv.org/abs/2302.13971 Table 9"),),
    )
    open_api = replace(mistral_7b(), api_options=(gpt4().api_options[0],))

    result = recommend(
        use_case(needs_ownership=True), [gpt4(), research_only, open_api, llama31_8b()]
    )

    reasons = {(e.model, e.deployment): e.reason for e in result.excluded}
    assert reasons[("gpt-4", "api")] == (
        "you need to own the model, but its weights are not released (API only)"
    )
    assert reasons[("llama-65b", "self_hosted")] == (
        "you need to own the model, but the LLaMA research licence does not allow commercial use"
    )
    assert "a hosted API runs the provider's copy" in reasons[("mistral-7b", "api")]
    ranked = {(c.model, c.deployment) for c in result.ranking}
    assert ranked == {("mistral-7b", "self_hosted"), ("llama-3.1-8b-instruct", "self_hosted")}
    llama = by_choice(result, "llama-3.1-8b-instruct", "self_hosted")[0]
    assert any("with conditions: needs a licence from Meta" in flag for flag in llama.flags)


def test_never_released_models_are_references_not_candidates():
    result = recommend(use_case(), [chinchilla(), phi2()])

    assert [c.model for c in result.ranking] == ["phi-2"]
    assert result.excluded[0].model == "chinchilla-70b"
    assert result.excluded[0].constraints == ("never_released",)


def test_min_accuracy_excludes_only_where_evidence_exists():
    unknown = replace(phi2(), facts=replace(phi2().facts, key="phi-x", name="Phi X"), evidence=())

    result = recommend(use_case(min_accuracy=0.6), [phi2(), unknown])

    assert [c.model for c in result.ranking] == ["phi-x"]
    assert result.top.accuracy_own is None
    assert result.top.accuracy == 0.567  # no figure: counted as the lowest any model has
    assert result.excluded[0].reason == (
        "accuracy 0.567 on its own evidence is below the minimum of 0.600"
    )


def test_the_budget_excludes_what_costs_more_per_month():
    result = recommend(use_case(monthly_budget_usd=700), [phi2(), llama31_70b()])

    assert {c.model for c in result.ranking} == {"phi-2"}
    reasons = [e.reason for e in result.excluded]
    assert "costs $2,681 a month, over the budget of $700" in reasons


def test_a_request_longer_than_the_context_window_excludes_the_model():
    result = recommend(use_case(input_tokens=2000, output_tokens=100), [phi2()])

    assert result.excluded[0].reason == (
        "a request needs 2,100 tokens but the model reads at most 2,048"
    )


def test_an_undisclosed_parameter_count_cannot_be_sized_for_self_hosting():
    secret = ModelEntry(
        facts=ModelFacts("secret-7b", "Secret", None, "small", "open", "allowed"),
        self_hosted=(hardware("l4-24gb-x1"),),
    )

    result = recommend(use_case(), [secret])

    assert result.excluded[0].constraints == ("parameters_unknown",)


# --- accuracy ------------------------------------------------------------------------------------


def test_task_categories_map_to_their_benchmarks_primary_counting_twice():
    result = recommend(use_case(task_categories=["classification"]), [mistral_7b()])

    candidate = result.top
    assert candidate.accuracy == pytest.approx((2 * 0.601 + 0.813 + 0.753 + 0.555) / 5)
    assert [f.benchmark for f in candidate.evidence] == [
        "mmlu",
        "hellaswag",
        "arc_challenge",
        "winogrande",
    ]
    code = recommend(use_case(task_categories=["code"]), [mistral_7b()]).top
    assert code.accuracy == pytest.approx((0.305 + 0.475) / 2)


def test_measured_beats_reported_for_the_same_benchmark_and_keeps_its_stderr():
    measured = Evidence("mmlu", 0.58, 0.004, "measured", "run 42", shots=5)
    model = replace(phi2(), evidence=(*phi2().evidence, measured))

    candidate = recommend(use_case(), [model]).top

    (figure,) = candidate.evidence
    assert (figure.value, figure.kind, figure.stderr, figure.source) == (
        0.58,
        "measured",
        0.004,
        "run 42",
    )
    assert candidate.accuracy == 0.58
    assert candidate.accuracy_stderr == pytest.approx(0.004)


def test_a_domain_evaluation_set_outweighs_the_general_benchmarks():
    domain = Evidence("tickets-2024", 0.91, 0.01, "measured", "run 7", is_domain_set=True)
    model = replace(phi2(), evidence=(*phi2().evidence, domain))

    candidate = recommend(use_case(domain_eval_set="tickets-2024"), [model]).top

    assert candidate.accuracy == pytest.approx(0.75 * 0.91 + 0.25 * 0.567)
    assert candidate.evidence[0].benchmark == "tickets-2024"
    assert candidate.evidence[0].role == "domain"


def test_another_domain_set_than_the_use_cases_does_not_count():
    domain = Evidence("contracts", 0.91, 0.01, "measured", "run 7", is_domain_set=True)
    model = replace(phi2(), evidence=(*phi2().evidence, domain))

    candidate = recommend(use_case(domain_eval_set="tickets-2024"), [model]).top

    assert candidate.accuracy == pytest.approx(0.567)


def test_finetuning_uplift_is_a_conservative_capped_estimate():
    assumptions = DEFAULT_ASSUMPTIONS

    assert finetuning_uplift(0.6, 0, expertise="some", assumptions=assumptions) == 0
    assert finetuning_uplift(0.6, 999, expertise="some", assumptions=assumptions) == (
        pytest.approx(0.09)
    )
    assert finetuning_uplift(0.2, 10**9, expertise="some", assumptions=assumptions) == 0.15
    assert finetuning_uplift(0.9, 10**9, expertise="some", assumptions=assumptions) == (
        pytest.approx(0.05)  # at most half the remaining error
    )
    assert finetuning_uplift(0.6, 999, expertise="none", assumptions=assumptions) == (
        pytest.approx(0.045)
    )


def test_a_measured_finetuned_figure_replaces_the_estimate():
    tuned = Evidence("mmlu", 0.7, 0.005, "measured", "run 99", finetuned=True)
    model = replace(phi2(), evidence=(*phi2().evidence, tuned))

    result = recommend(use_case(labelled_examples=5000), [model])

    (candidate,) = by_choice(result, "phi-2", "self_hosted_finetuned")
    assert candidate.accuracy == 0.7
    assert not candidate.accuracy_is_estimate
    assert [(f.value, f.kind, f.finetuned) for f in candidate.evidence] == [(0.7, "measured", True)]
    (base,) = by_choice(result, "phi-2", "self_hosted")
    assert base.accuracy == 0.567


def test_a_category_without_any_benchmark_is_missing_evidence_and_asks_for_a_domain_set():
    result = recommend(use_case(task_categories=["translation"]), [phi2(), gpt4()])

    assert result.confidence.level == "low"
    assert "no model has a figure for translation" in result.confidence.reason
    assert any(
        "no benchmark in the catalog covers translation: upload a domain evaluation set" in p.reason
        for p in result.proposed_evaluations
    )
    assert all(c.accuracy is None for c in result.ranking)


def test_a_missing_category_counts_the_lowest_figure_any_model_has():
    result = recommend(use_case(task_categories=["reasoning"]), [gpt4o(), mistral_7b()])

    (gpt4o_api,) = by_choice(result, "gpt-4o", "api")
    mistral_reasoning = (2 * 0.522 + 0.555) / 3
    assert gpt4o_api.accuracy == pytest.approx(mistral_reasoning)
    assert gpt4o_api.accuracy_own is None
    assert any(p.model == "gpt-4o" and "gsm8k" in p.tasks for p in result.proposed_evaluations)


# --- privacy and generality ----------------------------------------------------------------------


def test_privacy_never_rises_as_data_goes_further():
    for sensitivity in ("public", "internal", "confidential", "regulated"):
        scores = [
            privacy_score(sensitivity, reach, retains=retains, trains=trains)
            for reach in (ON_PREMISES, PRIVATE_CLOUD, API_REGION, API_ANYWHERE)
            for retains, trains in ((False, False), (True, False), (True, True))
        ]
        assert scores == sorted(scores, reverse=True)
        assert privacy_score(sensitivity, ON_PREMISES) == 1.0


def test_more_sensitive_data_lowers_the_privacy_of_an_api_more():
    values = [
        recommend(use_case(data_sensitivity=s), [gpt4o()]).top.privacy
        for s in ("public", "internal", "confidential")
    ]

    assert values == sorted(values, reverse=True)


def test_generality_counts_missing_general_benchmarks_as_chance():
    candidate = recommend(use_case(), [phi2()]).top

    assert candidate.generality_breadth == pytest.approx((0.567 + 5 * 0.25) / 6)
    assert any("no figure for hellaswag" in flag for flag in candidate.flags)


def test_broad_use_cases_weigh_generality_more():
    narrow = recommend(use_case(), [gpt4(), phi2()])
    broad = recommend(company_assistant(), [gpt4(), phi2()])

    def phi(result):
        return by_choice(result, "phi-2", "self_hosted")[0].scores.generality

    assert phi(broad) < phi(narrow)


# --- verdict, ranking, output --------------------------------------------------------------------


def test_medium_and_undisclosed_sizes_count_as_large():
    medium = recommend(use_case(), [llama2_70b()])
    undisclosed = recommend(use_case(), [gpt4o()])

    assert medium.verdict == "large"
    assert "medium-sized: counted as large for the small-or-large verdict" in medium.top.flags
    assert undisclosed.verdict == "large"
    assert undisclosed.top.size_class is None
    assert any("size undisclosed" in flag for flag in undisclosed.top.flags)
    assert recommend(use_case(), [gpt4o_mini()]).verdict == "small"  # a stated class counts


def test_the_total_is_the_weighted_sum_of_scores_between_0_and_1():
    result = recommend(company_assistant(), article_models())

    weights = company_assistant().weights.as_tuple()
    for candidate in result.ranking:
        scores = candidate.scores.as_tuple()
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert candidate.total == pytest.approx(
            sum(w * s for w, s in zip(weights, scores, strict=True))
        )
    totals = [c.total for c in result.ranking]
    assert totals == sorted(totals, reverse=True)
    cheapest = min(result.ranking, key=lambda c: c.monthly_cost_usd)
    assert cheapest.scores.cost == 1.0


def test_the_same_input_gives_the_same_output_whatever_the_catalog_order():
    models = list(article_models())
    first = recommend(company_assistant(), models).as_dict()
    random.Random(3).shuffle(models)

    assert recommend(company_assistant(), models).as_dict() == first


def test_ties_go_to_the_model_key():
    twin = replace(phi2(), facts=replace(phi2().facts, key="phi-2-copy", name="Phi-2 copy"))

    result = recommend(use_case(), [twin, phi2()])

    assert [c.model for c in result.ranking] == ["phi-2", "phi-2-copy"]
    assert result.ranking[0].total == result.ranking[1].total


def test_as_dict_has_exactly_the_agreed_keys_and_is_json():
    data = recommend(hospital(), article_models()).as_dict()

    assert list(data) == [
        "verdict",
        "confidence",
        "ranking",
        "excluded",
        "sensitivity",
        "proposed_evaluations",
    ]
    assert set(data["confidence"]) == {"level", "reason"}
    first = data["ranking"][0]
    assert {"model", "parameters", "deployment", "monthly_cost_usd", "scores", "total",
            "evidence", "flags", "cost"} <= set(first)  # fmt: skip
    assert set(first["scores"]) == {"accuracy", "cost", "privacy", "generality"}
    assert {"benchmark", "value", "kind", "source", "stderr"} <= set(first["evidence"][0])
    assert set(data["excluded"][0]) >= {"model", "deployment", "reason"}
    assert set(data["sensitivity"]["weights"]) == {"accuracy", "cost", "privacy", "generality"}
    assert json.loads(json.dumps(data)) == data


def test_a_digested_catalog_gives_the_same_answer_and_keeps_its_assumptions():
    catalog = digest_catalog(article_models())

    assert recommend(hospital(), catalog) == recommend(hospital(), article_models())
    with pytest.raises(ValueError, match="other assumptions"):
        recommend(hospital(), catalog, assumptions=Assumptions(batch_size=4))


def test_two_models_with_one_key_are_refused():
    with pytest.raises(ValueError, match="share the key"):
        recommend(use_case(), [phi2(), phi2()])


def test_the_ranking_can_be_limited_without_changing_the_answer():
    full = recommend(company_assistant(), article_models())
    short = recommend(company_assistant(), article_models(), ranking_limit=3)

    assert short.ranking == full.ranking[:3]
    assert short.sensitivity == full.sensitivity
    assert short.verdict == full.verdict


def test_other_assumptions_change_the_cost():
    slow = Assumptions(hours_per_month=365)

    candidate = recommend(use_case(), [phi2()], assumptions=slow).top

    assert candidate.monthly_cost_usd == pytest.approx(0.8048 * 365)


# --- confidence, sensitivity, proposed evaluations -----------------------------------------------


def test_a_clear_lead_on_complete_evidence_is_high_confidence():
    result = recommend(reasoning_analysis(), [llama31_70b(), mistral_7b()])

    assert result.verdict == "large"
    assert result.confidence.level == "high"


def test_candidates_within_each_others_stderr_lower_confidence_and_propose_measuring_both():
    close = replace(
        phi2(),
        facts=replace(phi2().facts, key="phi-2b", name="Phi-2b"),
        evidence=(Evidence("mmlu", 0.57, None, "reported", "card"),),
    )

    result = recommend(use_case(), [phi2(), close])

    assert result.confidence.level in ("medium", "low")
    assert "within each other's stderr" in result.confidence.reason
    proposed = {p.model: p for p in result.proposed_evaluations}
    assert set(proposed) == {"phi-2", "phi-2b"}
    assert "mmlu" in proposed["phi-2"].tasks


def test_each_weight_flip_point_is_where_the_top_choice_really_changes():
    case = company_assistant()
    result = recommend(case, article_models())
    current = (result.top.model, result.top.deployment)

    def top_at(name: str, value: float) -> tuple[str, str]:
        moved = case.with_weights(case.weights.with_weight(name, value))
        top = recommend(moved, article_models(), with_sensitivity=False).top
        return (top.model, top.deployment)

    flips = [item for item in result.sensitivity.weights if item.flips_at is not None]
    assert flips
    for item in flips:
        direction = 1 if item.flips_at > item.current else -1
        assert top_at(item.weight, (item.current + item.flips_at) / 2) == current
        assert top_at(item.weight, item.flips_at + 0.001 * direction) == (
            item.new_top_model,
            item.new_top_deployment,
        )


def test_a_weight_that_never_changes_the_top_choice_says_so():
    result = recommend(use_case(), [phi2()])

    assert all(item.flips_at is None for item in result.sensitivity.weights)


def test_each_input_change_reports_what_a_rerun_with_that_input_decides():
    case = hospital()
    result = recommend(case, article_models())

    changes = {(c.input, c.change) for c in result.sensitivity.inputs}
    assert changes == {
        ("monthly_requests", "x10"),
        ("monthly_requests", "/10"),
        ("data_location", "-> private_cloud"),
        ("data_location", "-> region"),
        ("data_location", "-> anywhere"),
        ("labelled_examples", "-> 0"),
        ("labelled_examples", "x10"),
    }
    for change in result.sensitivity.inputs:
        rerun = recommend(case.changed(**{change.input: change.value}), article_models())
        assert change.verdict == rerun.verdict
        assert (change.top_model, change.top_deployment) == (rerun.top.model, rerun.top.deployment)
        assert change.flips_verdict == (rerun.verdict != result.verdict)


def test_fewer_labelled_examples_can_flip_the_hospital_to_a_large_model():
    result = recommend(hospital(labelled_examples=2_000, distinct_tasks=2), article_models())
    assert result.verdict == "large"

    flips = {(c.input, c.change) for c in result.sensitivity.verdict_flipped_by}

    assert ("labelled_examples", "x10") in flips
