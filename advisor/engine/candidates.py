"""Candidates and their scores: build the (model, deployment) pairs, apply the hard constraints,
cost and score what remains, rank it.

Work is split so that "what if" questions stay cheap: `prepare` does what depends on the use
case's fixed parts (accuracy for its task categories, capacity for its request size, privacy,
the constraints that do not move); `evaluate` does what depends on the monthly volume, the data
location and the labelled examples (cost, the remaining constraints, normalisation, ranking).
Texts (reasons, flags, figures) are written only for what is shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from advisor.use_case import UseCase

from .assumptions import Assumptions
from .catalog import Catalog, CatalogModel
from .cost import HardwareSizing, api_usd_per_request, needed_requests_per_s, training_tokens
from .evidence import (
    BROAD_KNOWLEDGE,
    Accuracy,
    accuracy_figures,
    combine_accuracy,
    finetuning_uplift,
    select_domain_figure,
)
from .privacy import ALLOWED_REACH, api_reach, privacy_score, reach_label, self_hosted_reach
from .types import (
    DEPLOYMENTS,
    ApiOption,
    CostBreakdown,
    Exclusion,
    Figure,
    HardwareOption,
    RankedCandidate,
    Scores,
)

_DEPLOYMENT_ORDER = {name: index for index, name in enumerate(DEPLOYMENTS)}
FINETUNED = "self_hosted_finetuned"


@dataclass(slots=True)
class PreparedModel:
    """One candidate model with its accuracy for the use case's task categories."""

    digest: CatalogModel
    accuracy: Accuracy
    tuned_accuracy: Accuracy | None  # from figures measured on a finetuned checkpoint

    @property
    def key(self) -> str:
        """The model's key."""
        return self.digest.entry.facts.key

    @property
    def small(self) -> bool:
        """Whether it makes a "small" verdict."""
        return self.digest.small


@dataclass(slots=True)
class PreparedOption:
    """One candidate before the varied inputs: capacity, privacy and the fixed constraints
    (`fixed` names them; their texts are written only for the exclusions shown)."""

    model: PreparedModel
    deployment: str
    api: ApiOption | None
    hardware: HardwareOption | None
    sizing: HardwareSizing | None
    reach: int
    privacy: float
    fixed: tuple[str, ...]
    usd_per_request: float
    capacity: float
    deployments: int
    training_usd_per_example: float
    sort_key: tuple[str, int, str]

    @property
    def label(self) -> str:
        """The option as shown: provider and API model, or hardware and precision."""
        if self.api is not None:
            return f"{self.api.provider} {self.api.api_model}"
        assert self.hardware is not None
        return f"{self.hardware.name} · {self.hardware.precision}"


@dataclass(slots=True)
class Prepared:
    """Everything `evaluate` needs, computed once per use case."""

    use_case: UseCase
    assumptions: Assumptions
    options: list[PreparedOption]
    clean: list[PreparedOption]  # the options no fixed constraint excludes
    references: tuple[Exclusion, ...]
    imputation: dict[str, float]  # per category: the lowest figure any model has
    uncovered: tuple[str, ...]  # categories no model has a figure for
    need: float  # how much breadth the use case needs, 0.25..1


@dataclass(slots=True)
class Scored:
    """One eligible candidate in one scenario."""

    option: PreparedOption
    monthly_usd: float
    inference_usd: float
    finetuning_usd: float
    replicas: int | None
    accuracy: float | None
    own_accuracy: float | None
    uplift: float
    scores: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    total: float = 0.0

    @property
    def accuracy_detail(self) -> Accuracy:
        """The accuracy this candidate's figure comes from (before any uplift)."""
        model = self.option.model
        if self.option.deployment == FINETUNED and model.tuned_accuracy is not None:
            return model.tuned_accuracy
        return model.accuracy

    @property
    def comparison_stderr(self) -> float:
        """Stderr to compare candidates with (unstated ones count as assumed)."""
        return self.accuracy_detail.comparison_stderr

    @property
    def choice(self) -> tuple[str, str]:
        """The model and how it is deployed."""
        return (self.option.model.key, self.option.deployment)


