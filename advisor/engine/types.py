"""The engine's plain data: what goes in (facts about models and where they can run, evidence)
and what comes out (the recommendation). Frozen dataclasses; every output converts to JSON with
`as_dict()`."""

from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, TypeVar

import numpy as np

DEPLOYMENTS: tuple[str, ...] = ("api", "self_hosted", "self_hosted_finetuned")
SIZE_CLASSES: tuple[str, ...] = ("small", "medium", "large")
WEIGHTS_KINDS: tuple[str, ...] = ("open", "api_only", "never_released")
COMMERCIAL_USE: tuple[str, ...] = ("allowed", "restricted", "not_allowed")
PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "fp16", "int8", "int4")
HOSTINGS: tuple[str, ...] = ("on_premises", "private_cloud")
EVIDENCE_KINDS: tuple[str, ...] = ("measured", "reported")
# Where a deployment sends the use case's data, from nearest to furthest.
DATA_REACH: tuple[str, ...] = ("on_premises", "private_cloud", "api_region", "api_anywhere")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


# --- inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """What the catalog knows about one model.

    `size_class` is precomputed by the caller from the catalog's thresholds (or the class a source
    states when the size is undisclosed). The verdict is binary: "medium" counts as large, and so
    does a model whose size is undisclosed and whose class no source states (None): only a model
    known to be small makes a "small" verdict.
    """

    key: str
    name: str
    parameters: int | None
    size_class: str | None
    weights: str
    licence_commercial: str | None
    context_length: int | None = None
    hf_repo: str | None = None
    licence_name: str = ""
    licence_conditions: str = ""

    def __post_init__(self) -> None:
        _require(bool(self.key), "a model needs a key")
        _require(self.parameters is None or self.parameters > 0, "parameters must be above 0")
        _require(self.size_class is None or self.size_class in SIZE_CLASSES, "unknown size class")
        _require(self.weights in WEIGHTS_KINDS, f"unknown weights kind {self.weights!r}")
        _require(
            self.licence_commercial is None or self.licence_commercial in COMMERCIAL_USE,
            f"unknown commercial use {self.licence_commercial!r}",
        )
        _require(self.context_length is None or self.context_length > 0, "context must be above 0")

    @property
    def verdict_class(self) -> str:
        """The class the verdict uses: "small", or "large" for medium and unknown sizes."""
        return "small" if self.size_class == "small" else "large"


@dataclass(frozen=True, slots=True)
class ApiOption:
    """A hosted API that serves the model at a per-token price."""

    provider: str
    api_model: str
    usd_per_million_input: float
    usd_per_million_output: float
    region: str | None
    provider_retains_data: bool
    provider_trains_on_data: bool
    source: str = ""

    def __post_init__(self) -> None:
        for price in (self.usd_per_million_input, self.usd_per_million_output):
            _require(math.isfinite(price) and price >= 0, "API prices must be at least 0")

    @property
    def region_bound(self) -> bool:
        """Whether the provider states a region; "global" or empty means it does not."""
        region = (self.region or "").strip().lower()
        return region not in ("", "global", "worldwide", "any")


@dataclass(frozen=True, slots=True)
class HardwareOption:
    """One way to run the model yourself: a hardware profile and the precision of the weights.

    `usd_per_hour` is for the whole profile (all its GPUs); `gpu_memory_gb`,
    `memory_bandwidth_gb_s` and `bf16_tflops` are per GPU. `hosting` says where the hardware is:
    "on_premises" (your own building; catalog cloud prices stand in for the cost of owning it) or
    "private_cloud".
    """

    key: str
    name: str
    gpu_memory_gb: float
    gpu_count: int
    usd_per_hour: float
    memory_bandwidth_gb_s: float | None
    bf16_tflops: float | None
    precision: str
    hosting: str = "on_premises"
    source: str = ""

    def __post_init__(self) -> None:
        _require(self.gpu_memory_gb > 0 and self.gpu_count >= 1, "hardware needs GPU memory")
        _require(math.isfinite(self.usd_per_hour) and self.usd_per_hour >= 0, "price must be >= 0")
        _require(self.precision in PRECISIONS, f"unknown precision {self.precision!r}")
        _require(self.hosting in HOSTINGS, f"unknown hosting {self.hosting!r}")
        for figure in (self.memory_bandwidth_gb_s, self.bf16_tflops):
            _require(figure is None or figure > 0, "hardware figures must be above 0")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One figure for the model on one benchmark (or on a domain evaluation set).

    `kind` is "measured" (our own evaluation run; `source` is the run id) or "reported" (a paper
    or model card; `source` is the URL and locator). `finetuned` marks a figure measured on a
    checkpoint finetuned on the use case's own labelled data.
    """

    benchmark: str
    value: float
    stderr: float | None
    kind: str
    source: str
    shots: int | None = None
    is_domain_set: bool = False
    finetuned: bool = False
    metric: str = ""

    def __post_init__(self) -> None:
        _require(math.isfinite(self.value) and 0.0 <= self.value <= 1.0, "values lie in 0..1")
        _require(
            self.stderr is None or (math.isfinite(self.stderr) and self.stderr >= 0),
            "stderr must be at least 0",
        )
        _require(self.kind in EVIDENCE_KINDS, f"unknown evidence kind {self.kind!r}")


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """Everything about one model the engine needs: facts, where it can run, and its evidence.

    The engine builds the candidates itself: one "api" candidate per API option, one
    "self_hosted" per hardware option and, for open weights when the use case has labelled
    examples, one "self_hosted_finetuned" per hardware option.
    """

    facts: ModelFacts
    api_options: tuple[ApiOption, ...] = ()
    self_hosted: tuple[HardwareOption, ...] = ()
    evidence: tuple[Evidence, ...] = ()


