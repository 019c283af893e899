"""From evidence to accuracy and generality: which benchmarks speak for which task categories,
which figure counts when there are several, and how missing evidence is treated."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .assumptions import Assumptions
from .types import Evidence, Figure, quick_init

_GENERAL_KNOWLEDGE = ("hellaswag", "arc_challenge", "winogrande")

# Task category -> (primary benchmarks, supporting benchmarks). Primary figures count twice.
CATEGORY_BENCHMARKS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "classification": (("mmlu",), _GENERAL_KNOWLEDGE),
    "extraction": (("mmlu",), _GENERAL_KNOWLEDGE),
    "summarisation": (("mmlu",), _GENERAL_KNOWLEDGE),
    "question_answering": (("mmlu",), _GENERAL_KNOWLEDGE),
    "chat": (("mmlu",), _GENERAL_KNOWLEDGE),
    "generation": (("mmlu",), _GENERAL_KNOWLEDGE),
    "code": (("humaneval", "mbpp"), ()),
    "reasoning": (("gsm8k",), ("arc_challenge",)),
    "translation": ((), ()),  # no translation benchmark in the catalog: evidence is missing
}
PRIMARY_WEIGHT = 2.0
SUPPORTING_WEIGHT = 1.0

# Breadth of competence: one figure per kind of ability (knowledge, common sense, science
# questions, coreference, maths, code).
GENERAL_SUITE: tuple[str, ...] = (
    "mmlu",
    "hellaswag",
    "arc_challenge",
    "winogrande",
    "gsm8k",
    "humaneval",
)
REASONING_HEAVY = frozenset({"reasoning", "code"})
BROAD_KNOWLEDGE = frozenset({"question_answering", "chat", "generation"})


def benchmarks_for(categories: Iterable[str]) -> tuple[str, ...]:
    """The benchmarks the task categories map to, primary first, without repeats."""
    seen: dict[str, None] = {}
    for category in categories:
        for name in CATEGORY_BENCHMARKS[category][0]:
            seen.setdefault(name)
    for category in categories:
        for name in CATEGORY_BENCHMARKS[category][1]:
            seen.setdefault(name)
    return tuple(seen)


def _preference(figure: Evidence) -> tuple:
    # Measured before reported; then the smallest known stderr; then a stable order.
    return (
        figure.kind != "measured",
        figure.stderr is None,
        figure.stderr or 0.0,
        figure.source,
        -1 if figure.shots is None else figure.shots,
        figure.value,
    )


def select_figures(evidence: Sequence[Evidence], *, finetuned: bool = False) -> dict[str, Evidence]:
    """The figure that counts for each general benchmark (domain sets left out).

    Measured beats reported; among equals, the smallest stated stderr. `finetuned=True` selects
    only figures measured on a checkpoint finetuned on the use case's data.
    """
    best: dict[str, Evidence] = {}
    for figure in evidence:
        if figure.is_domain_set or figure.finetuned != finetuned:
            continue
        if finetuned and figure.kind != "measured":
            continue
        current = best.get(figure.benchmark)
        if current is None or _preference(figure) < _preference(current):
            best[figure.benchmark] = figure
    return best


def select_domain_figure(
    evidence: Sequence[Evidence], domain_eval_set: str | None, *, finetuned: bool | None = None
) -> Evidence | None:
    """The figure on the use case's domain evaluation set, if any.

    When the use case names its set, only that set counts; otherwise any domain-set figure the
    caller passed (it selected them for this use case).
    """
    best: Evidence | None = None
    for figure in evidence:
        # None: the caller passed figures it already chose (plain or finetuned ones).
        if not figure.is_domain_set or (finetuned is not None and figure.finetuned != finetuned):
            continue
        if finetuned and figure.kind != "measured":
            continue
        if domain_eval_set is not None and figure.benchmark != domain_eval_set:
            continue
        if best is None or _preference(figure) < _preference(best):
            best = figure
    return best


@quick_init
@dataclass(frozen=True, slots=True)
class CategoryFigure:
    """One task category's accuracy from the benchmarks it maps to."""

    value: float
    stderr: float | None
    comparison_stderr: float
    benchmarks: tuple[str, ...]
    primary_missing: tuple[str, ...]


