"""Properties of the decision that hold for any catalog and any valid use case (hypothesis)."""

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.engine import (
    ALLOWED_REACH,
    BYTES_PER_PARAMETER,
    DATA_REACH,
    DEFAULT_ASSUMPTIONS,
    GENERAL_SUITE,
    ApiOption,
    Evidence,
    ModelEntry,
    ModelFacts,
    recommend,
)
from advisor.engine.cost import replicas_needed, size_hardware
from advisor.use_case import (
    DATA_LOCATIONS,
    DATA_SENSITIVITIES,
    FIELDS,
    ML_EXPERTISE,
    TASK_CATEGORIES,
    UseCase,
    UseCaseInvalid,
)

from . import article_models, hardware, use_case_data

PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HARDWARE_KEYS = ("l4-24gb-x1", "a10g-24gb-x1", "a100-80gb-x1", "a100-80gb-x2", "a100-80gb-x4")
DOMAIN_SET = "our-domain-set"

api_options = st.builds(
    ApiOption,
    provider=st.sampled_from(("OpenAI", "Mistral", "Aleph Alpha")),
    api_model=st.sampled_from(("m-1", "m-2", "m-3")),
    usd_per_million_input=st.floats(0, 60),
    usd_per_million_output=st.floats(0, 120),
    region=st.sampled_from(("global", "EU", "US", "", None)),
    provider_retains_data=st.booleans(),
    provider_trains_on_data=st.booleans(),
)
hardware_options = st.builds(
    hardware,
    st.sampled_from(HARDWARE_KEYS),
    st.sampled_from(tuple(BYTES_PER_PARAMETER)),
    st.sampled_from(("on_premises", "private_cloud")),
)
evidence = st.builds(
    Evidence,
    benchmark=st.sampled_from((*GENERAL_SUITE, "mbpp", DOMAIN_SET)),
    value=st.floats(0, 1),
    stderr=st.one_of(st.none(), st.floats(0, 0.05)),
    kind=st.sampled_from(("measured", "reported")),
    source=st.just("https://example.org/source"),
    shots=st.sampled_from((None, 0, 5)),
    finetuned=st.booleans(),
).map(
    lambda e: Evidence(
        e.benchmark, e.value, e.stderr, e.kind, e.source, e.shots, e.benchmark == DOMAIN_SET,
        e.finetuned,
    )
)  # fmt: skip


@st.composite
def catalogs(draw) -> tuple[ModelEntry, ...]:
    entries = []
    for index in range(draw(st.integers(1, 8))):
        weights = draw(st.sampled_from(("open", "open", "api_only", "never_released")))
        facts = ModelFacts(
            key=f"model-{index}",
            name=f"Model {index}",
            parameters=draw(st.one_of(st.none(), st.integers(10**8, 5 * 10**11))),
            size_class=draw(st.sampled_from((None, "small", "medium", "large"))),
            weights=weights,
            licence_commercial=draw(
                st.sampled_from((None, "allowed", "restricted", "not_allowed"))
            ),
            context_length=draw(st.sampled_from((None, 2048, 8192, 131072))),
        )
        entries.append(
            ModelEntry(
                facts=facts,
                api_options=tuple(draw(st.lists(api_options, max_size=2))),
                self_hosted=tuple(draw(st.lists(hardware_options, max_size=3)))
                if weights != "api_only"
                else (),
                evidence=tuple(draw(st.lists(evidence, max_size=8))),
            )
        )
    return tuple(entries)


weights = st.fixed_dictionaries(
    {name: st.floats(0, 10) for name in ("accuracy", "cost", "privacy", "generality")}
).filter(lambda w: sum(w.values()) > 0.01)

USE_CASE_FIELDS = {
    "name": st.just("Property"),
    "description": st.just(""),
    "task_categories": st.lists(
        st.sampled_from(TASK_CATEGORIES), min_size=1, max_size=4, unique=True
    ),
    "domain": st.just("any"),
    "languages": st.just(["en"]),
    "data_sensitivity": st.sampled_from(DATA_SENSITIVITIES),
    "data_location": st.sampled_from(DATA_LOCATIONS),
    "needs_ownership": st.booleans(),
    "labelled_examples": st.one_of(st.just(0), st.integers(0, 10**6)),
    "monthly_requests": st.integers(0, 10**9),
    "input_tokens": st.integers(1, 20_000),
    "output_tokens": st.integers(1, 4_000),
    "latency_p95_ms": st.one_of(st.none(), st.integers(1, 60_000)),
    "monthly_budget_usd": st.one_of(st.none(), st.floats(0, 10**6)),
    "ml_expertise": st.sampled_from(ML_EXPERTISE),
    "distinct_tasks": st.integers(1, 10),
    "min_accuracy": st.one_of(st.none(), st.floats(0, 1)),
    "weights": weights,
    "domain_eval_set": st.sampled_from((None, DOMAIN_SET)),
}