# --- outputs ------------------------------------------------------------------------------------

_T = TypeVar("_T")


def quick_init(cls: type[_T]) -> type[_T]:
    """Give a frozen, slotted dataclass an `__init__` that sets each slot through its descriptor.

    A frozen dataclass's own `__init__` sets each field with `object.__setattr__`; the engine makes
    thousands of these objects per recommendation, and this `__init__` (the same parameters,
    defaults and order, no checks to skip: only for classes without `__post_init__` or default
    factories) takes half the time. Apply it above `@dataclass`.
    """
    found = fields(cls)  # type: ignore[arg-type]
    if hasattr(cls, "__post_init__") or any(f.default_factory is not MISSING for f in found):
        raise TypeError(f"{cls.__name__} needs the dataclass __init__")
    namespace: dict[str, Any] = {}
    parameters: list[str] = []
    lines: list[str] = []
    for index, item in enumerate(found):
        namespace[f"_set{index}"] = getattr(cls, item.name).__set__
        if item.default is MISSING:
            parameters.append(item.name)
        else:
            namespace[f"_default{index}"] = item.default
            parameters.append(f"{item.name}=_default{index}")
        lines.append(f"    _set{index}(self, {item.name})\n")
    exec(f"def __init__(self, {', '.join(parameters)}):\n{''.join(lines)}", namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[misc]
    return cls


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


@quick_init
@dataclass(frozen=True, slots=True)
class Figure:
    """A figure used in a candidate's accuracy: a benchmark result, an imputed stand-in for missing
    evidence, or the estimated finetuning uplift.

    `role` is "domain" (the use case's own evaluation set), "task" (a benchmark its task
    categories map to), "imputed" (no figure: the lowest any model has stands in) or "estimate".
    `finetuned` marks a figure measured on a checkpoint finetuned on the use case's data.
    """

    benchmark: str
    value: float
    stderr: float | None
    kind: str
    source: str
    shots: int | None
    role: str
    categories: tuple[str, ...] = ()
    finetuned: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "benchmark": self.benchmark,
            "value": _r(self.value),
            "stderr": _r(self.stderr),
            "kind": self.kind,
            "source": self.source,
            "shots": self.shots,
            "role": self.role,
            "categories": list(self.categories),
            "finetuned": self.finetuned,
        }