def category_figure(
    figures: Mapping[str, Evidence], category: str, unstated_stderr: float
) -> CategoryFigure | None:
    """Weighted mean of the category's benchmark figures (primary x2); None without any."""
    primary, supporting = CATEGORY_BENCHMARKS[category]
    total = weight_sum = 0.0
    variance = comparison_variance = 0.0
    stderr_known = True
    used: list[str] = []
    missing: list[str] = []
    for names, weight in ((primary, PRIMARY_WEIGHT), (supporting, SUPPORTING_WEIGHT)):
        for name in names:
            figure = figures.get(name)
            if figure is None:
                if weight == PRIMARY_WEIGHT:
                    missing.append(name)
                continue
            total += weight * figure.value
            weight_sum += weight
            used.append(name)
            if figure.stderr is None:
                stderr_known = False
                comparison_variance += (weight * unstated_stderr) ** 2
            else:
                variance += (weight * figure.stderr) ** 2
                comparison_variance += (weight * figure.stderr) ** 2
    if not used:
        return None
    return CategoryFigure(
        value=total / weight_sum,
        stderr=math.sqrt(variance) / weight_sum if stderr_known else None,
        comparison_stderr=math.sqrt(comparison_variance) / weight_sum,
        benchmarks=tuple(used),
        primary_missing=tuple(missing),
    )


@quick_init
@dataclass(frozen=True, slots=True)
class Accuracy:
    """A model's accuracy for the use case, before any finetuning estimate.

    `value` is what scoring uses: categories without the model's own figure count the lowest
    figure any model has (pessimistic; named in `imputed`). `own_value` uses the model's own
    figures only (None without any) and is what `min_accuracy` is checked against.
    `comparison_stderr` replaces unstated stderrs by the assumed one, to compare candidates.
    `used` names each benchmark used and the categories it spoke for.
    """

    value: float | None
    own_value: float | None
    stderr: float | None
    comparison_stderr: float
    used: tuple[tuple[str, tuple[str, ...]], ...]
    domain: Evidence | None
    missing: tuple[str, ...]
    imputed: tuple[str, ...]
    primary_missing: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def has_domain(self) -> bool:
        """Whether a figure on the use case's domain set counts."""
        return self.domain is not None


def _figure(evidence: Evidence, role: str, categories: tuple[str, ...] = ()) -> Figure:
    return Figure(
        evidence.benchmark,
        evidence.value,
        evidence.stderr,
        evidence.kind,
        evidence.source,
        evidence.shots,
        role,
        categories,
        evidence.finetuned,
    )


def all_category_figures(
    figures: Mapping[str, Evidence], unstated_stderr: float
) -> dict[str, CategoryFigure]:
    """Every task category the model has its own figures for."""
    result: dict[str, CategoryFigure] = {}
    for category in CATEGORY_BENCHMARKS:
        found = category_figure(figures, category, unstated_stderr)
        if found is not None:
            result[category] = found
    return result