def use_case_strategy(**fields):
    """Valid use cases; `fields` replaces some fields' strategies."""
    return st.fixed_dictionaries({**USE_CASE_FIELDS, **fields}).map(UseCase.from_dict)


use_cases = use_case_strategy()
# Use cases that leave most candidates in, so that the weights decide between them.
open_use_cases = use_case_strategy(
    data_location=st.sampled_from(("anywhere", "region")),
    needs_ownership=st.just(False),
    monthly_budget_usd=st.none(),
    min_accuracy=st.none(),
    input_tokens=st.integers(1, 1500),
    output_tokens=st.integers(1, 500),
    monthly_requests=st.integers(0, 10**7),
)


def options_of(entry: ModelEntry, candidate) -> list:
    """The options a candidate's label can stand for (two APIs may share a label)."""
    if candidate.deployment == "api":
        found = [a for a in entry.api_options if candidate.option == f"{a.provider} {a.api_model}"]
    else:
        found = [o for o in entry.self_hosted if candidate.option == f"{o.name} · {o.precision}"]
    assert found, f"no option {candidate.option} for {entry.facts.key}"
    return found


@PROPERTY
@given(use_case=use_cases, models=catalogs())
def test_no_ranked_candidate_breaks_a_hard_constraint(use_case, models):
    result = recommend(use_case, models, with_sensitivity=False)

    by_key = {entry.facts.key: entry for entry in models}
    for candidate in result.ranking:
        entry = by_key[candidate.model]
        facts = entry.facts
        options = options_of(entry, candidate)
        assert facts.weights != "never_released"
        assert DATA_REACH.index(candidate.data_goes_to) <= ALLOWED_REACH[use_case.data_location]
        if use_case.needs_ownership:
            assert candidate.deployment != "api"
            assert facts.weights == "open"
            assert facts.licence_commercial in ("allowed", "restricted")
        if candidate.deployment == "api" and use_case.data_sensitivity in (
            "confidential",
            "regulated",
        ):
            assert any(not option.provider_trains_on_data for option in options)
        if use_case.min_accuracy is not None and candidate.accuracy_own is not None:
            assert candidate.accuracy_own >= use_case.min_accuracy
        if use_case.monthly_budget_usd is not None:
            assert candidate.monthly_cost_usd <= use_case.monthly_budget_usd
        if facts.context_length is not None:
            assert use_case.input_tokens + use_case.output_tokens <= facts.context_length
        if candidate.deployment != "api":
            assert facts.parameters is not None
            assert any(
                facts.parameters * BYTES_PER_PARAMETER[option.precision] / 1e9
                <= option.gpu_memory_gb * option.gpu_count
                for option in options
            )
        if candidate.deployment == "self_hosted_finetuned":
            assert use_case.labelled_examples > 0
            assert facts.weights == "open"


@PROPERTY
@given(use_case=open_use_cases, models=catalogs(), raise_to=st.floats(0, 1))
def test_raising_the_privacy_weight_never_sends_data_further(use_case, models, raise_to):
    before = recommend(use_case, models, with_sensitivity=False)
    current = use_case.weights.privacy
    higher = current + (1.0 - current) * raise_to
    raised = use_case.with_weights(use_case.weights.with_weight("privacy", higher))

    after = recommend(raised, models, with_sensitivity=False)

    assert bool(before.ranking) == bool(after.ranking)
    if before.ranking:
        reach_before = DATA_REACH.index(before.top.data_goes_to)
        reach_after = DATA_REACH.index(after.top.data_goes_to)
        assert reach_after <= reach_before


