"""The use case a project manager describes: what the decision engine is asked to decide for.

`UseCase.from_dict` takes the JSON a form or the API sends (exactly the keys of `FIELDS`), checks
every field and answers either a `UseCase` or `UseCaseInvalid` with one plain-language message per
field. It never raises anything else, whatever it is given. Weights come back normalised (they sum
to 1); `WEIGHT_PRESETS` offers a starting point per kind of organisation.

Pure Python: no Django, no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

TASK_CATEGORIES: tuple[str, ...] = (
    "classification",
    "extraction",
    "summarisation",
    "question_answering",
    "chat",
    "code",
    "reasoning",
    "translation",
    "generation",
)
DATA_SENSITIVITIES: tuple[str, ...] = ("public", "internal", "confidential", "regulated")
# Where data may be sent, from the most restrictive to the least.
DATA_LOCATIONS: tuple[str, ...] = ("on_premises", "private_cloud", "region", "anywhere")
ML_EXPERTISE: tuple[str, ...] = ("none", "some", "strong")
WEIGHT_NAMES: tuple[str, ...] = ("accuracy", "cost", "privacy", "generality")

FIELDS: tuple[str, ...] = (
    "name",
    "description",
    "task_categories",
    "domain",
    "languages",
    "data_sensitivity",
    "data_location",
    "needs_ownership",
    "labelled_examples",
    "monthly_requests",
    "input_tokens",
    "output_tokens",
    "latency_p95_ms",
    "monthly_budget_usd",
    "ml_expertise",
    "distinct_tasks",
    "min_accuracy",
    "weights",
    "domain_eval_set",
)
OPTIONAL_FIELDS: frozenset[str] = frozenset({"domain_eval_set"})

# Upper bounds keep the arithmetic meaningful; each is far above any real use case.
MAX_TEXT = 2000
MAX_NAME = 200
MAX_REQUESTS = 10**12
MAX_TOKENS = 10_000_000
MAX_EXAMPLES = 10**10
MAX_LATENCY_MS = 3_600_000
MAX_BUDGET_USD = 1e12
MAX_DISTINCT_TASKS = 1000
MAX_LANGUAGES = 50
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-zA-Z0-9]{2,8})*$")


class UseCaseInvalid(ValueError):
    """The use case has fields a project manager must correct.

    `errors` maps a field name (``weights.cost`` for one weight, ``__all__`` for the whole input)
    to a message that says what the field must be; `str()` lists them as ``field: message``.
    """

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{key}: {message}" for key, message in self.errors.items()))


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each criterion counts; normalised so that the four sum to 1."""

    accuracy: float
    cost: float
    privacy: float
    generality: float

    def __post_init__(self) -> None:
        values = self.as_tuple()
        if any(not math.isfinite(v) or v < 0 for v in values) or sum(values) <= 0:
            raise ValueError("weights must be finite, at least 0, and not all 0")

    def as_tuple(self) -> tuple[float, float, float, float]:
        """The weights in the order of `WEIGHT_NAMES`."""
        return (self.accuracy, self.cost, self.privacy, self.generality)

    def as_dict(self) -> dict[str, float]:
        """The weights as JSON, keyed by criterion."""
        return dict(zip(WEIGHT_NAMES, self.as_tuple(), strict=True))

    def normalised(self) -> Weights:
        """The same proportions, scaled to sum to 1."""
        total = math.fsum(self.as_tuple())
        return Weights(*(v / total for v in self.as_tuple()))

    def with_weight(self, name: str, value: float) -> Weights:
        """Set one normalised weight to `value` (0..1) and rescale the others proportionally.

        When the others are all 0 they share the rest equally.
        """
        if name not in WEIGHT_NAMES:
            raise ValueError(f"unknown weight {name!r}")
        if not 0.0 <= value <= 1.0:
            raise ValueError("a normalised weight lies between 0 and 1")
        current = self.normalised().as_dict()
        others = [n for n in WEIGHT_NAMES if n != name]
        rest = math.fsum(current[n] for n in others)
        new = {name: value}
        for n in others:
            share = current[n] / rest if rest > 0 else 1.0 / len(others)
            new[n] = (1.0 - value) * share
        return Weights(**new)


@dataclass(frozen=True, slots=True)
class WeightPreset:
    """A starting point for the weights, for one kind of organisation."""

    label: str
    description: str
    weights: Weights


