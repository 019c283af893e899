"""How far to trust the answer, and which evaluations would settle it."""

from __future__ import annotations

import numpy as np

from .candidates import Outcome, Prepared, Scored
from .evidence import CATEGORY_BENCHMARKS, Accuracy, benchmarks_for
from .types import Confidence, ProposedEvaluation

TOP_MODELS_CHECKED = 3


def _accuracy_of(scored: Scored) -> Accuracy:
    return scored.accuracy_detail


def _name(scored: Scored) -> str:
    return f"{scored.option.model.entry.facts.name} ({scored.option.deployment})"


def within_stderr(first: Scored, second: Scored) -> bool:
    """Whether two candidates' accuracies lie within each other's stderr (unstated stderrs
    count as assumed); False when either has no figure."""
    if first.accuracy is None or second.accuracy is None:
        return False
    gap = abs(first.accuracy - second.accuracy)
    return gap <= first.comparison_stderr + second.comparison_stderr


def _runner_up(outcome: Outcome) -> Scored | None:
    """The best candidate that is another choice (model and deployment) than the top."""
    found = np.flatnonzero(outcome.choices[1:] != outcome.choices[0])
    return outcome.scored(int(found[0]) + 1) if len(found) else None


def _best_other_class(outcome: Outcome, small: bool) -> Scored | None:
    """The best candidate whose verdict class is not `small`'s."""
    columns = outcome.prepared.columns
    found = np.flatnonzero(columns.small[columns.model[outcome.rows]] != small)
    return outcome.scored(int(found[0])) if len(found) else None


def confidence(prepared: Prepared, outcome: Outcome) -> Confidence:
    """High when the top choice leads clearly on complete evidence; medium with one close call;
    low when evidence is missing or estimated, or with several close calls."""
    if not len(outcome):
        return Confidence(
            "low", "no candidate meets the hard constraints: the exclusions say what to relax"
        )
    top = outcome.scored(0)
    accuracy = _accuracy_of(top)
    major: list[str] = []
    minor: list[str] = []
    if top.accuracy is None:
        major.append(f"no accuracy evidence at all for {_name(top)}")
    elif accuracy.imputed:
        major.append(f"{_name(top)} has no figure for {', '.join(accuracy.imputed)}")
    if top.uplift > 0:
        major.append(f"{_name(top)}'s accuracy rests on an estimated finetuning uplift")
    if prepared.uncovered:
        major.append(f"no model has a figure for {', '.join(prepared.uncovered)}")
    runner = _runner_up(outcome)
    if runner is not None and within_stderr(top, runner):
        minor.append(f"{_name(top)} and {_name(runner)} are within each other's stderr")
    verdict_small = top.small
    other = _best_other_class(outcome, verdict_small)
    other_class = "large" if verdict_small else "small"
    margin = top.total - other.total if other is not None else None
    if margin is not None and margin < prepared.assumptions.close_total_margin:
        minor.append(
            f"the best {other_class} candidate, {_name(other)}, is only {margin:.3f} behind"
        )
    if major or len(minor) >= 2:
        level = "low"
    elif minor:
        level = "medium"
    else:
        level = "high"
    reasons = major + minor
    if not reasons:
        if margin is None:
            reasons.append(f"no {other_class} candidate meets the constraints")
        else:
            reasons.append(
                f"{_name(top)} leads the best {other_class} candidate by {margin:.3f} and its "
                "evidence covers every task category"
            )
    return Confidence(level, "; ".join(reasons))


def proposed_evaluations(prepared: Prepared, outcome: Outcome) -> tuple[ProposedEvaluation, ...]:
    """The evaluations that would decide: for the leading models, the use case's tasks they lack
    figures for, those within the top choice's stderr, and finetuned estimates to measure."""
    if not len(outcome):
        return ()
    use_case = prepared.use_case
    domain_set = use_case.domain_eval_set
    mapped = benchmarks_for(use_case.task_categories)
    decisive = ((domain_set,) if domain_set else ()) + mapped
    top = outcome.scored(0)
    # Each of the first models in the ranking, at its best position.
    models = outcome.prepared.columns.model[outcome.rows]
    _, firsts = np.unique(models, return_index=True)
    leaders = [outcome.scored(p) for p in np.sort(firsts)[:TOP_MODELS_CHECKED].tolist()]
    proposals: dict[str, tuple[list[str], list[str]]] = {}

    def propose(model: str, tasks: tuple[str, ...], reason: str) -> None:
        found_tasks, reasons = proposals.setdefault(model, ([], []))
        for task in tasks:
            if task not in found_tasks:
                found_tasks.append(task)
        if reason not in reasons:
            reasons.append(reason)

    for scored in leaders:
        key = scored.option.model.key
        accuracy = _accuracy_of(scored)
        for category in accuracy.missing:
            if category in prepared.uncovered:
                continue
            primary, supporting = CATEGORY_BENCHMARKS[category]
            propose(key, primary or supporting, f"no figure for {category}")
        for category, names in accuracy.primary_missing:
            propose(key, names, f"no {', '.join(names)} figure for {category}")
        if domain_set and not accuracy.has_domain:
            propose(key, (domain_set,), f"no figure on your domain set {domain_set}")
        if scored is not top and within_stderr(top, scored):
            reason = "within each other's stderr: measure both on the same tasks to separate them"
            propose(top.option.model.key, decisive, reason)
            propose(key, decisive, reason)
        if scored.uplift > 0:
            propose(
                key,
                (domain_set,) if domain_set else mapped,
                "the finetuning uplift is an estimate: finetune on your labelled examples and "
                "measure",
            )
    for category in prepared.uncovered:
        propose(
            top.option.model.key,
            (domain_set,) if domain_set else (),
            f"no benchmark in the catalog covers {category}: "
            + ("measure it on your domain set" if domain_set else "upload a domain evaluation set"),
        )
    order = {scored.option.model.key: i for i, scored in enumerate(leaders)}
    return tuple(
        ProposedEvaluation(model, tuple(tasks), "; ".join(reasons))
        for model, (tasks, reasons) in sorted(proposals.items(), key=lambda kv: order[kv[0]])
    )