@dataclass(slots=True)
class Outcome:
    """A ranked scenario: eligible candidates best first, and (when asked) the exclusions."""

    ranked: list[Scored]
    excluded: list[Exclusion]
    weights: tuple[float, float, float, float]

    @property
    def verdict(self) -> str | None:
        """The verdict, "small" or "large", from the top candidate; None when none is eligible."""
        if not self.ranked:
            return None
        return "small" if self.ranked[0].option.model.small else "large"


# --- prepare ------------------------------------------------------------------------------------


def _model_accuracy(
    digest: CatalogModel, use_case: UseCase, imputation: dict[str, float], a: Assumptions
) -> tuple[Accuracy, Accuracy | None]:
    categories = use_case.task_categories
    domain = select_domain_figure(digest.domain_figures, use_case.domain_eval_set)
    accuracy = combine_accuracy(
        per_category=digest.categories,
        domain=domain,
        categories=categories,
        imputation=imputation,
        assumptions=a,
    )
    tuned_domain = select_domain_figure(digest.tuned_domain_figures, use_case.domain_eval_set)
    tuned = digest.tuned_categories
    if tuned_domain is None and not any(category in tuned for category in categories):
        return accuracy, None
    return accuracy, combine_accuracy(
        per_category={**digest.categories, **tuned},
        domain=tuned_domain or domain,
        categories=categories,
        imputation=imputation,
        assumptions=a,
    )


