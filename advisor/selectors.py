"""What the decision engine needs, read from the catalog and the evaluation store in a fixed
number of queries, whatever their size."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch

from catalog.models import (
    ApiDeployment,
    CatalogSettings,
    LanguageModel,
    SelfHostedDeployment,
)
from catalog.selectors import catalog_settings_get, with_size_class
from evaluations.models import DomainEvalSet
from evaluations.selectors import EvidenceItem, measured_evidence, reported_evidence

from .engine import (
    CATEGORY_BENCHMARKS,
    GENERAL_SUITE,
    ApiOption,
    Evidence,
    HardwareOption,
    ModelEntry,
    ModelFacts,
)

# Every benchmark the engine may read; measured results on other tasks are not fetched.
ENGINE_BENCHMARKS = tuple(
    sorted(
        {name for primary, supporting in CATEGORY_BENCHMARKS.values() for name in primary}
        | {name for _, supporting in CATEGORY_BENCHMARKS.values() for name in supporting}
        | set(GENERAL_SUITE)
    )
)


@dataclass(frozen=True)
class EngineInput:
    models: list[ModelEntry]
    # Engine evidence source -> what it points at, for the saved snapshot and the page.
    sources: dict[str, dict]


def domain_eval_set_task(name: str | None) -> str | None:
    """The task name of the latest version of the named domain evaluation set."""
    if not name:
        return None
    latest = DomainEvalSet.objects.filter(name=name).order_by("-created_at").first()
    return latest.task_name if latest else None


def engine_input(*, domain_task: str | None = None, settings: CatalogSettings | None = None):
    """The catalog as the engine's plain data, with the best evidence per model and benchmark
    (measured before reported) and, if named, the domain evaluation set's results."""
    settings = settings or catalog_settings_get()
    models = list(
        with_size_class(LanguageModel.objects.select_related("licence"), settings)
        .prefetch_related(
            Prefetch("api_deployments", queryset=ApiDeployment.objects.order_by("pk")),
            Prefetch(
                "self_hosted_deployments",
                queryset=SelfHostedDeployment.objects.select_related("hardware").order_by("pk"),
            ),
        )
        .order_by("key")
    )
    ids = [m.pk for m in models]
    tasks = [*ENGINE_BENCHMARKS, *([domain_task] if domain_task else [])]
    reported = reported_evidence(model_ids=ids, tasks=ENGINE_BENCHMARKS)
    measured = measured_evidence(model_ids=ids, tasks=tasks)
    sources: dict[str, dict] = {}
    by_model: dict[int, list[Evidence]] = {}
    for item in [*reported.values(), *measured.values()]:
        evidence = _evidence(item, domain_task)
        if evidence is None:
            continue
        by_model.setdefault(item.model_id, []).append(evidence)
        sources[evidence.source] = {
            "kind": item.kind,
            "label": item.source_label,
            "url": item.source_url,
            "run_id": item.run_id,
            "reported_score_id": item.reported_score_id,
        }
    entries = [
        ModelEntry(
            facts=_facts(model),
            api_options=tuple(_api(api) for api in model.api_deployments.all()),
            self_hosted=tuple(_hardware(option) for option in model.self_hosted_deployments.all()),
            evidence=tuple(by_model.get(model.pk, ())),
        )
        for model in models
    ]
    return EngineInput(models=entries, sources=sources)


def _evidence(item: EvidenceItem, domain_task: str | None) -> Evidence | None:
    if not 0.0 <= item.value <= 1.0:  # perplexity and the like are not accuracies
        return None
    source = f"run {item.run_id}" if item.measured else f"{item.source_url} ({item.source_label})"
    return Evidence(
        benchmark=item.task,
        value=item.value,
        stderr=item.stderr,
        kind=item.kind,
        source=source,
        shots=item.shots,
        is_domain_set=item.task == domain_task,
        metric=item.metric,
    )


def _facts(model: LanguageModel) -> ModelFacts:
    licence = model.licence
    return ModelFacts(
        key=model.key,
        name=model.name,
        parameters=model.parameters,
        size_class=model.size_class or None,
        weights=model.weights,
        licence_commercial=licence.commercial_use if licence else None,
        context_length=model.context_length,
        hf_repo=model.hf_repo or None,
        licence_name=licence.name if licence else "",
        licence_conditions=licence.conditions if licence else "",
    )


def _api(api: ApiDeployment) -> ApiOption:
    return ApiOption(
        provider=api.provider,
        api_model=api.api_model,
        usd_per_million_input=float(api.usd_per_million_input),
        usd_per_million_output=float(api.usd_per_million_output),
        region=api.region or None,
        provider_retains_data=api.provider_retains_data,
        provider_trains_on_data=api.provider_trains_on_data,
        source=f"price seen {api.price_seen_on}",
    )


def _hardware(option: SelfHostedDeployment) -> HardwareOption:
    hardware = option.hardware
    return HardwareOption(
        key=hardware.key,
        name=hardware.name,
        gpu_memory_gb=float(hardware.gpu_memory_gb),
        gpu_count=hardware.gpu_count,
        usd_per_hour=float(hardware.usd_per_hour),
        memory_bandwidth_gb_s=float(hardware.memory_bandwidth_gb_s)
        if hardware.memory_bandwidth_gb_s
        else None,
        bf16_tflops=float(hardware.bf16_tflops) if hardware.bf16_tflops else None,
        precision=option.precision,
    )


def recommendations_of(user):
    return user.recommendations.all()
