"""The engine's entry point: one use case and the catalog in, one recommendation out."""

from __future__ import annotations

from collections.abc import Sequence

from advisor.use_case import UseCase

from .assumptions import DEFAULT_ASSUMPTIONS, Assumptions
from .candidates import evaluate, exclusions, prepare, ranked_candidates
from .catalog import Catalog, digest_catalog
from .explain import confidence, proposed_evaluations
from .sensitivity import input_sensitivity, weight_sensitivity
from .types import ModelEntry, Recommendation, Sensitivity


def recommend(
    use_case: UseCase,
    models: Sequence[ModelEntry] | Catalog,
    *,
    assumptions: Assumptions | None = None,
    with_sensitivity: bool = True,
    ranking_limit: int | None = None,
) -> Recommendation:
    """Recommend a small or a large model for the use case, from the catalog's models.

    Builds the (model, deployment) candidates, excludes those that break a hard constraint
    (each with its reason), scores the rest on accuracy, cost, privacy and generality, and
    ranks them by the use case's weights; then says how confident it is, what would change the
    answer and which evaluations would settle it.

    `models` is the catalog's models, or a `Catalog` from `digest_catalog` kept between calls
    (it carries its own assumptions; passing other `assumptions` with it is an error).
    `with_sensitivity=False` skips the what-if analysis; `ranking_limit` keeps only the top
    candidates in `ranking` (everything else is computed over all of them).
    Pure and deterministic: the same input gives the same output (ties go to the model key,
    then the deployment, then the option).
    """
    if isinstance(models, Catalog):
        if assumptions is not None and assumptions != models.assumptions:
            raise ValueError("the catalog was digested under other assumptions")
        catalog = models
    else:
        catalog = digest_catalog(models, assumptions or DEFAULT_ASSUMPTIONS)
    prepared = prepare(use_case, catalog)
    outcome = evaluate(
        prepared,
        monthly_requests=use_case.monthly_requests,
        data_location=use_case.data_location,
        labelled_examples=use_case.labelled_examples,
    )
    sensitivity = (
        Sensitivity(
            weights=weight_sensitivity(outcome),
            inputs=input_sensitivity(prepared, outcome),
        )
        if with_sensitivity
        else Sensitivity()
    )
    shown = len(outcome) if ranking_limit is None else min(len(outcome), max(0, ranking_limit))
    return Recommendation(
        verdict=outcome.verdict,
        confidence=confidence(prepared, outcome),
        ranking=ranked_candidates(prepared, outcome, shown),
        excluded=tuple(exclusions(prepared, outcome, use_case.data_location)),
        sensitivity=sensitivity,
        proposed_evaluations=proposed_evaluations(prepared, outcome),
    )