def prepare(use_case: UseCase, catalog: Catalog) -> Prepared:
    """Score what does not move for the use case: accuracy, capacity, privacy, fixed limits."""
    a = catalog.assumptions
    categories = use_case.task_categories
    imputation: dict[str, float] = {}
    for digest in catalog.models:
        for category in categories:
            found = digest.categories.get(category)
            if found is not None and (
                category not in imputation or found.value < imputation[category]
            ):
                imputation[category] = found.value
    uncovered = tuple(category for category in categories if category not in imputation)

    sensitivity = use_case.data_sensitivity
    tokens_in, tokens_out = use_case.input_tokens, use_case.output_tokens
    context_needed = tokens_in + tokens_out
    tokens_per_example = training_tokens(1, tokens_in, tokens_out, a)
    ownership = use_case.needs_ownership
    minimum = use_case.min_accuracy
    trains_excluded = sensitivity in ("confidential", "regulated")
    options: list[PreparedOption] = []
    for digest in catalog.models:
        accuracy, tuned_accuracy = _model_accuracy(digest, use_case, imputation, a)
        model = PreparedModel(digest, accuracy, tuned_accuracy)
        facts = digest.entry.facts
        common: list[str] = []
        if facts.context_length is not None and context_needed > facts.context_length:
            common.append("context_length")
        below_minimum = (
            minimum is not None and accuracy.own_value is not None and accuracy.own_value < minimum
        )
        for api in digest.entry.api_options:
            fixed = list(common)
            if ownership:
                fixed.append("needs_ownership")
            if trains_excluded and api.provider_trains_on_data:
                fixed.append("data_sensitivity")
            if below_minimum:
                fixed.append("min_accuracy")
            reach = api_reach(api)
            options.append(
                PreparedOption(
                    model=model,
                    deployment="api",
                    api=api,
                    hardware=None,
                    sizing=None,
                    reach=reach,
                    privacy=privacy_score(
                        sensitivity,
                        reach,
                        retains=api.provider_retains_data,
                        trains=api.provider_trains_on_data,
                    ),
                    fixed=tuple(fixed),
                    usd_per_request=api_usd_per_request(api, tokens_in, tokens_out),
                    capacity=0.0,
                    deployments=1,
                    training_usd_per_example=0.0,
                    sort_key=(facts.key, 0, f"{api.provider} {api.api_model}"),
                )
            )
        owned = facts.weights == "open" and facts.licence_commercial in ("allowed", "restricted")
        for hardware, sizing in zip(digest.entry.self_hosted, digest.sizings, strict=True):
            fixed = list(common)
            if ownership and not owned:
                fixed.append("needs_ownership")
            if sizing is None:
                fixed.append("parameters_unknown")
                capacity = 0.0
            else:
                if not sizing.fits:
                    fixed.append("memory")
                capacity = sizing.capacity_requests_per_s(tokens_in, tokens_out)
            reach = self_hosted_reach(hardware)
            privacy = privacy_score(sensitivity, reach)
            option_id = f"{hardware.key}/{hardware.precision}"
            options.append(
                PreparedOption(
                    model=model,
                    deployment="self_hosted",
                    api=None,
                    hardware=hardware,
                    sizing=sizing,
                    reach=reach,
                    privacy=privacy,
                    fixed=(*fixed, "min_accuracy") if below_minimum else tuple(fixed),
                    usd_per_request=0.0,
                    capacity=capacity,
                    deployments=1,
                    training_usd_per_example=0.0,
                    sort_key=(facts.key, 1, option_id),
                )
            )
            if facts.weights == "open":
                options.append(
                    PreparedOption(
                        model=model,
                        deployment=FINETUNED,
                        api=None,
                        hardware=hardware,
                        sizing=sizing,
                        reach=reach,
                        privacy=privacy,
                        fixed=tuple(fixed),  # min_accuracy depends on the labelled examples
                        usd_per_request=0.0,
                        capacity=capacity,
                        deployments=use_case.distinct_tasks,
                        training_usd_per_example=(
                            0.0
                            if sizing is None
                            else sizing.training_usd_per_token * tokens_per_example
                        ),
                        sort_key=(facts.key, 2, option_id),
                    )
                )
    return Prepared(
        use_case=use_case,
        assumptions=a,
        options=options,
        clean=[option for option in options if not option.fixed],
        references=catalog.references,
        imputation=imputation,
        uncovered=uncovered,
        need=min(1.0, max(len(categories), use_case.distinct_tasks) / 4.0),
    )


# --- evaluate -----------------------------------------------------------------------------------


def _normalise_high(values: list[float | None], min_span: float) -> list[float]:
    """1 for the highest; lower by the gap over the span (at least `min_span`); None is 0."""
    known = [v for v in values if v is not None]
    if not known:
        return [0.0] * len(values)
    high = max(known)
    span = max(high - min(known), min_span)
    return [0.0 if v is None else max(0.0, 1.0 - (high - v) / span) for v in values]


