"""The catalog digested once, whatever the use case: which figure counts per benchmark, each
task category's figure, breadth, and how each hardware option holds each model.

`digest_catalog` is pure; a caller may keep its result for as long as the catalog does not
change (the form recomputes the recommendation on every keystroke) and pass it to `recommend`
instead of the models.

Besides the models, the digest keeps the same facts as columns (`Columns`, numpy arrays): one row
per model, and one row per candidate option (model, deployment, API or hardware), in the order the
candidates are built. The candidates themselves do not depend on the use case, only their costs,
constraints and scores do; `candidates` computes those for every row at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import texts
from .assumptions import DEFAULT_ASSUMPTIONS, Assumptions
from .cost import HardwareSizing, size_hardware
from .evidence import (
    CATEGORY_BENCHMARKS,
    CategoryFigure,
    all_category_figures,
    general_breadth,
    select_domain_figure,
    select_figures,
)
from .privacy import (
    ALLOWED_REACH,
    SENSITIVITY_FACTOR,
    api_reach,
    privacy_score,
    reach_label,
    self_hosted_reach,
)
from .types import (
    DEPLOYMENTS,
    ApiOption,
    Evidence,
    Exclusion,
    HardwareOption,
    ModelEntry,
    quick_init,
)

API, SELF_HOSTED, FINETUNED = range(3)  # row kinds, in the order of `DEPLOYMENTS`


@quick_init
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


@quick_init
@dataclass(frozen=True, slots=True)
class CatalogOption:
    """One candidate row: a model, how it is deployed, and the API or hardware it runs on."""

    model: CatalogModel
    model_index: int
    kind: int  # API, SELF_HOSTED or FINETUNED
    api: ApiOption | None
    hardware: HardwareOption | None
    sizing: HardwareSizing | None
    reach: int
    label: str  # as shown: provider and API model, or hardware and precision
    deployment: str  # "api", "self_hosted" or "self_hosted_finetuned" (DEPLOYMENTS[kind])
    data_goes_to: str  # the reach as shown
    flags: tuple[str, ...]  # those that depend on the catalog alone
    region_flag: str | None  # shown when the data must stay in its region


@dataclass(frozen=True, slots=True, eq=False)
class FigureColumn:
    """One figure per model (a task category's, or a domain set's): whether it has one, its value,
    whether its stderr is stated and the stderr (0.0 where not) and, for a category, its
    comparison stderr; `found` the domain set's figures themselves."""

    has: np.ndarray
    value: np.ndarray
    stderr_known: np.ndarray
    stderr: np.ndarray
    comparison: np.ndarray | None = None
    found: tuple[Evidence | None, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class Columns:
    """The catalog's numbers as columns, for computing every candidate at once.

    Per model (rows as `Catalog.models`): `categories` and `tuned` give each task category's
    figure (`tuned`: only the categories a finetuned figure speaks for, see
    `CatalogModel.tuned_categories`); `domain` and `tuned_domain` the figure on each domain set
    that counts (key None: the best on any set); `imputation` the lowest figure any model has per
    category; `signature` which benchmarks it has figures for, as bits (the models in
    `signatures`, one per signature, share which categories their figures speak for). Per option
    (rows as `options`): its kind, model, reach, privacy per sensitivity,
    API prices and sizing; `rank` orders ties in the ranking (model key, deployment, option),
    `exclusion_position` places it among the exclusions (model key, deployment, label) and
    `reference_position` the references. An excluded option is listed with its
    `exclusion_heads` (model key and name, deployment, label) and the texts of the constraints
    that depend on the catalog alone (`reasons`; per data location for the data location's).
    """

    small: np.ndarray
    context_length: np.ndarray
    open_weights: np.ndarray
    owned: np.ndarray
    breadth: np.ndarray
    categories: dict[str, FigureColumn]
    tuned: dict[str, FigureColumn]
    domain: dict[str | None, FigureColumn]
    tuned_domain: dict[str | None, FigureColumn]
    imputation: dict[str, float]
    signature: np.ndarray
    signatures: dict[int, CatalogModel]
    options: tuple[CatalogOption, ...]
    kind: np.ndarray
    model: np.ndarray
    reach: np.ndarray
    privacy: dict[str, np.ndarray]
    price_in: np.ndarray
    price_out: np.ndarray
    trains: np.ndarray
    sized: np.ndarray
    fits: np.ndarray
    prefill: np.ndarray
    step: np.ndarray
    batch: np.ndarray
    copies: np.ndarray
    replica_usd: np.ndarray
    training_usd_per_token: np.ndarray
    rank: np.ndarray
    exclusion_position: np.ndarray
    reference_position: np.ndarray
    exclusion_heads: tuple[tuple[str, str, str, str], ...]
    location_reasons: dict[str, tuple[str, ...]]
    ownership_reasons: tuple[str, ...]
    memory_reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Catalog:
    """The digested catalog: candidates' models sorted by key, and the references (never
    released, or nowhere to run) that are listed but never recommended."""

    models: tuple[CatalogModel, ...]
    references: tuple[Exclusion, ...]
    assumptions: Assumptions
    columns: Columns = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        columns = _columns(self.models, self.references, self.assumptions)
        object.__setattr__(self, "columns", columns)


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


def _category_columns(per_model: list[Mapping[str, CategoryFigure]]) -> dict[str, FigureColumn]:
    columns: dict[str, FigureColumn] = {}
    for category in CATEGORY_BENCHMARKS:
        found = [figures.get(category) for figures in per_model]
        if any(item is not None for item in found):
            columns[category] = FigureColumn(
                has=np.array([item is not None for item in found], dtype=bool),
                value=np.array([0.0 if item is None else item.value for item in found]),
                stderr_known=np.array(
                    [item is not None and item.stderr is not None for item in found], dtype=bool
                ),
                stderr=np.array(
                    [0.0 if item is None or item.stderr is None else item.stderr for item in found]
                ),
                comparison=np.array(
                    [0.0 if item is None else item.comparison_stderr for item in found]
                ),
            )
    return columns


def _domain_columns(per_model: list[tuple[Evidence, ...]]) -> dict[str | None, FigureColumn]:
    """The figure `select_domain_figure` picks per model, for each set named and for None."""
    names: list[str | None] = [None]
    for figures in per_model:
        for figure in figures:
            if figure.benchmark not in names:
                names.append(figure.benchmark)
    columns: dict[str | None, FigureColumn] = {}
    for name in names:
        found = tuple(select_domain_figure(figures, name) for figures in per_model)
        if any(item is not None for item in found):
            columns[name] = FigureColumn(
                has=np.array([item is not None for item in found], dtype=bool),
                value=np.array([0.0 if item is None else item.value for item in found]),
                stderr_known=np.array(
                    [item is not None and item.stderr is not None for item in found], dtype=bool
                ),
                stderr=np.array(
                    [0.0 if item is None or item.stderr is None else item.stderr for item in found]
                ),
                found=found,
            )
    return columns


_SIGNATURE_BENCHMARKS = tuple(
    dict.fromkeys(
        name for names in CATEGORY_BENCHMARKS.values() for group in names for name in group
    )
)


def _signature(digest: CatalogModel) -> int:
    """Which of the task categories' benchmarks the model has a figure for, as bits."""
    return sum(1 << i for i, name in enumerate(_SIGNATURE_BENCHMARKS) if name in digest.figures)


def _columns(
    models: tuple[CatalogModel, ...], references: tuple[Exclusion, ...], assumptions: Assumptions
) -> Columns:
    imputation: dict[str, float] = {}
    for digest in models:
        for category, found in digest.categories.items():
            if category not in imputation or found.value < imputation[category]:
                imputation[category] = found.value
    options: list[CatalogOption] = []
    sort_keys: list[tuple[str, int, str]] = []

    def add(
        digest: CatalogModel,
        index: int,
        kind: int,
        api: ApiOption | None,
        hardware: HardwareOption | None,
        sizing: HardwareSizing | None,
        reach: int,
        label: str,
    ) -> None:
        options.append(
            CatalogOption(
                model=digest,
                model_index=index,
                kind=kind,
                api=api,
                hardware=hardware,
                sizing=sizing,
                reach=reach,
                label=label,
                deployment=DEPLOYMENTS[kind],
                data_goes_to=reach_label(reach),
                flags=texts.catalog_flags(digest.entry.facts, api, hardware, sizing, assumptions),
                region_flag=texts.region_flag(api),
            )
        )

    for index, digest in enumerate(models):
        entry = digest.entry
        key = entry.facts.key
        for api in entry.api_options:
            label = f"{api.provider} {api.api_model}"
            add(digest, index, API, api, None, None, api_reach(api), label)
            sort_keys.append((key, API, label))
        for hardware, sizing in zip(entry.self_hosted, digest.sizings, strict=True):
            reach = self_hosted_reach(hardware)
            label = f"{hardware.name} · {hardware.precision}"
            option_id = f"{hardware.key}/{hardware.precision}"
            add(digest, index, SELF_HOSTED, None, hardware, sizing, reach, label)
            sort_keys.append((key, SELF_HOSTED, option_id))
            if entry.facts.weights == "open":
                add(digest, index, FINETUNED, None, hardware, sizing, reach, label)
                sort_keys.append((key, FINETUNED, option_id))
    count = len(options)
    rank = np.empty(count, dtype=np.int64)
    rank[sorted(range(count), key=sort_keys.__getitem__)] = np.arange(count)
    # The exclusions are listed by model key, deployment (references first) and label; Python's
    # sort is stable, so ties keep the references' order, then the options'.
    listed = [(reference.model, -1, "") for reference in references] + [
        (option.model.key, option.kind, option.label) for option in options
    ]
    position = np.empty(len(listed), dtype=np.int64)
    position[sorted(range(len(listed)), key=listed.__getitem__)] = np.arange(len(listed))

    def floats(values) -> np.ndarray:
        return np.array(list(values), dtype=float)

    # Per option: its sizing's numbers where it fits (placeholders that divide safely where not),
    # its privacy per sensitivity and the texts of the constraints it may break.
    fitting = [o.sizing if o.sizing is not None and o.sizing.fits else None for o in options]
    prefill, step, batch, copies = (
        floats(1.0 if z is None else getattr(z, name) for z in fitting)
        for name in ("prefill_s_per_token", "step_s", "batch", "copies")
    )
    replica_usd = floats(0.0 if z is None else z.replica_usd_per_month for z in fitting)
    exposures = [
        (o.reach, False, False)
        if o.api is None
        else (o.reach, o.api.provider_retains_data, o.api.provider_trains_on_data)
        for o in options
    ]
    privacy: dict[str, np.ndarray] = {}
    for sensitivity in SENSITIVITY_FACTOR:
        scores = {
            exposure: privacy_score(
                sensitivity, exposure[0], retains=exposure[1], trains=exposure[2]
            )
            for exposure in set(exposures)
        }
        privacy[sensitivity] = floats(scores[exposure] for exposure in exposures)
    location_texts: dict[tuple[int, str], str] = {}  # by API (id(None): self-hosted) and location

    def location_reason(api: ApiOption | None, location: str) -> str:
        key = (id(api), location)
        text = location_texts.get(key)
        if text is None:
            text = location_texts[key] = texts.data_location(api, location)
        return text

    ownership_texts = {
        (o.model_index, o.api is None): texts.needs_ownership(o.model.entry.facts, o.api)
        for o in options
    }

    facts = [digest.entry.facts for digest in models]
    signatures = [_signature(digest) for digest in models]
    return Columns(
        small=np.array([digest.small for digest in models], dtype=bool),
        context_length=floats(
            math.inf if f.context_length is None else f.context_length for f in facts
        ),
        open_weights=np.array([f.weights == "open" for f in facts], dtype=bool),
        owned=np.array(
            [
                f.weights == "open" and f.licence_commercial in ("allowed", "restricted")
                for f in facts
            ],
            dtype=bool,
        ),
        breadth=floats(digest.breadth for digest in models),
        categories=_category_columns([digest.categories for digest in models]),
        tuned=_category_columns([digest.tuned_categories for digest in models]),
        domain=_domain_columns([digest.domain_figures for digest in models]),
        tuned_domain=_domain_columns([digest.tuned_domain_figures for digest in models]),
        imputation=imputation,
        signature=np.array(signatures, dtype=np.int64),
        signatures={
            signature: digest for signature, digest in zip(signatures, models, strict=True)
        },
        options=tuple(options),
        kind=np.array([option.kind for option in options], dtype=np.int64),
        model=np.array([option.model_index for option in options], dtype=np.int64),
        reach=np.array([option.reach for option in options], dtype=np.int64),
        privacy=privacy,
        price_in=floats(0.0 if o.api is None else o.api.usd_per_million_input for o in options),
        price_out=floats(0.0 if o.api is None else o.api.usd_per_million_output for o in options),
        trains=np.array(
            [option.api is not None and option.api.provider_trains_on_data for option in options],
            dtype=bool,
        ),
        sized=np.array([option.sizing is not None for option in options], dtype=bool),
        fits=np.array(
            [option.sizing is not None and option.sizing.fits for option in options], dtype=bool
        ),
        prefill=prefill,
        step=step,
        batch=batch,
        copies=copies,
        replica_usd=replica_usd,
        training_usd_per_token=floats(
            0.0 if option.sizing is None else option.sizing.training_usd_per_token
            for option in options
        ),
        rank=rank,
        exclusion_position=position[len(references) :],
        reference_position=position[: len(references)],
        exclusion_heads=tuple(
            (option.model.key, option.model.entry.facts.name, option.deployment, option.label)
            for option in options
        ),
        location_reasons={
            location: tuple(
                location_reason(o.api, location) if o.reach > allowed else "" for o in options
            )
            for location, allowed in ALLOWED_REACH.items()
        },
        ownership_reasons=tuple(ownership_texts[(o.model_index, o.api is None)] for o in options),
        memory_reasons=tuple(
            ""
            if o.sizing is None or o.sizing.fits or o.hardware is None
            else texts.memory(o.sizing.weights_gb, o.sizing.available_gb, o.hardware)
            for o in options
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
