"""Does finetuning close the gap, and what does it cost?

One domain evaluation set's measured results, side by side: each base model, its finetuned
checkpoints and the other models measured on the set (the large ones, typically), with the
standard error of each score, what the finetune cost to train, and what each model costs to
serve a month at a chosen volume.

Costs are kept simple on purpose, and the page says so: an API model costs its cheapest
catalogued API price at the volume; an open-weights model costs its cheapest catalogued
self-hosted hardware running all month (USD/hour x 730), whatever the volume."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import permission_required
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from catalog.models import (
    ApiDeployment,
    Finetune,
    HardwareProfile,
    LanguageModel,
    SelfHostedDeployment,
    Weights,
)
from catalog.selectors import catalog_settings_get

from .models import DomainEvalSet, MetricResult
from .selectors import EvidenceItem, measured_evidence

HOURS_PER_MONTH = 730
MILLION = Decimal(1_000_000)
# Two standard errors of the difference: about a 95% interval, the usual "clearly apart".
SIGNIFICANT_SE = 2


@dataclass(frozen=True)
class ServingVolume:
    """How much a use case asks of a model each month."""

    requests_per_month: int = 100_000
    input_tokens: int = 500  # per request
    output_tokens: int = 200  # per request


@dataclass(frozen=True)
class ServingCost:
    usd_per_month: Decimal
    kind: str  # "api" | "self_hosted"
    how: str  # what the figure is made of, for the page


def api_monthly_usd(deployment: ApiDeployment, volume: ServingVolume) -> Decimal:
    """Requests x (input tokens x input price + output tokens x output price) per month."""
    per_request = (
        volume.input_tokens * deployment.usd_per_million_input
        + volume.output_tokens * deployment.usd_per_million_output
    ) / MILLION
    return volume.requests_per_month * per_request


def self_hosted_monthly_usd(hardware: HardwareProfile) -> Decimal:
    """One instance of the hardware running all month, whatever the volume."""
    return hardware.usd_per_hour * HOURS_PER_MONTH


def monthly_serving_cost(model: LanguageModel, volume: ServingVolume) -> ServingCost | None:
    """The model's monthly cost at `volume`: open weights on the cheapest catalogued
    self-hosted hardware (a finetuned checkpoint without its own on its base's), else the
    cheapest catalogued API; None when the catalog has neither."""
    if model.weights == Weights.OPEN:
        hosted = _cheapest_hardware(model)
        note = ""
        if hosted is None and model.base_model is not None:
            hosted, note = _cheapest_hardware(model.base_model), ", its base's hardware"
        if hosted is not None:
            return ServingCost(
                self_hosted_monthly_usd(hosted),
                "self_hosted",
                f"self-hosted on {hosted.name}{note}: ${hosted.usd_per_hour:,.2f}/hour x "
                f"{HOURS_PER_MONTH} hours",
            )
    apis = list(model.api_deployments.all())
    if not apis:
        return None
    cheapest = min(apis, key=lambda api: api_monthly_usd(api, volume))
    return ServingCost(
        api_monthly_usd(cheapest, volume),
        "api",
        f"API: {cheapest.provider} {cheapest.api_model} "
        f"(${cheapest.usd_per_million_input:,.2f} in, ${cheapest.usd_per_million_output:,.2f} "
        "out per million tokens)",
    )


def _cheapest_hardware(model: LanguageModel) -> HardwareProfile | None:
    options = [option.hardware for option in model.self_hosted_deployments.all()]
    return min(options, key=lambda hw: hw.usd_per_hour, default=None)


@dataclass
class ComparisonRow:
    model: LanguageModel
    role: str  # "base" | "finetune" | "other"
    size_class: str | None
    evidence: EvidenceItem | None
    finetune: Finetune | None
    serving: ServingCost | None
    base_evidence: EvidenceItem | None = None  # a finetune's base's score

    @property
    def training_cost_usd(self) -> Decimal | None:
        return self.finetune.training_cost_usd if self.finetune else None

    @property
    def gain_over_base(self) -> float | None:
        if self.evidence is None or self.base_evidence is None:
            return None
        return self.evidence.value - self.base_evidence.value


@dataclass
class DomainSetComparison:
    domain_set: DomainEvalSet
    volume: ServingVolume
    rows: list[ComparisonRow]
    best_other: ComparisonRow | None
    verdicts: list[str] = field(default_factory=list)


def domain_set_comparison(
    *, domain_set: DomainEvalSet, volume: ServingVolume
) -> DomainSetComparison:
    """Every model measured on `domain_set`, with the bases of its finetuned checkpoints and
    the checkpoints of its bases (shown unmeasured until someone runs them), in a fixed number
    of queries. Rows: each base followed by its checkpoints, then the other models, best first."""
    task = domain_set.task_name
    measured_ids = set(
        MetricResult.objects.filter(task=task, is_group=False).values_list(
            "run__model_id", flat=True
        )
    )
    pairs = Finetune.objects.filter(
        Q(model_id__in=measured_ids) | Q(model__base_model_id__in=measured_ids)
    ).values_list("model_id", "model__base_model_id")
    model_ids = measured_ids | {pk for pair in pairs for pk in pair if pk is not None}
    models = list(_models_with_costs().filter(pk__in=model_ids))
    evidence = measured_evidence(model_ids=list(model_ids), tasks=[task])
    settings = catalog_settings_get()
    base_ids = {m.base_model_id for m in models if _finetune_of(m) is not None}

    def row_for(model: LanguageModel) -> ComparisonRow:
        finetune = _finetune_of(model)
        role = "finetune" if finetune else "base" if model.pk in base_ids else "other"
        return ComparisonRow(
            model=model,
            role=role,
            size_class=model.size_class(settings),
            evidence=evidence.get((model.pk, task)),
            finetune=finetune,
            serving=monthly_serving_cost(model, volume),
            base_evidence=evidence.get((model.base_model_id, task)) if finetune else None,
        )

    rows = [row_for(model) for model in models]
    rows.sort(key=_row_order(rows))
    others = [row for row in rows if row.role == "other" and row.evidence is not None]
    best_other = others[0] if others else None
    verdicts = [
        _verdict(row, best_other) for row in rows if row.role == "finetune" and row.evidence
    ]
    return DomainSetComparison(domain_set, volume, rows, best_other, verdicts)


def _models_with_costs():
    hosted = SelfHostedDeployment.objects.select_related("hardware")
    return LanguageModel.objects.select_related(
        "base_model", "finetune__hardware", "finetune__registered_by"
    ).prefetch_related(
        "api_deployments",
        Prefetch("self_hosted_deployments", queryset=hosted),
        Prefetch("base_model__self_hosted_deployments", queryset=hosted),
    )


def _finetune_of(model: LanguageModel) -> Finetune | None:
    try:
        return model.finetune
    except Finetune.DoesNotExist:
        return None


def _score(row: ComparisonRow) -> float:
    return row.evidence.value if row.evidence else -math.inf


def _row_order(rows: list[ComparisonRow]):
    """Each base (by name), then its checkpoints (best first); then the others, best first."""
    names = {row.model.pk: row.model.name for row in rows}

    def key(row: ComparisonRow):
        if row.role == "other":
            return (1, "", 0, -_score(row), row.model.name)
        group = row.model.base_model_id if row.role == "finetune" else row.model.pk
        return (0, names.get(group, ""), row.role == "finetune", -_score(row), row.model.name)

    return key


def _combined_se(a: EvidenceItem, b: EvidenceItem) -> float | None:
    if a.stderr is None or b.stderr is None:
        return None
    return math.sqrt(a.stderr**2 + b.stderr**2)


def _compare(a: EvidenceItem, b: EvidenceItem) -> str:
    """How `a` stands against `b`: 'clearly above', 'clearly below' or 'within'."""
    se = _combined_se(a, b)
    difference = a.value - b.value
    if se is None:
        return "above" if difference > 0 else "below" if difference < 0 else "within"
    if abs(difference) <= SIGNIFICANT_SE * se:
        return "within"
    return "clearly above" if difference > 0 else "clearly below"


def _points(value: float) -> str:
    return f"{abs(value) * 100:.1f} points"


def _verdict(row: ComparisonRow, best_other: ComparisonRow | None) -> str:
    name = row.model.name
    parts = []
    if row.base_evidence is not None:
        gain = row.gain_over_base or 0.0
        standing = _compare(row.evidence, row.base_evidence)
        if standing == "within":
            parts.append(
                f"{name} is within two standard errors of its base "
                f"({'+' if gain >= 0 else '-'}{_points(gain)}): no clear gain yet"
            )
        else:
            parts.append(f"{name} is {standing} its base by {_points(gain)}")
    else:
        parts.append(f"{name}: its base has no result on this set yet")
    if best_other is not None:
        other = best_other.model.name
        gap = best_other.evidence.value - row.evidence.value
        standing = _compare(row.evidence, best_other.evidence)
        if standing == "within":
            parts.append(f"it is within two standard errors of {other}: the gap is closed")
        elif row.evidence.value >= best_other.evidence.value:
            parts.append(f"it beats {other} by {_points(gap)}: the gap is closed")
        else:
            parts.append(f"it trails {other} by {_points(gap)}: the gap is still open")
    return "; ".join(parts) + "."


# ---------------------------------------------------------------- the page


class VolumeForm(forms.Form):
    requests_per_month = forms.IntegerField(
        label="Requests per month",
        min_value=0,
        max_value=10**10,
        initial=ServingVolume.requests_per_month,
    )
    input_tokens = forms.IntegerField(
        label="Input tokens per request",
        min_value=0,
        max_value=10**7,
        initial=ServingVolume.input_tokens,
    )
    output_tokens = forms.IntegerField(
        label="Output tokens per request",
        min_value=0,
        max_value=10**7,
        initial=ServingVolume.output_tokens,
    )

    def volume(self) -> ServingVolume:
        """The volume asked for; the defaults when the form is empty or wrong."""
        if self.is_bound and self.is_valid():
            return ServingVolume(**self.cleaned_data)
        return ServingVolume()


@permission_required("evaluations.view_domainevalset", raise_exception=True)
def domain_set_compare(request: HttpRequest, pk: int) -> HttpResponse:
    domain_set = get_object_or_404(DomainEvalSet, pk=pk)
    form = VolumeForm(request.GET or None)
    comparison = domain_set_comparison(domain_set=domain_set, volume=form.volume())
    return render(
        request,
        "evaluations/domain_set_compare.html",
        {"form": form, "comparison": comparison, "hours_per_month": HOURS_PER_MONTH},
    )
