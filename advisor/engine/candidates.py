"""Candidates and their scores: build the (model, deployment) pairs, apply the hard constraints,
cost and score what remains, rank it.

The candidates themselves are the catalog's option rows (`Columns`, digested once); a use case
only changes their numbers, and every step works on all rows at once (numpy). `prepare` does
what depends on the use case's fixed parts (accuracy for its task categories, capacity for its
request size, privacy, the constraints that do not move); `scenario` what depends on the monthly
volume and the labelled examples (cost, the finetuning uplift, the constraints they decide);
`rank` adds the data location's constraint, normalises over the eligible candidates and ranks
them; `top_option` finds only the top, for a "what if". Each number is computed with the same
floating-point operations, in the same order, as one candidate at a time would be (elementwise
IEEE arithmetic, exact; numpy's log1p only narrows down, see `top_option`), so the answers do
not depend on the vectorisation. Python objects and texts (reasons, flags, figures) are made
only for what is shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from advisor.use_case import UseCase

from . import texts
from .assumptions import Assumptions
from .catalog import API, FINETUNED, Catalog, CatalogModel, CatalogOption, Columns, FigureColumn
from .cost import needed_requests_per_s, training_tokens
from .evidence import (
    BROAD_KNOWLEDGE,
    Accuracy,
    accuracy_figures,
    combine_accuracy,
    select_domain_figure,
)
from .privacy import ALLOWED_REACH
from .types import (
    DEPLOYMENTS,
    CostBreakdown,
    Exclusion,
    Figure,
    RankedCandidate,
    Scores,
)

# The hard constraints, one bit each, in the order an exclusion lists them.
CONSTRAINTS: tuple[str, ...] = (
    "data_location",
    "context_length",
    "needs_ownership",
    "data_sensitivity",
    "parameters_unknown",
    "memory",
    "min_accuracy",
    "monthly_budget_usd",
)
(
    _DATA_LOCATION,
    _CONTEXT_LENGTH,
    _NEEDS_OWNERSHIP,
    _DATA_SENSITIVITY,
    _PARAMETERS_UNKNOWN,
    _MEMORY,
    _MIN_ACCURACY,
    _MONTHLY_BUDGET,
) = (1 << bit for bit in range(len(CONSTRAINTS)))
_CODES: dict[int, tuple[str, ...]] = {}
# An approximate total this close to the best may be the best once computed exactly.
_NEAR = 1e-9


def _codes(bits: int) -> tuple[str, ...]:
    found = _CODES.get(bits)
    if found is None:
        found = _CODES[bits] = tuple(c for i, c in enumerate(CONSTRAINTS) if bits >> i & 1)
    return found


def _none_if_nan(value: float) -> float | None:
    return None if value != value else value


@dataclass(slots=True, eq=False)
class Prepared:
    """Everything `scenario` needs, computed once per use case.

    Per model: `accuracy` and `own` (NaN: None; see `Accuracy.value` and `own_value`), the same
    from figures measured on finetuned checkpoints where `tuned` says there are any. Per option:
    the API price of one request, the capacity of one replica, the finetuning price of one
    labelled example, the deployments to run, the privacy score and `fixed`, the bits of the
    constraints that do not move.
    """

    use_case: UseCase
    assumptions: Assumptions
    catalog: Catalog
    columns: Columns
    references: tuple[Exclusion, ...]
    imputation: dict[str, float]  # per category: the lowest figure any model has
    uncovered: tuple[str, ...]  # categories no model has a figure for
    need: float  # how much breadth the use case needs, 0.25..1
    weights: tuple[float, float, float, float]
    accuracy: np.ndarray
    own: np.ndarray
    counted: np.ndarray  # how many categories `accuracy` averages
    own_counted: np.ndarray  # and `own`
    tuned: np.ndarray
    tuned_accuracy: np.ndarray
    tuned_own: np.ndarray
    usd_per_request: np.ndarray
    capacity: np.ndarray
    training_usd_per_example: np.ndarray
    deployments: np.ndarray
    privacy: np.ndarray
    fixed: np.ndarray
    finetuned: np.ndarray
    accuracies: dict[int, tuple[Accuracy, Accuracy | None]] = field(default_factory=dict)
    errors: tuple[np.ndarray, np.ndarray] | None = None  # stderr and comparison, when needed
    scenarios: dict[tuple[int, int], Scenario] = field(default_factory=dict)

    def model_accuracy(self, index: int) -> tuple[Accuracy, Accuracy | None]:
        """The model's accuracy in full (and from finetuned figures), made when first asked
        (as `combine_accuracy` makes it)."""
        found = self.accuracies.get(index)
        if found is None:
            _model_accuracies(self, [index])
            found = self.accuracies[index]
        return found


@dataclass(slots=True, eq=False)
class Scenario:
    """Every option's cost and accuracy for one monthly volume and number of labelled examples,
    and the bits of the constraints broken but the data location's (`bits`); `skipped` marks
    the finetuned options when there is nothing to finetune on."""

    monthly_requests: int
    labelled_examples: int
    needed: float
    monthly: np.ndarray
    inference: np.ndarray
    finetuning: np.ndarray
    accuracy: np.ndarray
    own: np.ndarray
    uplift: np.ndarray
    bits: np.ndarray
    skipped: np.ndarray | None


@dataclass(slots=True)
class Scored:
    """One eligible candidate in one scenario, as shown."""

    option: CatalogOption
    row: int
    monthly_usd: float
    inference_usd: float
    finetuning_usd: float
    replicas: int | None
    deployments: int
    capacity: float
    accuracy: float | None
    own_accuracy: float | None
    uplift: float
    scores: tuple[float, float, float, float]
    total: float
    accuracy_detail: Accuracy  # where its figure comes from (before any uplift)

    @property
    def comparison_stderr(self) -> float:
        """Stderr to compare candidates with (unstated ones count as assumed)."""
        return self.accuracy_detail.comparison_stderr

    @property
    def choice(self) -> tuple[str, str]:
        """The model and how it is deployed."""
        return (self.option.model.key, self.option.deployment)

    @property
    def small(self) -> bool:
        """Whether it makes a "small" verdict."""
        return self.option.model.small


@dataclass(slots=True, eq=False)
class Outcome:
    """A ranked scenario: the eligible options best first (`rows`), with their numbers in the
    same order; `choices` identifies each (model, deployment) as one number."""

    prepared: Prepared
    scenario: Scenario
    rows: np.ndarray
    scores: np.ndarray  # 4 x len(rows): accuracy, cost, privacy, generality
    totals: np.ndarray
    choices: np.ndarray
    weights: tuple[float, float, float, float]
    shown: dict[int, Scored] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def verdict(self) -> str | None:
        """The verdict, "small" or "large", from the top candidate; None when none is eligible."""
        if not len(self.rows):
            return None
        return "small" if self.small(0) else "large"

    def small(self, position: int) -> bool:
        """Whether the candidate at `position` makes a "small" verdict."""
        return bool(self.prepared.columns.options[self.rows[position]].model.small)

    def choice(self, position: int) -> tuple[str, str]:
        """The model and deployment at `position`."""
        option = self.prepared.columns.options[self.rows[position]]
        return (option.model.key, option.deployment)

    def scored(self, position: int) -> Scored:
        """The candidate at `position`, as shown."""
        found = self.shown.get(position)
        if found is None:
            _make_scored(self, [position])
            found = self.shown[position]
        return found


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


def _accuracy_columns(
    columns: dict[str, FigureColumn],
    domain: FigureColumn | None,
    categories: tuple[str, ...],
    imputation: dict[str, float],
    count: int,
    share: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`combine_accuracy`'s value and own value (NaN: None) for every model at once, summed in
    the same order; and how many categories each counts."""
    scored_sum = np.zeros(count)
    own_sum = np.zeros(count)
    scored_n = np.zeros(count)
    own_n = np.zeros(count)
    for category in categories:
        column = columns.get(category)
        imputed = imputation.get(category)
        if column is None:
            if imputed is not None:
                scored_sum += imputed
                scored_n += 1.0
            continue
        if imputed is None:
            scored_sum += column.value  # 0.0 where missing: the sum does not move
            scored_n += column.has
        else:
            scored_sum += np.where(column.has, column.value, imputed)
            scored_n += 1.0
        own_sum += column.value
        own_n += column.has
    value = np.where(scored_n > 0, scored_sum / np.maximum(scored_n, 1.0), np.nan)
    own = np.where(own_n > 0, own_sum / np.maximum(own_n, 1.0), np.nan)
    if domain is not None:
        figure = domain.value
        rest = 1 - share
        value = np.where(
            domain.has,
            np.where(np.isnan(value), figure, share * figure + rest * value),
            value,
        )
        own = np.where(
            domain.has, np.where(np.isnan(own), figure, share * figure + rest * own), own
        )
    return value, own, scored_n, own_n