def evaluate(
    prepared: Prepared,
    *,
    monthly_requests: int,
    data_location: str,
    labelled_examples: int,
    explain: bool,
) -> Outcome:
    """Cost, constrain, score and rank the candidates for one set of the varied inputs.

    With `explain=False` (what-if runs) only the candidates no fixed constraint excludes are
    looked at, no exclusion is written out and `ranked` holds the top candidate alone.
    """
    use_case = prepared.use_case
    a = prepared.assumptions
    budget = use_case.monthly_budget_usd
    minimum = use_case.min_accuracy
    allowed = ALLOWED_REACH[data_location]
    needed = needed_requests_per_s(monthly_requests, a)
    examples_per_task = labelled_examples / use_case.distinct_tasks
    months = a.amortisation_months
    expertise = use_case.ml_expertise
    uplifts: dict[int, tuple[float, float]] = {}

    eligible: list[Scored] = []
    excluded: list[Exclusion] = []
    for option in prepared.options if explain else prepared.clean:
        finetuned = option.deployment == FINETUNED
        if finetuned and labelled_examples <= 0:
            continue
        if not explain and option.reach > allowed:
            continue
        model = option.model
        uplift = 0.0
        if finetuned and model.tuned_accuracy is not None:
            accuracy = model.tuned_accuracy.value
            own = model.tuned_accuracy.own_value
        else:
            accuracy = model.accuracy.value
            own = model.accuracy.own_value
            if finetuned and accuracy is not None:
                found = uplifts.get(id(model))
                if found is None:
                    found = uplifts[id(model)] = (
                        finetuning_uplift(
                            accuracy, examples_per_task, expertise=expertise, assumptions=a
                        ),
                        0.0
                        if own is None
                        else finetuning_uplift(
                            own, examples_per_task, expertise=expertise, assumptions=a
                        ),
                    )
                uplift = found[0]
                accuracy += uplift
                if own is not None:
                    own += found[1]
        sizing = option.sizing
        if option.api is not None:
            inference = monthly_requests * option.usd_per_request
            finetuning = 0.0
            replicas = None
        elif sizing is not None and sizing.fits:
            deployments = option.deployments
            capacity = option.capacity
            per_deployment = needed / deployments
            replicas = deployments * max(1, math.ceil(per_deployment / capacity))
            inference = replicas * sizing.replica_usd_per_month
            finetuning = (
                option.training_usd_per_example * labelled_examples / months if finetuned else 0.0
            )
        else:  # excluded by a fixed constraint: nothing to run it on
            inference = finetuning = 0.0
            replicas = None
        monthly = inference + finetuning
        over_budget = budget is not None and monthly > budget
        too_weak = finetuned and minimum is not None and own is not None and own < minimum
        if explain:
            codes = list(option.fixed)
            if option.reach > allowed:
                codes.insert(0, "data_location")
            if too_weak:
                codes.append("min_accuracy")
            if over_budget:
                codes.append("monthly_budget_usd")
            if codes:
                facts = model.digest.entry.facts
                reasons = [
                    _reason(code, option, use_case, data_location, own, monthly) for code in codes
                ]
                excluded.append(
                    Exclusion(
                        facts.key,
                        facts.name,
                        option.deployment,
                        option.label,
                        "; ".join(reasons),
                        tuple(codes),
                    )
                )
                continue
        elif over_budget or too_weak:
            continue
        eligible.append(
            Scored(option, monthly, inference, finetuning, replicas, accuracy, own, uplift)
        )

    weights = use_case.weights.normalised().as_tuple()
    if eligible:
        _score(eligible, prepared, weights)
        if explain:
            eligible.sort(key=_rank_key)
        else:
            eligible = [min(eligible, key=_rank_key)]
    return Outcome(ranked=eligible, excluded=excluded, weights=weights)


def _rank_key(scored: Scored) -> tuple[float, tuple[str, int, str]]:
    return (-scored.total, scored.option.sort_key)


def _score(
    eligible: list[Scored], prepared: Prepared, weights: tuple[float, float, float, float]
) -> None:
    """Normalise each criterion to 0..1 over the eligible candidates and weigh them."""
    a = prepared.assumptions
    accuracy_scores = _normalise_high([s.accuracy for s in eligible], a.accuracy_min_span)
    breadth_scores = _normalise_high(
        [s.option.model.digest.breadth for s in eligible], a.generality_min_span
    )
    log_costs = [math.log1p(s.monthly_usd) for s in eligible]
    cheapest = min(log_costs)
    cost_span = max(max(log_costs) - cheapest, math.log(a.cost_min_span_factor))
    need = prepared.need
    w_acc, w_cost, w_priv, w_gen = weights
    for scored, acc, breadth, log_cost in zip(
        eligible, accuracy_scores, breadth_scores, log_costs, strict=True
    ):
        cost = 1.0 - (log_cost - cheapest) / cost_span
        generality = 1.0 - need * (1.0 - breadth)
        privacy = scored.option.privacy
        scored.scores = (acc, cost, privacy, generality)
        scored.total = w_acc * acc + w_cost * cost + w_priv * privacy + w_gen * generality