@PROPERTY
@given(use_case=open_use_cases, models=catalogs(), factor=st.integers(2, 1000))
def test_more_monthly_requests_never_lower_a_candidates_monthly_cost(use_case, models, factor):
    base = use_case.changed(monthly_budget_usd=None)
    more = base.changed(monthly_requests=min(base.monthly_requests * factor + 1, 10**12))

    def costs(case):
        result = recommend(case, models, with_sensitivity=False)
        return {(c.model, c.deployment, c.option): c.monthly_cost_usd for c in result.ranking}

    fewer_costs, more_costs = costs(base), costs(more)
    assert set(fewer_costs) == set(more_costs)
    for key, cost in fewer_costs.items():
        assert more_costs[key] >= cost


@PROPERTY
@given(
    requests=st.integers(0, 10**12),
    more=st.integers(0, 10**12),
    key=st.sampled_from(HARDWARE_KEYS),
    precision=st.sampled_from(("bf16", "int8", "int4")),
    parameters=st.integers(10**8, 10**11),
    deployments=st.integers(1, 20),
)
def test_replicas_never_fall_as_requests_grow(
    requests, more, key, precision, parameters, deployments
):
    sizing = size_hardware(parameters, hardware(key, precision), DEFAULT_ASSUMPTIONS)
    capacity = sizing.capacity_requests_per_s(500, 200)
    rate = requests * 2 / (730 * 3600)
    higher = (requests + more) * 2 / (730 * 3600)

    assert replicas_needed(higher, capacity, deployments) >= replicas_needed(
        rate, capacity, deployments
    )
    assert replicas_needed(rate, capacity, deployments) >= deployments


@PROPERTY
@given(use_case=use_cases, models=catalogs())
def test_never_released_models_are_never_ranked(use_case, models):
    result = recommend(use_case, models, with_sensitivity=False)

    never = {e.facts.key for e in models if e.facts.weights == "never_released"}
    assert not never & {c.model for c in result.ranking}
    references = {e.model for e in result.excluded if e.constraints == ("never_released",)}
    assert references == never


@PROPERTY
@given(use_case=use_cases)
def test_any_valid_use_case_gets_an_answer(use_case):
    result = recommend(use_case, article_models())

    data = json.loads(json.dumps(result.as_dict()))
    assert data["verdict"] in ("small", "large", None)
    assert (data["verdict"] is None) == (not result.ranking)
    assert data["confidence"]["level"] in ("high", "medium", "low")
    assert data["confidence"]["reason"]
    assert all(e["reason"] for e in data["excluded"])
    assert result == recommend(use_case, article_models())  # deterministic
    for candidate in result.ranking:
        assert math.isfinite(candidate.total) and 0.0 <= candidate.total <= 1.0 + 1e-9
        assert candidate.monthly_cost_usd >= 0


@PROPERTY
@given(use_case=open_use_cases, models=catalogs())
def test_weight_flip_points_are_where_the_top_choice_changes(use_case, models):
    result = recommend(use_case, models)
    if not result.ranking:
        return
    current = (result.top.model, result.top.deployment)

    for item in result.sensitivity.weights:
        if item.flips_at is None:
            continue
        halfway = (item.current + item.flips_at) / 2
        moved = use_case.with_weights(use_case.weights.with_weight(item.weight, halfway))
        top = recommend(moved, models, with_sensitivity=False).top
        assert (top.model, top.deployment) == current


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(FIELDS), value=json_values)
def test_any_value_in_any_field_is_accepted_or_refused_with_a_message(field, value):
    data = use_case_data(**{field: value})

    try:
        use_case = UseCase.from_dict(data)
    except UseCaseInvalid as invalid:
        assert invalid.errors
        assert all(isinstance(m, str) and m for m in invalid.errors.values())
        assert all(key == "__all__" or key.split(".")[0] in FIELDS for key in invalid.errors)
    else:
        assert UseCase.from_dict(use_case.as_dict()) == use_case


@settings(max_examples=200, deadline=None)
@given(data=json_values)
def test_arbitrary_input_is_refused_with_a_message_never_another_exception(data):
    try:
        UseCase.from_dict(data)
    except UseCaseInvalid as invalid:
        assert str(invalid)
        assert all(message for message in invalid.errors.values())


@settings(max_examples=200, deadline=None)
@given(
    data=st.dictionaries(
        st.sampled_from((*FIELDS, "extra")), json_values, min_size=0, max_size=len(FIELDS)
    )
)
def test_partial_objects_are_refused_naming_every_missing_field(data):
    try:
        UseCase.from_dict(data)
    except UseCaseInvalid as invalid:
        missing = [f for f in FIELDS if f not in data and f != "domain_eval_set"]
        for name in missing:
            assert invalid.errors[name] == "is required"