WEIGHT_PRESETS: dict[str, WeightPreset] = {
    "hospital": WeightPreset(
        label="Hospital / regulated",
        description=(
            "Patient or client data under regulation: privacy first, then accuracy; cost matters "
            "less than keeping the data in the house."
        ),
        weights=Weights(accuracy=0.30, cost=0.20, privacy=0.40, generality=0.10),
    ),
    "startup": WeightPreset(
        label="Startup / cost-driven",
        description="Every dollar counts: cost first, then accuracy good enough for the task.",
        weights=Weights(accuracy=0.30, cost=0.45, privacy=0.10, generality=0.15),
    ),
    "enterprise_assistant": WeightPreset(
        label="Enterprise assistant / general",
        description=(
            "One assistant for many kinds of question: accuracy and breadth, then cost; internal "
            "data, so some privacy."
        ),
        weights=Weights(accuracy=0.30, cost=0.25, privacy=0.15, generality=0.30),
    ),
    "research": WeightPreset(
        label="Research / accuracy-first",
        description="The best answer matters most; cost and privacy come second.",
        weights=Weights(accuracy=0.60, cost=0.10, privacy=0.10, generality=0.20),
    ),
}


@dataclass(frozen=True, slots=True)
class UseCase:
    """One concrete use case; build it with `UseCase.from_dict` so that it is valid."""

    name: str
    description: str
    task_categories: tuple[str, ...]
    domain: str
    languages: tuple[str, ...]
    data_sensitivity: str
    data_location: str
    needs_ownership: bool
    labelled_examples: int
    monthly_requests: int
    input_tokens: int
    output_tokens: int
    latency_p95_ms: int | None
    monthly_budget_usd: float | None
    ml_expertise: str
    distinct_tasks: int
    min_accuracy: float | None
    weights: Weights
    domain_eval_set: str | None = field(default=None)

    @classmethod
    def from_dict(cls, data: Any) -> UseCase:
        """Validate `data` (the JSON keys of `FIELDS`) and build a use case.

        Raises `UseCaseInvalid` listing every field that is wrong, and nothing else.
        """
        if not isinstance(data, Mapping):
            raise UseCaseInvalid({"__all__": "must be an object with the use case's fields"})
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        for key in data:
            if key not in FIELDS:
                shown = key if isinstance(key, str) else repr(key)
                errors[str(shown)[:80]] = "is not a field of a use case"
        for name in FIELDS:
            if name not in data:
                if name in OPTIONAL_FIELDS:
                    values[name] = None
                else:
                    errors[name] = "is required"
                continue
            try:
                values[name] = _VALIDATORS[name](data[name])
            except _FieldError as problem:
                for sub, message in problem.errors.items():
                    errors[f"{name}.{sub}" if sub else name] = message
        if errors:
            raise UseCaseInvalid(errors)
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """The use case as JSON with exactly the keys of `FIELDS` (weights normalised)."""
        return {
            "name": self.name,
            "description": self.description,
            "task_categories": list(self.task_categories),
            "domain": self.domain,
            "languages": list(self.languages),
            "data_sensitivity": self.data_sensitivity,
            "data_location": self.data_location,
            "needs_ownership": self.needs_ownership,
            "labelled_examples": self.labelled_examples,
            "monthly_requests": self.monthly_requests,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "latency_p95_ms": self.latency_p95_ms,
            "monthly_budget_usd": self.monthly_budget_usd,
            "ml_expertise": self.ml_expertise,
            "distinct_tasks": self.distinct_tasks,
            "min_accuracy": self.min_accuracy,
            "weights": self.weights.as_dict(),
            "domain_eval_set": self.domain_eval_set,
        }

    def changed(self, **changes: Any) -> UseCase:
        """A copy with some fields changed, validated like `from_dict`."""
        data = self.as_dict()
        for key, value in changes.items():
            data[key] = value.as_dict() if isinstance(value, Weights) else value
        return UseCase.from_dict(data)

    def with_weights(self, weights: Weights) -> UseCase:
        """A copy with other weights (normalised); no other field changes."""
        return replace(self, weights=weights.normalised())


class _FieldError(Exception):
    def __init__(self, message: str, sub: str = "") -> None:
        super().__init__(message)
        self.errors = {sub: message}


def _text(*, max_length: int, required: bool):
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise _FieldError("must be text")
        value = value.strip()
        if required and not value:
            raise _FieldError("must not be empty")
        if len(value) > max_length:
            raise _FieldError(f"must be at most {max_length} characters")
        return value

    return check


def _choice(options: tuple[str, ...]):
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in options:
            raise _FieldError(f"must be one of: {', '.join(options)}")
        return value

    return check