# --- texts --------------------------------------------------------------------------------------


def _money(usd: float) -> str:
    return f"${usd:,.0f}" if usd >= 100 else f"${usd:,.2f}"


def _reason(
    code: str,
    option: PreparedOption,
    use_case: UseCase,
    data_location: str,
    own_accuracy: float | None,
    monthly_usd: float,
) -> str:
    """The text of one hard constraint a candidate breaks."""
    facts = option.model.digest.entry.facts
    api, hardware, sizing = option.api, option.hardware, option.sizing
    if code == "data_location":
        if api is not None:
            if data_location == "region":
                region = (api.region or "").strip() or "not stated"
                return (
                    f"data must stay in its region, but {api.provider} binds {api.api_model} to "
                    f"no region (region: {region}): a global API is not region-bound"
                )
            where = "on premises" if data_location == "on_premises" else "in your private cloud"
            return (
                f"data must stay {where}: this would send it to {api.provider}'s API, a third party"
            )
        return "data must stay on premises: this hardware is in a private cloud"
    if code == "needs_ownership":
        if facts.weights != "open":
            return "you need to own the model, but its weights are not released (API only)"
        if api is not None:
            return "you need to own the model: a hosted API runs the provider's copy (self-host it)"
        if facts.licence_commercial is None:
            return "you need to own the model, but its licence is unknown to the catalog"
        licence = facts.licence_name or "its licence"
        return f"you need to own the model, but {licence} does not allow commercial use"
    if code == "data_sensitivity":
        assert api is not None
        return f"{use_case.data_sensitivity} data, and {api.provider} trains on API data"
    if code == "min_accuracy":
        assert use_case.min_accuracy is not None and own_accuracy is not None
        return (
            f"accuracy {own_accuracy:.3f} on its own evidence is below the minimum of "
            f"{use_case.min_accuracy:.3f}"
        )
    if code == "monthly_budget_usd":
        assert use_case.monthly_budget_usd is not None
        return (
            f"costs {_money(monthly_usd)} a month, over the budget of "
            f"{_money(use_case.monthly_budget_usd)}"
        )
    if code == "context_length":
        return (
            f"a request needs {use_case.input_tokens + use_case.output_tokens:,} tokens but the "
            f"model reads at most {facts.context_length:,}"
        )
    if code == "parameters_unknown":
        return "the parameter count is undisclosed: the hardware cannot be sized"
    if code == "memory":
        assert sizing is not None and hardware is not None
        return (
            f"the weights need {sizing.weights_gb:,.1f} GB at {hardware.precision} but "
            f"{hardware.name} has {sizing.available_gb:,.0f} GB"
        )
    raise ValueError(f"unknown constraint {code!r}")


def _model_flags(model: PreparedModel, use_case: UseCase) -> list[str]:
    facts = model.digest.entry.facts
    flags: list[str] = []
    if facts.size_class is None:
        flags.append("size undisclosed and no source states its class: counted as large")
    elif facts.size_class == "medium":
        flags.append("medium-sized: counted as large for the small-or-large verdict")
    if model.small:
        categories = set(use_case.task_categories)
        if "reasoning" in categories:
            flags.append("small models are known to be weak at multi-step reasoning")
        if "code" in categories:
            flags.append("small models are known to be weaker at generating code")
        if categories & BROAD_KNOWLEDGE or len(categories) >= 3:
            flags.append(
                "small models hold less broad world knowledge: fine for a narrow task, "
                "weaker as a general assistant"
            )
    if model.accuracy.imputed:
        flags.append(
            f"no figure for {', '.join(model.accuracy.imputed)}: counted as the lowest figure "
            "any model has"
        )
    if model.digest.breadth_missing:
        flags.append(
            f"general suite: no figure for {', '.join(model.digest.breadth_missing)} "
            "(counted as chance)"
        )
    return flags