@quick_init
@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """How a candidate's monthly cost comes about (all USD per month unless named otherwise)."""

    monthly_usd: float
    inference_usd: float
    finetuning_usd: float
    basis: str
    replicas: int | None = None
    deployments: int = 1
    model_copies_per_replica: int | None = None
    gpus_per_copy: int | None = None
    weights_gb: float | None = None
    memory_needed_gb: float | None = None
    capacity_requests_per_s: float | None = None
    needed_requests_per_s: float | None = None
    latency_ms: float | None = None
    training_gpu_hours: float | None = None
    training_usd: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "monthly_usd": _r(self.monthly_usd, 2),
            "inference_usd": _r(self.inference_usd, 2),
            "finetuning_usd": _r(self.finetuning_usd, 2),
            "basis": self.basis,
            "replicas": self.replicas,
            "deployments": self.deployments,
            "model_copies_per_replica": self.model_copies_per_replica,
            "gpus_per_copy": self.gpus_per_copy,
            "weights_gb": _r(self.weights_gb, 2),
            "memory_needed_gb": _r(self.memory_needed_gb, 2),
            "capacity_requests_per_s": _r(self.capacity_requests_per_s, 4),
            "needed_requests_per_s": _r(self.needed_requests_per_s, 6),
            "latency_ms": _r(self.latency_ms, 0),
            "training_gpu_hours": _r(self.training_gpu_hours, 2),
            "training_usd": _r(self.training_usd, 2),
        }


@quick_init
@dataclass(frozen=True, slots=True)
class Scores:
    """Per-criterion scores, each 0..1 (1 is best), before weighting."""

    accuracy: float
    cost: float
    privacy: float
    generality: float

    def as_tuple(self) -> tuple[float, float, float, float]:
        """In the order of the weights: accuracy, cost, privacy, generality."""
        return (self.accuracy, self.cost, self.privacy, self.generality)

    def as_dict(self) -> dict[str, float]:
        """JSON form."""
        return {
            "accuracy": round(self.accuracy, 4),
            "cost": round(self.cost, 4),
            "privacy": round(self.privacy, 4),
            "generality": round(self.generality, 4),
        }


@quick_init
@dataclass(frozen=True, slots=True)
class RankedCandidate:
    """One (model, deployment) candidate that passed every hard constraint, with its scores.

    `accuracy` is the raw figure the score comes from (None: no evidence at all; categories
    without a figure count the lowest any model has), `accuracy_own` the same from the model's
    own figures only (what `min_accuracy` is checked against), `privacy` the raw privacy (0..1)
    and `generality_breadth` the mean over the general suite. Finetuned candidates without a
    measured figure include the estimated uplift (`accuracy_is_estimate`).
    """

    model: str
    model_name: str
    parameters: int | None
    size_class: str | None
    verdict_class: str
    deployment: str
    option: str
    provider: str | None
    hardware: str | None
    precision: str | None
    data_goes_to: str
    monthly_cost_usd: float
    cost: CostBreakdown
    accuracy: float | None
    accuracy_own: float | None
    accuracy_stderr: float | None
    accuracy_is_estimate: bool
    generality_breadth: float
    privacy: float
    scores: Scores
    total: float
    evidence: tuple[Figure, ...]
    flags: tuple[str, ...]

    @property
    def choice(self) -> tuple[str, str]:
        """What a project manager chooses: the model and how it is deployed."""
        return (self.model, self.deployment)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "model": self.model,
            "model_name": self.model_name,
            "parameters": self.parameters,
            "size_class": self.size_class,
            "verdict_class": self.verdict_class,
            "deployment": self.deployment,
            "option": self.option,
            "provider": self.provider,
            "hardware": self.hardware,
            "precision": self.precision,
            "data_goes_to": self.data_goes_to,
            "monthly_cost_usd": round(self.monthly_cost_usd, 2),
            "cost": self.cost.as_dict(),
            "accuracy": _r(self.accuracy),
            "accuracy_own": _r(self.accuracy_own),
            "accuracy_stderr": _r(self.accuracy_stderr),
            "accuracy_is_estimate": self.accuracy_is_estimate,
            "generality_breadth": round(self.generality_breadth, 4),
            "privacy": round(self.privacy, 4),
            "scores": self.scores.as_dict(),
            "total": round(self.total, 4),
            "evidence": [figure.as_dict() for figure in self.evidence],
            "flags": list(self.flags),
        }


@quick_init
@dataclass(frozen=True, slots=True)
class Exclusion:
    """A model or candidate that cannot be recommended, and why.

    `deployment` is None for a model that is no candidate at all (never released: a reference;
    or no way to run it in the catalog). `constraints` names the hard constraints it breaks.
    """

    model: str
    model_name: str
    deployment: str | None
    option: str | None
    reason: str
    constraints: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "model": self.model,
            "model_name": self.model_name,
            "deployment": self.deployment,
            "option": self.option,
            "reason": self.reason,
            "constraints": list(self.constraints),
        }


