"""The catalog digested once, whatever the use case: which figure counts per benchmark, each
task category's figure, breadth, and how each hardware option holds each model.

`digest_catalog` is pure; a caller may keep its result for as long as the catalog does not
change (the form recomputes the recommendation on every keystroke) and pass it to `recommend`
instead of the models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .assumptions import DEFAULT_ASSUMPTIONS, Assumptions
from .cost import HardwareSizing, size_hardware
from .evidence import (
    CategoryFigure,
    all_category_figures,
    general_breadth,
    select_figures,
)
from .types import Evidence, Exclusion, ModelEntry


@dataclass(frozen=True, slots=True)
class CatalogModel:
    """One model that can be a candidate (released, with somewhere to run it), digested.

    `figures` is the figure that counts per benchmark; `categories` each task category's
    figure from them. The `tuned_*` fields do the same with figures measured on checkpoints
    finetuned on the use case's data taking precedence (empty without any). `sizings` pairs
    with `entry.self_hosted` (None where the parameter count is undisclosed).
    """

    entry: ModelEntry
    small: bool
    figures: Mapping[str, Evidence]
    categories: Mapping[str, CategoryFigure]
    domain_figures: tuple[Evidence, ...]
    tuned_figures: Mapping[str, Evidence]
    tuned_categories: Mapping[str, CategoryFigure]
    tuned_domain_figures: tuple[Evidence, ...]
    breadth: float
    breadth_missing: tuple[str, ...]
    sizings: tuple[HardwareSizing | None, ...]

    @property
    def key(self) -> str:
        """The model's key."""
        return self.entry.facts.key


@dataclass(frozen=True, slots=True)
class Catalog:
    """The digested catalog: candidates' models sorted by key, and the references (never
    released, or nowhere to run) that are listed but never recommended."""

    models: tuple[CatalogModel, ...]
    references: tuple[Exclusion, ...]
    assumptions: Assumptions


def _reference(entry: ModelEntry) -> Exclusion | None:
    facts = entry.facts
    if facts.weights == "never_released":
        reason, constraint = "never released: shown as a reference", "never_released"
    elif not entry.api_options and not entry.self_hosted:
        reason = "no hosted API or self-hosted option in the catalog: nothing to run it on"
        constraint = "no_deployment"
    else:
        return None
    return Exclusion(facts.key, facts.name, None, None, reason, (constraint,))


def digest_model(entry: ModelEntry, assumptions: Assumptions) -> CatalogModel:
    """Digest one model (see `CatalogModel`)."""
    evidence = entry.evidence
    unstated = assumptions.unstated_stderr
    figures = select_figures(evidence)
    tuned = select_figures(evidence, finetuned=True)
    tuned_domain = tuple(f for f in evidence if f.is_domain_set and f.finetuned)
    if tuned:
        tuned_figures: Mapping[str, Evidence] = {**figures, **tuned}
        tuned_categories: Mapping[str, CategoryFigure] = {
            category: found
            for category, found in all_category_figures(tuned_figures, unstated).items()
            if any(name in tuned for name in found.benchmarks)
        }
    else:
        tuned_figures, tuned_categories = {}, {}
    breadth, breadth_missing = general_breadth(figures, assumptions.unknown_benchmark_score)
    parameters = entry.facts.parameters
    return CatalogModel(
        entry=entry,
        small=entry.facts.verdict_class == "small",
        figures=figures,
        categories=all_category_figures(figures, unstated),
        domain_figures=tuple(f for f in evidence if f.is_domain_set and not f.finetuned),
        tuned_figures=tuned_figures,
        tuned_categories=tuned_categories,
        tuned_domain_figures=tuple(f for f in tuned_domain if f.kind == "measured"),
        breadth=breadth,
        breadth_missing=breadth_missing,
        sizings=tuple(
            None if parameters is None else size_hardware(parameters, hardware, assumptions)
            for hardware in entry.self_hosted
        ),
    )


def digest_catalog(
    models: Sequence[ModelEntry], assumptions: Assumptions = DEFAULT_ASSUMPTIONS
) -> Catalog:
    """Digest the catalog's models for any use case. Raises ValueError on duplicate keys."""
    seen: set[str] = set()
    digested: list[CatalogModel] = []
    references: list[Exclusion] = []
    for entry in sorted(models, key=lambda item: item.facts.key):
        key = entry.facts.key
        if key in seen:
            raise ValueError(f"two models share the key {key!r}")
        seen.add(key)
        reference = _reference(entry)
        if reference is not None:
            references.append(reference)
        else:
            digested.append(digest_model(entry, assumptions))
    return Catalog(models=tuple(digested), references=tuple(references), assumptions=assumptions)