def _accuracy_errors(
    prepared: Prepared, categories: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """`combine_accuracy`'s stderr (NaN: None) and comparison stderr for every model at once."""
    columns = prepared.columns
    a = prepared.assumptions
    unstated = a.unstated_stderr
    imputation = prepared.imputation
    count = len(prepared.accuracy)
    stderr_sum = np.zeros(count)
    comparison_sum = np.zeros(count)
    known = np.ones(count, dtype=bool)
    for category in categories:
        column = columns.categories.get(category)
        imputed = imputation.get(category)
        if column is None:
            if imputed is not None:
                known[:] = False
                comparison_sum += unstated
            continue
        has = column.has
        if imputed is None:
            comparison_sum += column.comparison  # 0.0 where missing
        else:
            known &= has
            comparison_sum += np.where(has, column.comparison, unstated)
        known &= ~has | column.stderr_known
        stderr_sum += column.stderr  # 0.0 where missing or unstated
    scored_n = prepared.counted
    counted = scored_n > 0
    divisor = np.maximum(scored_n, 1.0)
    stderr = np.where(counted & known, stderr_sum / divisor, np.nan)
    comparison = np.where(counted, comparison_sum / divisor, unstated)
    domain = columns.domain.get(prepared.use_case.domain_eval_set)
    if domain is not None:
        share = a.domain_share
        rest = 1 - share
        figure_stderr = np.where(domain.stderr_known, domain.stderr, np.nan)
        figure_comparison = np.where(domain.stderr_known, domain.stderr, unstated)
        stderr = np.where(
            domain.has,
            np.where(
                counted,
                np.where(
                    domain.stderr_known & ~np.isnan(stderr),
                    share * domain.stderr + rest * stderr,
                    np.nan,
                ),
                figure_stderr,
            ),
            stderr,
        )
        comparison = np.where(
            domain.has,
            np.where(counted, share * figure_comparison + rest * comparison, figure_comparison),
            comparison,
        )
    return stderr, comparison


def _accuracy_shapes(
    model: CatalogModel, categories: tuple[str, ...], imputation: dict[str, float]
) -> tuple[tuple, tuple[str, ...], tuple[str, ...], tuple]:
    """`combine_accuracy`'s used, missing, imputed and primary_missing: they depend only on
    which benchmarks the model has figures for."""
    missing: list[str] = []
    imputed: list[str] = []
    primary_missing: list[tuple[str, tuple[str, ...]]] = []
    used_by: dict[str, list[str]] = {}
    for category in categories:
        found = model.categories.get(category)
        if found is None:
            missing.append(category)
            if category in imputation:
                imputed.append(category)
            continue
        for name in found.benchmarks:
            used_by.setdefault(name, []).append(category)
        if found.primary_missing:
            primary_missing.append((category, found.primary_missing))
    return (
        tuple((name, tuple(cats)) for name, cats in used_by.items()),
        tuple(missing),
        tuple(imputed),
        tuple(primary_missing),
    )


def _model_accuracies(prepared: Prepared, indices: list[int]) -> None:
    """Make the full `Accuracy` of each model in `indices` (see `Prepared.model_accuracy`)."""
    found = prepared.accuracies
    indices = [index for index in dict.fromkeys(indices) if index not in found]
    if not indices:
        return
    if prepared.errors is None:
        prepared.errors = _accuracy_errors(prepared, prepared.use_case.task_categories)
    stderr, comparison = prepared.errors
    columns = prepared.columns
    use_case = prepared.use_case
    categories = use_case.task_categories
    imputation = prepared.imputation
    domain = columns.domain.get(use_case.domain_eval_set)
    shapes: dict[int, tuple] = {}
    at = np.array(indices)
    values = prepared.accuracy[at].tolist()
    owns = prepared.own[at].tolist()
    stderrs = stderr[at].tolist()
    comparisons = comparison[at].tolist()
    tuned = prepared.tuned[at].tolist()
    counted = (prepared.counted[at] > 0).tolist()
    own_counted = (prepared.own_counted[at] > 0).tolist()
    signatures = columns.signature[at].tolist()
    for i, index in enumerate(indices):
        if tuned[i]:
            found[index] = _model_accuracy(
                prepared.catalog.models[index], use_case, imputation, prepared.assumptions
            )
            continue
        signature = signatures[i]
        shape = shapes.get(signature)
        if shape is None:
            shape = shapes[signature] = _accuracy_shapes(
                columns.signatures[signature], categories, imputation
            )
        used, missing, imputed, primary_missing = shape
        value, own = _none_if_nan(values[i]), _none_if_nan(owns[i])
        error, comparison = _none_if_nan(stderrs[i]), comparisons[i]
        figure = None if domain is None else domain.found[index]
        if figure is not None:  # where the domain set's figure counts alone, it is kept as is
            if not counted[i]:
                value = figure.value
                error = figure.stderr
                comparison = error if error is not None else prepared.assumptions.unstated_stderr
            if not own_counted[i]:
                own = figure.value
        found[index] = (
            Accuracy(
                value=value,
                own_value=own,
                stderr=error,
                comparison_stderr=comparison,
                used=used,
                domain=figure,
                missing=missing,
                imputed=imputed,
                primary_missing=primary_missing,
            ),
            None,
        )


def _merged(
    base: dict[str, FigureColumn], tuned: dict[str, FigureColumn], categories: tuple[str, ...]
) -> dict[str, FigureColumn]:
    """The category columns of {**base, **tuned} per model (figures only)."""
    merged = {}
    for category in categories:
        if category in tuned:
            late = tuned[category]
            if category in base:
                early = base[category]
                merged[category] = FigureColumn(
                    has=early.has | late.has,
                    value=np.where(late.has, late.value, early.value),
                    stderr_known=early.stderr_known,
                    stderr=early.stderr,
                )
            else:
                merged[category] = late
        elif category in base:
            merged[category] = base[category]
    return merged


def prepare(use_case: UseCase, catalog: Catalog) -> Prepared:
    """Score what does not move for the use case: accuracy, capacity, privacy, fixed limits."""
    a = catalog.assumptions
    columns = catalog.columns
    categories = use_case.task_categories
    count = len(catalog.models)
    imputation = {c: columns.imputation[c] for c in categories if c in columns.imputation}
    uncovered = tuple(category for category in categories if category not in imputation)
    share = a.domain_share
    domain_set = use_case.domain_eval_set
    accuracy, own, counted, own_counted = _accuracy_columns(
        columns.categories, columns.domain.get(domain_set), categories, imputation, count, share
    )
    tuned_domain = columns.tuned_domain.get(domain_set)
    tuned = np.zeros(count, dtype=bool) if tuned_domain is None else tuned_domain.has.copy()
    for category in categories:
        if category in columns.tuned:
            tuned |= columns.tuned[category].has
    if tuned.any():
        domain = columns.domain.get(domain_set)
        if tuned_domain is not None:  # `tuned_domain or domain`
            domain = tuned_domain if domain is None else _either(tuned_domain, domain)
        tuned_accuracy, tuned_own, _, _ = _accuracy_columns(
            _merged(columns.categories, columns.tuned, categories),
            domain,
            categories,
            imputation,
            count,
            share,
        )
    else:
        tuned_accuracy = tuned_own = accuracy

    tokens_in, tokens_out = use_case.input_tokens, use_case.output_tokens
    kind = columns.kind
    model = columns.model
    is_api = kind == API
    finetuned = kind == FINETUNED
    fixed = np.where(
        use_case.input_tokens + use_case.output_tokens > columns.context_length, _CONTEXT_LENGTH, 0
    )[model]
    if use_case.needs_ownership:
        fixed |= np.where(is_api | ~columns.owned[model], _NEEDS_OWNERSHIP, 0)
    if use_case.data_sensitivity in ("confidential", "regulated"):
        fixed |= np.where(columns.trains, _DATA_SENSITIVITY, 0)
    hosted = ~is_api
    fixed |= np.where(hosted & ~columns.sized, _PARAMETERS_UNKNOWN, 0)
    fixed |= np.where(hosted & columns.sized & ~columns.fits, _MEMORY, 0)
    minimum = use_case.min_accuracy
    if minimum is not None:
        below = own < minimum  # False where NaN (no figure of its own)
        fixed |= np.where(below[model] & ~finetuned, _MIN_ACCURACY, 0)
    # One request's API price, one replica's capacity (requests per second).
    usd_per_request = (tokens_in * columns.price_in + tokens_out * columns.price_out) / 1e6
    seconds = columns.prefill * tokens_in + tokens_out * columns.step / columns.batch
    capacity = np.where(columns.fits, columns.copies / seconds, 0.0)
    tokens_per_example = training_tokens(1, tokens_in, tokens_out, a)
    return Prepared(
        use_case=use_case,
        assumptions=a,
        catalog=catalog,
        columns=columns,
        references=catalog.references,
        imputation=imputation,
        uncovered=uncovered,
        need=min(1.0, max(len(categories), use_case.distinct_tasks) / 4.0),
        weights=use_case.weights.normalised().as_tuple(),
        accuracy=accuracy,
        own=own,
        counted=counted,
        own_counted=own_counted,
        tuned=tuned,
        tuned_accuracy=tuned_accuracy,
        tuned_own=tuned_own,
        usd_per_request=usd_per_request,
        capacity=capacity,
        training_usd_per_example=columns.training_usd_per_token * tokens_per_example,
        deployments=np.where(finetuned, float(use_case.distinct_tasks), 1.0),
        privacy=columns.privacy[use_case.data_sensitivity],
        fixed=fixed,
        finetuned=finetuned,
    )


def _either(first: FigureColumn, second: FigureColumn) -> FigureColumn:
    """Per model, the first domain column's figure where it has one, else the second's."""
    return FigureColumn(
        has=first.has | second.has,
        value=np.where(first.has, first.value, second.value),
        stderr_known=np.where(first.has, first.stderr_known, second.stderr_known),
        stderr=np.where(first.has, first.stderr, second.stderr),
        found=tuple(
            a if a is not None else b for a, b in zip(first.found, second.found, strict=True)
        ),
    )


# --- scenarios ----------------------------------------------------------------------------------


def scenario(prepared: Prepared, monthly_requests: int, labelled_examples: int) -> Scenario:
    """Every option's cost, accuracy and broken constraints (but the data location) for one
    monthly volume and number of labelled examples (kept: the "what ifs" share them)."""
    key = (monthly_requests, labelled_examples)
    found = prepared.scenarios.get(key)
    if found is not None:
        return found
    use_case = prepared.use_case
    a = prepared.assumptions
    columns = prepared.columns
    model = columns.model
    finetuned = prepared.finetuned
    accuracy = prepared.accuracy[model]
    own = prepared.own[model]
    uplift = np.zeros(len(model))
    skipped = None
    if labelled_examples <= 0:
        skipped = finetuned
    elif finetuned.any():
        tuned = finetuned & prepared.tuned[model]
        accuracy = np.where(tuned, prepared.tuned_accuracy[model], accuracy)
        own = np.where(tuned, prepared.tuned_own[model], own)
        estimated = finetuned & ~tuned & ~np.isnan(accuracy)
        gain = _uplift_gain(labelled_examples / use_case.distinct_tasks, use_case.ml_expertise, a)
        cap = a.uplift_max_error_share
        uplift = np.where(estimated, np.maximum(0.0, np.minimum(gain, cap * (1.0 - accuracy))), 0.0)
        own_uplift = np.where(
            estimated & ~np.isnan(own), np.maximum(0.0, np.minimum(gain, cap * (1.0 - own))), 0.0
        )
        accuracy = accuracy + uplift
        own = own + own_uplift
    needed = needed_requests_per_s(monthly_requests, a)
    deployments = prepared.deployments
    fits = columns.fits
    replicas = deployments * np.maximum(
        1.0, np.ceil(needed / deployments / np.where(fits, prepared.capacity, 1.0))
    )
    inference = np.where(
        columns.kind == API,
        monthly_requests * prepared.usd_per_request,
        np.where(fits, replicas * columns.replica_usd, 0.0),
    )
    finetuning = np.where(
        finetuned & fits,
        prepared.training_usd_per_example * labelled_examples / a.amortisation_months,
        0.0,
    )
    monthly = inference + finetuning
    bits = prepared.fixed.copy()
    minimum = use_case.min_accuracy
    if minimum is not None and labelled_examples > 0:
        bits |= np.where(finetuned & (own < minimum), _MIN_ACCURACY, 0)
    budget = use_case.monthly_budget_usd
    if budget is not None:
        bits |= np.where(monthly > budget, _MONTHLY_BUDGET, 0)
    found = prepared.scenarios[key] = Scenario(
        monthly_requests=monthly_requests,
        labelled_examples=labelled_examples,
        needed=needed,
        monthly=monthly,
        inference=inference,
        finetuning=finetuning,
        accuracy=accuracy,
        own=own,
        uplift=uplift,
        bits=bits,
        skipped=skipped,
    )
    return found


def _uplift_gain(examples_per_task: float, expertise: str, a: Assumptions) -> float:
    """`finetuning_uplift` before its cap by the remaining error."""
    gain = min(a.uplift_cap, a.uplift_per_decade * math.log10(1.0 + examples_per_task))
    if expertise == "none":
        gain *= a.uplift_factor_without_expertise
    return gain


def _bits(prepared: Prepared, found: Scenario, data_location: str) -> np.ndarray:
    """Each option's broken constraints, the data location's included."""
    allowed = ALLOWED_REACH[data_location]
    return found.bits | np.where(prepared.columns.reach > allowed, _DATA_LOCATION, 0)


def _eligible(prepared: Prepared, found: Scenario, data_location: str) -> np.ndarray:
    """The rows no constraint excludes, in the catalog's order."""
    eligible = _bits(prepared, found, data_location) == 0
    if found.skipped is not None:
        eligible &= ~found.skipped
    return np.flatnonzero(eligible)


def _normalise_high(values: np.ndarray, min_span: float, known: np.ndarray | None) -> np.ndarray:
    """1 for the highest; lower by the gap over the span (at least `min_span`); unknown is 0."""
    if known is None:
        high, low = float(values.max()), float(values.min())
    else:
        if not known.any():
            return np.zeros(len(values))
        high, low = float(values[known].max()), float(values[known].min())
    span = max(high - low, min_span)
    scores = np.maximum(0.0, 1.0 - (high - values) / span)
    return scores if known is None else np.where(known, scores, 0.0)


def _log1p(values: np.ndarray) -> np.ndarray:
    """math.log1p of each value (numpy's log1p may differ in the last bit)."""
    return np.array(list(map(math.log1p, values.tolist())), dtype=float)


def _partial_scores(
    prepared: Prepared, found: Scenario, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The accuracy, privacy and generality scores of `rows` (accuracy and breadth normalised
    over them)."""
    a = prepared.assumptions
    accuracy = found.accuracy[rows]
    known = ~np.isnan(accuracy)
    accuracy_scores = _normalise_high(accuracy, a.accuracy_min_span, None if known.all() else known)
    breadth = _normalise_high(
        prepared.columns.breadth[prepared.columns.model[rows]], a.generality_min_span, None
    )
    generality = 1.0 - prepared.need * (1.0 - breadth)
    privacy = prepared.privacy[rows]
    return accuracy_scores, privacy, generality


def _totals(
    weights: tuple[float, float, float, float],
    accuracy: np.ndarray,
    cost: np.ndarray,
    privacy: np.ndarray,
    generality: np.ndarray,
) -> np.ndarray:
    w_acc, w_cost, w_priv, w_gen = weights
    return w_acc * accuracy + w_cost * cost + w_priv * privacy + w_gen * generality


def rank(prepared: Prepared, data_location: str, found: Scenario) -> Outcome:
    """Normalise each criterion to 0..1 over the eligible candidates, weigh them and rank them:
    best total first, ties by model key, deployment and option."""
    columns = prepared.columns
    rows = _eligible(prepared, found, data_location)
    weights = prepared.weights
    if not len(rows):
        empty = np.zeros(0)
        return Outcome(prepared, found, rows, np.zeros((4, 0)), empty, rows.copy(), weights=weights)
    accuracy, privacy, generality = _partial_scores(prepared, found, rows)
    log_costs = _log1p(found.monthly[rows])
    cheapest = float(log_costs.min())
    span = max(
        float(log_costs.max()) - cheapest, math.log(prepared.assumptions.cost_min_span_factor)
    )
    cost = 1.0 - (log_costs - cheapest) / span
    totals = _totals(weights, accuracy, cost, privacy, generality)
    order = np.lexsort((columns.rank[rows], -totals))
    ranked = rows[order]
    return Outcome(
        prepared=prepared,
        scenario=found,
        rows=ranked,
        scores=np.stack((accuracy, cost, privacy, generality))[:, order],
        totals=totals[order],
        choices=columns.model[ranked] * len(DEPLOYMENTS) + columns.kind[ranked],
        weights=weights,
    )


def top_option(prepared: Prepared, data_location: str, found: Scenario) -> int | None:
    """The row `rank` would put first, without ranking the others.

    `rank` takes each cost's logarithm with math.log1p, one candidate at a time; numpy's log1p
    is as fast for all of them but may differ in the last bit. So numpy's is taken first, and
    only the candidates it puts within `_NEAR` of the cheapest, the dearest and the best total
    are computed again with math.log1p. numpy's log1p is within a few ulps (far below
    `_NEAR`) of math.log1p, so the best candidate is always among those, with `rank`'s total.
    """
    rows = _eligible(prepared, found, data_location)
    if not len(rows):
        return None
    accuracy, privacy, generality = _partial_scores(prepared, found, rows)
    monthly = found.monthly[rows]
    rough = np.log1p(monthly)
    low, high = rough.min(), rough.max()
    cheapest = min(map(math.log1p, monthly[rough <= low + _NEAR].tolist()))
    dearest = max(map(math.log1p, monthly[rough >= high - _NEAR].tolist()))
    span = max(dearest - cheapest, math.log(prepared.assumptions.cost_min_span_factor))
    weights = prepared.weights
    totals = _totals(weights, accuracy, 1.0 - (rough - cheapest) / span, privacy, generality)
    near = np.flatnonzero(totals >= totals.max() - _NEAR)
    cost = 1.0 - (_log1p(monthly[near]) - cheapest) / span
    exact = _totals(weights, accuracy[near], cost, privacy[near], generality[near])
    best = near[exact == exact.max()]
    candidates = rows[best]
    return int(candidates[np.argmin(prepared.columns.rank[candidates])])


def evaluate(
    prepared: Prepared, *, monthly_requests: int, data_location: str, labelled_examples: int
) -> Outcome:
    """Cost, constrain, score and rank the candidates for one set of the varied inputs."""
    return rank(prepared, data_location, scenario(prepared, monthly_requests, labelled_examples))


def _make_scored(outcome: Outcome, positions: list[int]) -> None:
    """Make the candidates at `positions` as shown (see `Outcome.scored`)."""
    prepared = outcome.prepared
    found = outcome.scenario
    at = np.array(positions, dtype=np.int64)
    rows = outcome.rows[at]
    options = prepared.columns.options
    _model_accuracies(prepared, prepared.columns.model[rows].tolist())
    accuracies = prepared.accuracies
    distinct_tasks = prepared.use_case.distinct_tasks
    needed = found.needed
    shown = outcome.shown
    scores = outcome.scores[:, at].T.tolist()
    for (
        position,
        row,
        monthly,
        inference,
        finetuning,
        capacity,
        accuracy,
        own,
        uplift,
        total,
        four,
    ) in zip(
        positions,
        rows.tolist(),
        found.monthly[rows].tolist(),
        found.inference[rows].tolist(),
        found.finetuning[rows].tolist(),
        prepared.capacity[rows].tolist(),
        found.accuracy[rows].tolist(),
        found.own[rows].tolist(),
        found.uplift[rows].tolist(),
        outcome.totals[at].tolist(),
        scores,
        strict=True,
    ):
        option = options[row]
        base, tuned = accuracies[option.model_index]
        finetuned = option.kind == FINETUNED
        deployments = distinct_tasks if finetuned else 1
        if option.api is not None:
            replicas = None
        else:
            per_deployment = needed / deployments
            replicas = deployments * max(1, math.ceil(per_deployment / capacity))
        shown[position] = Scored(
            option=option,
            row=row,
            monthly_usd=monthly,
            inference_usd=inference,
            finetuning_usd=finetuning,
            replicas=replicas,
            deployments=deployments,
            capacity=capacity,
            accuracy=None if accuracy != accuracy else accuracy,
            own_accuracy=None if own != own else own,
            uplift=uplift,
            scores=tuple(four),  # type: ignore[arg-type]
            total=total,
            accuracy_detail=tuned if finetuned and tuned is not None else base,
        )


def exclusions(prepared: Prepared, outcome: Outcome, data_location: str) -> list[Exclusion]:
    """The references and every candidate a hard constraint excludes, each with its reasons,
    listed by model key, deployment and option."""
    found = outcome.scenario
    bits = _bits(prepared, found, data_location)
    excluded = bits != 0
    if found.skipped is not None:
        excluded &= ~found.skipped
    rows = np.flatnonzero(excluded)
    bits = bits[rows]
    columns = prepared.columns
    joined = [""] * len(rows)  # each row's reasons, joined by "; " in the constraints' order
    for bit, code in enumerate(CONSTRAINTS):
        at = np.flatnonzero(bits & (1 << bit))
        if len(at):
            for position, text in zip(
                at.tolist(), _reasons(prepared, found, code, rows[at], data_location), strict=True
            ):
                before = joined[position]
                joined[position] = f"{before}; {text}" if before else text
    heads = columns.exclusion_heads
    made = [
        Exclusion(*heads[row], text, _CODES.get(row_bits) or _codes(row_bits))
        for row, row_bits, text in zip(rows.tolist(), bits.tolist(), joined, strict=True)
    ]
    references = prepared.references
    if not references:
        order = np.argsort(columns.exclusion_position[rows], kind="stable")
        return [made[i] for i in order.tolist()]
    positions = np.concatenate((columns.reference_position, columns.exclusion_position[rows]))
    everything = [*references, *made]
    return [everything[i] for i in np.argsort(positions, kind="stable").tolist()]


def _reasons(
    prepared: Prepared, found: Scenario, code: str, rows: np.ndarray, data_location: str
) -> list[str]:
    """The text of constraint `code` for each of `rows` (all of which break it)."""
    columns = prepared.columns
    use_case = prepared.use_case
    if code == "data_location":
        static = columns.location_reasons[data_location]
    elif code == "needs_ownership":
        static = columns.ownership_reasons
    elif code == "memory":
        static = columns.memory_reasons
    elif code == "parameters_unknown":
        return [texts.PARAMETERS_UNKNOWN] * len(rows)
    elif code == "context_length":
        tokens = use_case.input_tokens + use_case.output_tokens
        models = prepared.catalog.models
        indices = columns.model[rows].tolist()
        by_model = {
            index: texts.context_length(tokens, models[index].entry.facts) for index in set(indices)
        }
        return [by_model[index] for index in indices]
    elif code == "data_sensitivity":
        sensitivity = use_case.data_sensitivity
        options = columns.options
        by_provider: dict[str, str] = {}
        result = []
        for row in rows.tolist():
            api = options[row].api
            assert api is not None
            text = by_provider.get(api.provider)
            if text is None:
                text = by_provider[api.provider] = texts.data_sensitivity(sensitivity, api)
            result.append(text)
        return result
    elif code == "min_accuracy":
        minimum = use_case.min_accuracy
        assert minimum is not None
        return texts.min_accuracy(found.own[rows].tolist(), minimum)
    else:
        budget = use_case.monthly_budget_usd
        assert code == "monthly_budget_usd" and budget is not None
        return texts.monthly_budget(found.monthly[rows].tolist(), budget)
    return [static[row] for row in rows.tolist()]


# --- texts --------------------------------------------------------------------------------------


def _model_flags(model: CatalogModel, accuracy: Accuracy, use_case: UseCase) -> list[str]:
    facts = model.entry.facts
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
    if accuracy.imputed:
        flags.append(
            f"no figure for {', '.join(accuracy.imputed)}: counted as the lowest figure "
            "any model has"
        )
    if model.breadth_missing:
        flags.append(
            f"general suite: no figure for {', '.join(model.breadth_missing)} (counted as chance)"
        )
    return flags


def _option_flags(
    flags: list[str],
    option: CatalogOption,
    deployments: int,
    latency: float | None,
    use_case: UseCase,
) -> list[str]:
    """`flags` (the model's) followed by the option's."""
    flags = [*flags, *option.flags]
    if option.api is not None:
        if use_case.data_location == "region" and option.region_flag is not None:
            flags.append(option.region_flag)
        if use_case.latency_p95_ms is not None:
            flags.append(texts.API_LATENCY_UNKNOWN)
        return flags
    assert latency is not None
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
    if option.kind == FINETUNED:
        if use_case.ml_expertise == "none":
            flags.append("finetuning needs ML expertise: the estimated uplift is halved")
        if deployments > 1:
            flags.append(f"one finetuned model per distinct task: {deployments} deployments to run")
    return flags


@dataclass(slots=True, eq=False)
class _Shared:
    """What the candidates shown in one recommendation share: each model's figures and flags,
    the uplift's figure and flag, and the parts of the cost bases that repeat."""

    prepared: Prepared
    figures: dict[tuple[int, bool], tuple[tuple[Figure, ...], list[str]]] = field(
        default_factory=dict
    )
    uplifts: dict[float, tuple[Figure, str]] = field(default_factory=dict)
    imputed: dict[str, Figure] = field(default_factory=dict)
    api_bases: dict[tuple[float, float], str] = field(default_factory=dict)
    hardware_bases: dict[tuple[str, float], str] = field(default_factory=dict)
    needed: float = 0.0
    training_tokens: int = 0


def _shared(prepared: Prepared) -> _Shared:
    use_case = prepared.use_case
    a = prepared.assumptions
    return _Shared(
        prepared,
        needed=needed_requests_per_s(use_case.monthly_requests, a),
        training_tokens=training_tokens(
            use_case.labelled_examples, use_case.input_tokens, use_case.output_tokens, a
        ),
    )


def _uplift(shared: _Shared, uplift: float) -> tuple[Figure, str]:
    """The estimated uplift's figure and flag."""
    found = shared.uplifts.get(uplift)
    if found is None:
        use_case = shared.prepared.use_case
        a = shared.prepared.assumptions
        per_task = use_case.labelled_examples / use_case.distinct_tasks
        found = shared.uplifts[uplift] = (
            Figure(
                benchmark="finetuning uplift",
                value=uplift,
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
            f"accuracy includes an estimated finetuning uplift of +{uplift:.3f}: "
            "finetune and measure before relying on it",
        )
    return found


def _cost_breakdown(
    shared: _Shared,
    option: CatalogOption,
    monthly: float,
    inference: float,
    finetuning: float,
    replicas: int | None,
    deployments: int,
    capacity: float,
    latency: float | None,
) -> CostBreakdown:
    use_case = shared.prepared.use_case
    a = shared.prepared.assumptions
    api = option.api
    if api is not None:
        prices = (api.usd_per_million_input, api.usd_per_million_output)
        basis = shared.api_bases.get(prices)
        if basis is None:
            basis = shared.api_bases[prices] = (
                f"{use_case.monthly_requests:,} requests x ({use_case.input_tokens:,} input "
                f"tokens x ${api.usd_per_million_input:g} + {use_case.output_tokens:,} output "
                f"tokens x ${api.usd_per_million_output:g}) per million"
            )
        return CostBreakdown(monthly, inference, 0.0, basis)
    hardware, sizing = option.hardware, option.sizing
    assert hardware is not None and sizing is not None
    text = f"{replicas} replica{'' if replicas == 1 else 's'}"
    if deployments > 1:
        text += f" over {deployments} deployments (one per task)"
    price = (hardware.name, hardware.usd_per_hour)
    running = shared.hardware_bases.get(price)
    if running is None:
        running = shared.hardware_bases[price] = (
            f" of {hardware.name} at ${hardware.usd_per_hour:g}/h x "
            f"{a.hours_per_month:g} h (always on)"
        )
    basis = text + running
    training_hours = training_usd = None
    if option.kind == FINETUNED:
        tokens = shared.training_tokens
        training_hours = sizing.training_gpu_hours_per_token * tokens
        training_usd = sizing.training_usd_per_token * tokens
        basis += (
            f"; finetuning {texts.money(training_usd)} once ({training_hours:,.1f} GPU-hours), "
            f"spread over {a.amortisation_months} months"
        )
    return CostBreakdown(
        monthly,
        inference,
        finetuning,
        basis,
        replicas,
        deployments,
        sizing.copies,
        sizing.gpus_per_copy,
        sizing.weights_gb,
        sizing.memory_needed_gb,
        capacity,
        shared.needed,
        latency,
        training_hours,
        training_usd,
    )


def ranked_candidates(
    prepared: Prepared, outcome: Outcome, count: int
) -> tuple[RankedCandidate, ...]:
    """The public form of the first `count` ranked candidates, with their evidence, cost
    breakdown and flags (each model's figures and flags made once)."""
    if count <= 0:
        return ()
    shared = _shared(prepared)
    found = outcome.scenario
    rows = outcome.rows[:count]
    columns = prepared.columns
    options = columns.options
    _model_accuracies(prepared, columns.model[rows].tolist())
    accuracies = prepared.accuracies
    use_case = prepared.use_case
    categories = use_case.task_categories
    imputation = prepared.imputation
    distinct_tasks = use_case.distinct_tasks
    tokens_in, tokens_out = use_case.input_tokens, use_case.output_tokens
    needed = found.needed
    model_texts = shared.figures
    result: list[RankedCandidate] = []
    for row, monthly, inference, finetuning, capacity, accuracy, own, uplift, total, four in zip(
        rows.tolist(),
        found.monthly[rows].tolist(),
        found.inference[rows].tolist(),
        found.finetuning[rows].tolist(),
        prepared.capacity[rows].tolist(),
        found.accuracy[rows].tolist(),
        found.own[rows].tolist(),
        found.uplift[rows].tolist(),
        outcome.totals[:count].tolist(),
        outcome.scores[:, :count].T.tolist(),
        strict=True,
    ):
        option = options[row]
        digest = option.model
        facts = digest.entry.facts
        index = option.model_index
        base, tuned = accuracies[index]
        finetuned = option.kind == FINETUNED
        detail = tuned if finetuned and tuned is not None else base
        key = (index, detail is tuned)
        shared_texts = model_texts.get(key)
        if shared_texts is None:
            # (Measured finetuned on domain sets alone, the general figures are the plain ones.)
            shared_texts = model_texts[key] = (
                accuracy_figures(
                    detail,
                    (digest.tuned_figures or digest.figures) if detail is tuned else digest.figures,
                    categories,
                    imputation,
                    shared.imputed,
                ),
                _model_flags(digest, base, use_case),
            )
        deployments = distinct_tasks if finetuned else 1
        figures: tuple[Figure, ...] = shared_texts[0]
        api, hardware, sizing = option.api, option.hardware, option.sizing
        if sizing is None:
            latency = replicas = None
        else:
            latency = sizing.latency_ms(tokens_in, tokens_out)
            replicas = deployments * max(1, math.ceil(needed / deployments / capacity))
        flags = _option_flags(shared_texts[1], option, deployments, latency, use_case)
        estimate = uplift > 0
        if estimate:
            figure, flag = _uplift(shared, uplift)
            figures = (*figures, figure)
            flags.append(flag)
        result.append(
            RankedCandidate(
                facts.key,
                facts.name,
                facts.parameters,
                facts.size_class,
                facts.verdict_class,
                option.deployment,
                option.label,
                api.provider if api else None,
                hardware.name if hardware else None,
                hardware.precision if hardware else None,
                option.data_goes_to,
                monthly,
                _cost_breakdown(
                    shared,
                    option,
                    monthly,
                    inference,
                    finetuning,
                    replicas,
                    deployments,
                    capacity,
                    latency,
                ),
                *(
                    (None if accuracy != accuracy else accuracy, None if own != own else own)
                    if finetuned and tuned is None and base.value is not None  # with the uplift
                    else (detail.value, detail.own_value)  # as they are (an int stays one)
                ),
                detail.stderr,
                estimate,
                digest.breadth,
                four[2],
                Scores(*four),
                total,
                figures,
                tuple(flags),
            )
        )
    return tuple(result)