@quick_init
@dataclass(frozen=True, slots=True)
class Confidence:
    """How far to trust the verdict: "high", "medium" or "low", and why."""

    level: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        """JSON form."""
        return {"level": self.level, "reason": self.reason}


@quick_init
@dataclass(frozen=True, slots=True)
class WeightSensitivity:
    """For one weight: the value (normalised, the others rescaled proportionally) at which the
    top choice (model and deployment) changes; None where it never does within 0..1.

    `flips_at` is the nearer of `flips_below` and `flips_above`; `new_top_*` is the choice that
    takes over there.
    """

    weight: str
    current: float
    flips_at: float | None
    flips_below: float | None
    flips_above: float | None
    new_top_model: str | None
    new_top_deployment: str | None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "current": round(self.current, 4),
            "flips_at": _r(self.flips_at),
            "flips_below": _r(self.flips_below),
            "flips_above": _r(self.flips_above),
            "new_top": None
            if self.new_top_model is None
            else {"model": self.new_top_model, "deployment": self.new_top_deployment},
        }


@quick_init
@dataclass(frozen=True, slots=True)
class InputChange:
    """One single change of an input and what the verdict becomes."""

    input: str
    change: str
    value: Any
    verdict: str | None
    top_model: str | None
    top_deployment: str | None
    flips_verdict: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "input": self.input,
            "change": self.change,
            "value": self.value,
            "verdict": self.verdict,
            "top": None
            if self.top_model is None
            else {"model": self.top_model, "deployment": self.top_deployment},
            "flips_verdict": self.flips_verdict,
        }


@dataclass(frozen=True, slots=True)
class Sensitivity:
    """What would change the answer: each weight's flip point and each single input change."""

    weights: tuple[WeightSensitivity, ...] = ()
    inputs: tuple[InputChange, ...] = ()

    @property
    def verdict_flipped_by(self) -> tuple[InputChange, ...]:
        """The input changes that flip the verdict between small and large."""
        return tuple(change for change in self.inputs if change.flips_verdict)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "weights": {item.weight: item.as_dict() for item in self.weights},
            "inputs": [change.as_dict() for change in self.inputs],
            "verdict_flipped_by": [
                f"{change.input} {change.change}" for change in self.verdict_flipped_by
            ],
        }