def _whole_number(*, minimum: int, maximum: int, nullable: bool = False):
    message = f"must be a whole number of at least {minimum}"
    if nullable:
        message += ", or empty"

    def check(value: Any) -> int | None:
        if value is None and nullable:
            return None
        if isinstance(value, bool):
            raise _FieldError(message)
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or value < minimum:
            raise _FieldError(message)
        if value > maximum:
            raise _FieldError(f"must be at most {maximum:,}")
        return value

    return check


def _number(*, minimum: float, maximum: float, nullable: bool, label: str):
    message = f"must be {label}" + (", or empty" if nullable else "")

    def check(value: Any) -> float | None:
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _FieldError(message)
        try:
            number = float(value)
        except OverflowError:
            raise _FieldError(message) from None
        if not math.isfinite(number) or not minimum <= number <= maximum:
            raise _FieldError(message)
        return number

    return check


def _task_categories(value: Any) -> tuple[str, ...]:
    message = f"must be a list of one or more of: {', '.join(TASK_CATEGORIES)}"
    if not isinstance(value, list | tuple) or not value:
        raise _FieldError(message)
    chosen: list[str] = []
    for item in value:
        if not isinstance(item, str) or item not in TASK_CATEGORIES:
            raise _FieldError(message)
        if item not in chosen:
            chosen.append(item)
    return tuple(chosen)


def _languages(value: Any) -> tuple[str, ...]:
    message = "must be a list of one or more language codes, such as en, de or pt-BR"
    if not isinstance(value, list | tuple) or not value or len(value) > MAX_LANGUAGES:
        raise _FieldError(message)
    codes: list[str] = []
    for item in value:
        if not isinstance(item, str) or not _LANGUAGE_CODE.match(item.strip()):
            raise _FieldError(message)
        code = item.strip()
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _FieldError("must be yes (true) or no (false)")
    return value


def _weights(value: Any) -> Weights:
    if not isinstance(value, Mapping):
        raise _FieldError(f"must give a weight for each of: {', '.join(WEIGHT_NAMES)}")
    errors: dict[str, str] = {}
    numbers: dict[str, float] = {}
    for key in value:
        if key not in WEIGHT_NAMES:
            shown = key if isinstance(key, str) else repr(key)
            errors[str(shown)[:80]] = f"is not a weight (the weights are {', '.join(WEIGHT_NAMES)})"
    check = _number(minimum=0.0, maximum=1e6, nullable=False, label="a number of at least 0")
    for name in WEIGHT_NAMES:
        if name not in value:
            errors[name] = "is required"
            continue
        try:
            numbers[name] = check(value[name])
        except _FieldError as problem:
            errors[name] = str(problem)
    if not errors and math.fsum(numbers.values()) <= 0:
        errors[""] = "at least one weight must be above 0"
    if errors:
        failure = _FieldError("")
        failure.errors = errors
        raise failure
    return Weights(**numbers).normalised()


def _domain_eval_set(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _FieldError("must be the name of a domain evaluation set, or empty")
    value = value.strip()
    if len(value) > MAX_NAME:
        raise _FieldError(f"must be at most {MAX_NAME} characters")
    return value or None


_VALIDATORS = {
    "name": _text(max_length=MAX_NAME, required=True),
    "description": _text(max_length=MAX_TEXT, required=False),
    "task_categories": _task_categories,
    "domain": _text(max_length=MAX_NAME, required=False),
    "languages": _languages,
    "data_sensitivity": _choice(DATA_SENSITIVITIES),
    "data_location": _choice(DATA_LOCATIONS),
    "needs_ownership": _boolean,
    "labelled_examples": _whole_number(minimum=0, maximum=MAX_EXAMPLES),
    "monthly_requests": _whole_number(minimum=0, maximum=MAX_REQUESTS),
    "input_tokens": _whole_number(minimum=1, maximum=MAX_TOKENS),
    "output_tokens": _whole_number(minimum=1, maximum=MAX_TOKENS),
    "latency_p95_ms": _whole_number(minimum=1, maximum=MAX_LATENCY_MS, nullable=True),
    "monthly_budget_usd": _number(
        minimum=0.0, maximum=MAX_BUDGET_USD, nullable=True, label="an amount of at least 0"
    ),
    "ml_expertise": _choice(ML_EXPERTISE),
    "distinct_tasks": _whole_number(minimum=1, maximum=MAX_DISTINCT_TASKS),
    "min_accuracy": _number(minimum=0.0, maximum=1.0, nullable=True, label="between 0 and 1"),
    "weights": _weights,
    "domain_eval_set": _domain_eval_set,
}