def combine_accuracy(
    *,
    per_category: Mapping[str, CategoryFigure],
    domain: Evidence | None,
    categories: Sequence[str],
    imputation: Mapping[str, float],
    assumptions: Assumptions,
) -> Accuracy:
    """The model's accuracy over the use case's categories, and the domain set if measured.

    Mean over the task categories; a category without the model's own figure counts the lowest
    any model has (`imputation`); a category no model has a figure for is left out for all. A
    domain set's figure counts `domain_share` against that mean. Categories share benchmarks,
    so their errors correlate: stderrs are averaged, not added in quadrature (conservative).
    """
    unstated = assumptions.unstated_stderr
    scored_sum = own_sum = stderr_sum = comparison_sum = 0.0
    scored_n = own_n = 0
    stderr_known = True
    missing: list[str] = []
    imputed: list[str] = []
    primary_missing: list[tuple[str, tuple[str, ...]]] = []
    used_by: dict[str, list[str]] = {}
    for category in categories:
        found = per_category.get(category)
        if found is None:
            missing.append(category)
            if category in imputation:
                imputed.append(category)
                scored_sum += imputation[category]
                scored_n += 1
                stderr_known = False
                comparison_sum += unstated
            continue
        scored_sum += found.value
        own_sum += found.value
        scored_n += 1
        own_n += 1
        if found.stderr is None:
            stderr_known = False
        else:
            stderr_sum += found.stderr
        comparison_sum += found.comparison_stderr
        for name in found.benchmarks:
            used_by.setdefault(name, []).append(category)
        if found.primary_missing:
            primary_missing.append((category, found.primary_missing))
    value = scored_sum / scored_n if scored_n else None
    own_value = own_sum / own_n if own_n else None
    stderr = stderr_sum / scored_n if scored_n and stderr_known else None
    comparison = comparison_sum / scored_n if scored_n else unstated
    if domain is not None:
        share = assumptions.domain_share
        domain_comparison = domain.stderr if domain.stderr is not None else unstated
        if value is None:
            value, own_value = domain.value, domain.value
            stderr, comparison = domain.stderr, domain_comparison
        else:
            value = share * domain.value + (1 - share) * value
            own_value = (
                domain.value
                if own_value is None
                else share * domain.value + (1 - share) * own_value
            )
            stderr = (
                share * domain.stderr + (1 - share) * stderr
                if domain.stderr is not None and stderr is not None
                else None
            )
            comparison = share * domain_comparison + (1 - share) * comparison
    return Accuracy(
        value=value,
        own_value=own_value,
        stderr=stderr,
        comparison_stderr=comparison,
        used=tuple((name, tuple(cats)) for name, cats in used_by.items()),
        domain=domain,
        missing=tuple(missing),
        imputed=tuple(imputed),
        primary_missing=tuple(primary_missing),
    )


def accuracy_figures(
    accuracy: Accuracy,
    figures: Mapping[str, Evidence],
    categories: tuple[str, ...],
    imputation: Mapping[str, float],
    imputed: dict[str, Figure] | None = None,
) -> tuple[Figure, ...]:
    """The figures behind an accuracy, as shown: the domain set first, then the task
    benchmarks, then the stand-ins for missing categories (`imputed` keeps those, per category,
    for the models that share them)."""
    result: list[Figure] = []
    if accuracy.domain is not None:
        result.append(_figure(accuracy.domain, "domain", categories))
    for name, cats in accuracy.used:
        result.append(_figure(figures[name], "task", cats))
    for category in accuracy.imputed:
        found = None if imputed is None else imputed.get(category)
        if found is None:
            found = Figure(
                benchmark=f"{category}: no figure",
                value=imputation[category],
                stderr=None,
                kind="imputed",
                source="the lowest figure any catalogued model has for this category",
                shots=None,
                role="imputed",
                categories=(category,),
            )
            if imputed is not None:
                imputed[category] = found
        result.append(found)
    return tuple(result)


def general_breadth(
    figures: Mapping[str, Evidence], unknown_score: float
) -> tuple[float, tuple[str, ...]]:
    """Mean over `GENERAL_SUITE`, a missing figure counting `unknown_score`; and what is missing."""
    values: list[float] = []
    missing: list[str] = []
    for name in GENERAL_SUITE:
        figure = figures.get(name)
        if figure is None:
            missing.append(name)
            values.append(unknown_score)
        else:
            values.append(figure.value)
    return sum(values) / len(values), tuple(missing)


def finetuning_uplift(
    base: float,
    examples_per_task: float,
    *,
    expertise: str,
    assumptions: Assumptions,
) -> float:
    """The estimated accuracy gain from finetuning on the labelled examples (see `Assumptions`).

    min(cap, per_decade x log10(1 + n)), at most a share of the remaining error, reduced without
    ML expertise. Zero without examples.
    """
    if examples_per_task <= 0:
        return 0.0
    gain = min(
        assumptions.uplift_cap,
        assumptions.uplift_per_decade * math.log10(1.0 + examples_per_task),
    )
    if expertise == "none":
        gain *= assumptions.uplift_factor_without_expertise
    return max(0.0, min(gain, assumptions.uplift_max_error_share * (1.0 - base)))