@quick_init
@dataclass(frozen=True, slots=True)
class ProposedEvaluation:
    """An evaluation that would settle a close call or fill missing evidence."""

    model: str
    tasks: tuple[str, ...]
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"model": self.model, "tasks": list(self.tasks), "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The engine's answer for one use case.

    `verdict` is "small" or "large" from the top candidate (medium and undisclosed sizes count as
    large); None only when no candidate passes the hard constraints (then `excluded` says why).
    """

    verdict: str | None
    confidence: Confidence
    ranking: tuple[RankedCandidate, ...]
    excluded: tuple[Exclusion, ...]
    sensitivity: Sensitivity = field(default_factory=Sensitivity)
    proposed_evaluations: tuple[ProposedEvaluation, ...] = ()

    @property
    def top(self) -> RankedCandidate | None:
        """The recommended candidate, if any."""
        return self.ranking[0] if self.ranking else None

    def as_dict(self) -> dict[str, Any]:
        """JSON form, with exactly the keys verdict, confidence, ranking, excluded, sensitivity
        and proposed_evaluations."""
        return {
            "verdict": self.verdict,
            "confidence": self.confidence.as_dict(),
            "ranking": _ranking_as_dicts(self.ranking),
            "excluded": [exclusion.as_dict() for exclusion in self.excluded],
            "sensitivity": self.sensitivity.as_dict(),
            "proposed_evaluations": [proposal.as_dict() for proposal in self.proposed_evaluations],
        }


# --- JSON of a long ranking ----------------------------------------------------------------------

_BATCH = 32  # below this many candidates, each converts itself


def _rounded(values: list[float | None], digits: int) -> list[float | None]:
    """`round(value, digits)` of each value (None stays None), all at once.

    Python's round is correctly rounded: m = x * 10**digits rounded half to even, exactly, then
    the float nearest m / 10**digits. numpy computes y = x * 10**digits within half an ulp and
    rint(y) / 10**digits; that is the same float whenever y is not within that error of a tie
    (and m has at most 52 bits). Values near a tie, huge, None or not floats (round keeps an
    int an int) are left to Python.
    """
    x = np.array([value if type(value) is float else math.nan for value in values])
    x[np.isinf(x)] = math.nan  # left to Python too
    scale = 10.0**digits
    y = x * scale
    whole = np.rint(y)
    magnitude = np.abs(y)
    safe = (np.abs(np.abs(y - whole) - 0.5) > 1e-9 * np.maximum(1.0, magnitude)) & (
        magnitude < 2.0**52
    )
    result = (whole / scale).tolist()
    for index in np.flatnonzero(~safe).tolist():
        value = values[index]
        result[index] = None if value is None else round(value, digits)
    return result


def _ranking_as_dicts(ranking: tuple[RankedCandidate, ...]) -> list[dict[str, Any]]:
    """`[candidate.as_dict() for candidate in ranking]`, rounding each number field for all
    candidates at once and converting each figure once (candidates of one model share theirs;
    each candidate gets its own copy)."""
    if len(ranking) < _BATCH:
        return [candidate.as_dict() for candidate in ranking]
    costs = [candidate.cost for candidate in ranking]
    scores = [candidate.scores for candidate in ranking]

    def of(items: list, name: str, digits: int) -> list[float | None]:
        return _rounded([getattr(item, name) for item in items], digits)

    monthly = of(ranking, "monthly_cost_usd", 2)
    accuracy = of(ranking, "accuracy", 4)
    own = of(ranking, "accuracy_own", 4)
    stderr = of(ranking, "accuracy_stderr", 4)
    breadth = of(ranking, "generality_breadth", 4)
    privacy = of(ranking, "privacy", 4)
    total = of(ranking, "total", 4)
    score_columns = [of(scores, name, 4) for name in ("accuracy", "cost", "privacy", "generality")]
    cost_columns = [
        of(costs, name, digits)
        for name, digits in (
            ("monthly_usd", 2),
            ("inference_usd", 2),
            ("finetuning_usd", 2),
            ("weights_gb", 2),
            ("memory_needed_gb", 2),
            ("capacity_requests_per_s", 4),
            ("needed_requests_per_s", 6),
            ("latency_ms", 0),
            ("training_gpu_hours", 2),
            ("training_usd", 2),
        )
    ]
    figures: dict[int, dict[str, Any]] = {}
    result: list[dict[str, Any]] = []
    for i, candidate in enumerate(ranking):
        cost = costs[i]
        evidence = []
        for figure in candidate.evidence:
            found = figures.get(id(figure))
            if found is None:
                found = figures[id(figure)] = figure.as_dict()
            evidence.append({**found, "categories": list(found["categories"])})
        result.append(
            {
                "model": candidate.model,
                "model_name": candidate.model_name,
                "parameters": candidate.parameters,
                "size_class": candidate.size_class,
                "verdict_class": candidate.verdict_class,
                "deployment": candidate.deployment,
                "option": candidate.option,
                "provider": candidate.provider,
                "hardware": candidate.hardware,
                "precision": candidate.precision,
                "data_goes_to": candidate.data_goes_to,
                "monthly_cost_usd": monthly[i],
                "cost": {
                    "monthly_usd": cost_columns[0][i],
                    "inference_usd": cost_columns[1][i],
                    "finetuning_usd": cost_columns[2][i],
                    "basis": cost.basis,
                    "replicas": cost.replicas,
                    "deployments": cost.deployments,
                    "model_copies_per_replica": cost.model_copies_per_replica,
                    "gpus_per_copy": cost.gpus_per_copy,
                    "weights_gb": cost_columns[3][i],
                    "memory_needed_gb": cost_columns[4][i],
                    "capacity_requests_per_s": cost_columns[5][i],
                    "needed_requests_per_s": cost_columns[6][i],
                    "latency_ms": cost_columns[7][i],
                    "training_gpu_hours": cost_columns[8][i],
                    "training_usd": cost_columns[9][i],
                },
                "accuracy": accuracy[i],
                "accuracy_own": own[i],
                "accuracy_stderr": stderr[i],
                "accuracy_is_estimate": candidate.accuracy_is_estimate,
                "generality_breadth": breadth[i],
                "privacy": privacy[i],
                "scores": {
                    "accuracy": score_columns[0][i],
                    "cost": score_columns[1][i],
                    "privacy": score_columns[2][i],
                    "generality": score_columns[3][i],
                },
                "total": total[i],
                "evidence": evidence,
                "flags": list(candidate.flags),
            }
        )
    return result