def _option_flags(option: PreparedOption, use_case: UseCase, a: Assumptions) -> list[str]:
    facts = option.model.digest.entry.facts
    flags: list[str] = []
    api, hardware, sizing = option.api, option.hardware, option.sizing
    if api is not None:
        if api.provider_retains_data:
            flags.append(f"{api.provider} keeps prompts and outputs for a time")
        if api.provider_trains_on_data:
            flags.append(f"{api.provider} trains on API data")
        if use_case.data_location == "region" and api.region_bound:
            flags.append(f"processed in {api.region}: check that your data may go there")
        if use_case.latency_p95_ms is not None:
            flags.append("the provider's latency is not catalogued: check it against the target")
        return flags
    assert hardware is not None and sizing is not None
    if facts.licence_commercial == "restricted":
        conditions = f": {facts.licence_conditions}" if facts.licence_conditions else ""
        licence = facts.licence_name or "the licence"
        flags.append(f"{licence} allows commercial use with conditions{conditions}")
    elif facts.licence_commercial == "not_allowed":
        flags.append("the licence does not allow commercial use: research only")
    if hardware.precision in ("int8", "int4"):
        flags.append(
            f"{hardware.precision} weights: the figures are for full precision; quantisation "
            "may cost some accuracy"
        )
    if sizing.tight_memory:
        flags.append(
            "the weights nearly fill the memory: little room for the KV cache, so fewer "
            "requests at once"
        )
    if sizing.speed_assumed:
        flags.append(
            "hardware speed not catalogued: throughput assumes "
            f"{a.fallback_bandwidth_gb_s:,.0f} GB/s and {a.fallback_bf16_tflops:,.0f} TFLOP/s "
            "per GPU"
        )
    latency = sizing.latency_ms(use_case.input_tokens, use_case.output_tokens)
    if use_case.latency_p95_ms is not None and latency > use_case.latency_p95_ms:
        flags.append(
            f"estimated latency {latency:,.0f} ms per request is above the p95 target of "
            f"{use_case.latency_p95_ms:,} ms"
        )
    if use_case.ml_expertise == "none":
        flags.append(
            "you stated no ML expertise: running your own model needs engineers who can "
            "operate GPU servers"
        )
    if option.deployment == FINETUNED:
        if use_case.ml_expertise == "none":
            flags.append("finetuning needs ML expertise: the estimated uplift is halved")
        if option.deployments > 1:
            flags.append(
                f"one finetuned model per distinct task: {option.deployments} deployments to run"
            )
    return flags


def _cost_breakdown(scored: Scored, prepared: Prepared) -> CostBreakdown:
    option = scored.option
    use_case = prepared.use_case
    a = prepared.assumptions
    if option.api is not None:
        api = option.api
        return CostBreakdown(
            monthly_usd=scored.monthly_usd,
            inference_usd=scored.inference_usd,
            finetuning_usd=0.0,
            basis=(
                f"{use_case.monthly_requests:,} requests x ({use_case.input_tokens:,} input "
                f"tokens x ${api.usd_per_million_input:g} + {use_case.output_tokens:,} output "
                f"tokens x ${api.usd_per_million_output:g}) per million"
            ),
        )
    hardware, sizing = option.hardware, option.sizing
    assert hardware is not None and sizing is not None
    finetuned = option.deployment == FINETUNED
    replicas = f"{scored.replicas} replica{'' if scored.replicas == 1 else 's'}"
    if option.deployments > 1:
        replicas += f" over {option.deployments} deployments (one per task)"
    basis = (
        f"{replicas} of {hardware.name} at ${hardware.usd_per_hour:g}/h x "
        f"{a.hours_per_month:g} h (always on)"
    )
    training_hours = training_usd = None
    if finetuned:
        tokens = training_tokens(
            use_case.labelled_examples, use_case.input_tokens, use_case.output_tokens, a
        )
        training_hours = sizing.training_gpu_hours_per_token * tokens
        training_usd = sizing.training_usd_per_token * tokens
        basis += (
            f"; finetuning {_money(training_usd)} once ({training_hours:,.1f} GPU-hours), "
            f"spread over {a.amortisation_months} months"
        )
    return CostBreakdown(
        monthly_usd=scored.monthly_usd,
        inference_usd=scored.inference_usd,
        finetuning_usd=scored.finetuning_usd,
        basis=basis,
        replicas=scored.replicas,
        deployments=option.deployments,
        model_copies_per_replica=sizing.copies,
        gpus_per_copy=sizing.gpus_per_copy,
        weights_gb=sizing.weights_gb,
        memory_needed_gb=sizing.memory_needed_gb,
        capacity_requests_per_s=option.capacity,
        needed_requests_per_s=needed_requests_per_s(use_case.monthly_requests, a),
        latency_ms=sizing.latency_ms(use_case.input_tokens, use_case.output_tokens),
        training_gpu_hours=training_hours,
        training_usd=training_usd,
    )


def ranked_candidate(
    scored: Scored,
    prepared: Prepared,
    cache: dict[tuple[str, bool], tuple[tuple[Figure, ...], list[str]]] | None = None,
) -> RankedCandidate:
    """The public form of one ranked candidate, with its evidence, cost breakdown and flags.

    `cache` (one dict per recommendation) shares each model's figures and flags among its
    candidates.
    """
    option = scored.option
    model = option.model
    digest = model.digest
    facts = digest.entry.facts
    use_case = prepared.use_case
    a = prepared.assumptions
    accuracy = scored.accuracy_detail
    tuned = accuracy is model.tuned_accuracy
    cache = {} if cache is None else cache
    shared = cache.get((facts.key, tuned))
    if shared is None:
        shared = cache[(facts.key, tuned)] = (
            accuracy_figures(
                accuracy,
                digest.tuned_figures if tuned else digest.figures,
                use_case.task_categories,
                prepared.imputation,
            ),
            _model_flags(model, use_case),
        )
    figures: tuple[Figure, ...] = shared[0]
    flags = shared[1] + _option_flags(option, use_case, a)
    if scored.uplift > 0:
        per_task = use_case.labelled_examples / use_case.distinct_tasks
        figures = (
            *figures,
            Figure(
                benchmark="finetuning uplift",
                value=scored.uplift,
                stderr=None,
                kind="estimate",
                source=(
                    f"estimate: min({a.uplift_cap}, {a.uplift_per_decade} x log10(1 + "
                    f"{per_task:,.0f} labelled examples per task)), not measured"
                ),
                shots=None,
                role="estimate",
                categories=use_case.task_categories,
            ),
        )
        flags.append(
            f"accuracy includes an estimated finetuning uplift of +{scored.uplift:.3f}: "
            "finetune and measure before relying on it"
        )
    return RankedCandidate(
        model=facts.key,
        model_name=facts.name,
        parameters=facts.parameters,
        size_class=facts.size_class,
        verdict_class=facts.verdict_class,
        deployment=option.deployment,
        option=option.label,
        provider=option.api.provider if option.api else None,
        hardware=option.hardware.name if option.hardware else None,
        precision=option.hardware.precision if option.hardware else None,
        data_goes_to=reach_label(option.reach),
        monthly_cost_usd=scored.monthly_usd,
        cost=_cost_breakdown(scored, prepared),
        accuracy=scored.accuracy,
        accuracy_own=scored.own_accuracy,
        accuracy_stderr=accuracy.stderr,
        accuracy_is_estimate=scored.uplift > 0,
        generality_breadth=digest.breadth,
        privacy=option.privacy,
        scores=Scores(*scored.scores),
        total=scored.total,
        evidence=figures,
        flags=tuple(flags),
    )
