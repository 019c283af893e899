"""What the decision engine needs, read from the catalog and the evaluation store in a fixed
number of queries, whatever their size."""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.db import connection
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
    Catalog,
    Evidence,
    HardwareOption,
    ModelEntry,
    ModelFacts,
    digest_catalog,
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


def _latest_domain_tasks() -> dict[str, str]:
    """task name -> set name, for the latest version of every domain evaluation set."""
    latest: dict[str, str] = {}
    for name, task in DomainEvalSet.objects.order_by("name", "-created_at").values_list(
        "name", "task_name"
    ):
        if name not in latest.values():
            latest[task] = name
    return latest


def evidence_fingerprint() -> tuple:
    """Changes whenever anything the engine reads changes: every catalog write through a
    model's save() or delete() (the admin, the loader, services) leaves a history row
    (django-simple-history); runs and domain sets are only added or removed. A bulk
    QuerySet.update() on catalog tables leaves no history: don't use one there. One query."""
    tables = [
        "catalog_historicallanguagemodel",
        "catalog_historicalapideployment",
        "catalog_historicalselfhosteddeployment",
        "catalog_historicalreportedscore",
        "catalog_historicalhardwareprofile",
        "catalog_historicallicence",
        "catalog_historicalcatalogsettings",
    ]
    # Primary-key maxima and counts: index look-ups, about a millisecond in all.
    parts = [f"(SELECT MAX(history_id) FROM {table})" for table in tables]
    parts += [
        "(SELECT MAX(id) FROM evaluations_evalrun)",
        "(SELECT COUNT(*) FROM evaluations_evalrun)",
        "(SELECT MAX(id) FROM evaluations_domainevalset)",
        "(SELECT COUNT(*) FROM evaluations_domainevalset)",
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        return tuple(cursor.fetchone())


_cache: dict[str, tuple[tuple, EngineInput, Catalog]] = {}


def engine_catalog() -> tuple[EngineInput, Catalog]:
    """The engine's input and its digest, rebuilt only when the evidence changed (one query to
    find out). Process-local: each web worker keeps its own."""
    fingerprint = evidence_fingerprint()
    cached = _cache.get(connection.alias)
    if cached is not None and cached[0] == fingerprint:
        return cached[1], cached[2]
    engine_in = engine_input()
    catalog = digest_catalog(engine_in.models)
    _cache[connection.alias] = (fingerprint, engine_in, catalog)
    return engine_in, catalog


def engine_input(*, settings: CatalogSettings | None = None) -> EngineInput:
    """The catalog as the engine's plain data, with the best evidence per model and benchmark
    (measured before reported) and every domain evaluation set's results (as the set's name)."""
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
    domain_tasks = _latest_domain_tasks()
    reported = reported_evidence(model_ids=ids, tasks=ENGINE_BENCHMARKS)
    measured = measured_evidence(model_ids=ids, tasks=[*ENGINE_BENCHMARKS, *domain_tasks])
    sources: dict[str, dict] = {}
    by_model: dict[int, list[Evidence]] = {}
    # A registered finetune's results on a domain set speak for its base model's finetuned
    # candidate: measured, where the engine would otherwise estimate the uplift.
    finetunes = {
        pk: (base_id, name)
        for pk, base_id, name in LanguageModel.objects.filter(
            finetune__isnull=False, base_model__isnull=False
        ).values_list("pk", "base_model_id", "name")
    }
    for item in [*reported.values(), *measured.values()]:
        evidence = _evidence(item, domain_tasks)
        if evidence is None:
            continue
        by_model.setdefault(item.model_id, []).append(evidence)
        sources[evidence.source] = _source(item, item.source_label)
        if item.model_id in finetunes and evidence.is_domain_set:
            base_id, name = finetunes[item.model_id]
            tuned = replace(evidence, finetuned=True, source=f"{evidence.source} ({name})")
            by_model.setdefault(base_id, []).append(tuned)
            sources[tuned.source] = _source(item, f"{item.source_label}, finetuned: {name}")
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


def _source(item: EvidenceItem, label: str) -> dict:
    return {
        "kind": item.kind,
        "label": label,
        "url": item.source_url,
        "run_id": item.run_id,
        "reported_score_id": item.reported_score_id,
    }


def _evidence(item: EvidenceItem, domain_tasks: dict[str, str]) -> Evidence | None:
    if not 0.0 <= item.value <= 1.0:  # perplexity and the like are not accuracies
        return None
    source = f"run {item.run_id}" if item.measured else f"{item.source_url} ({item.source_label})"
    return Evidence(
        # The engine knows a domain set by the name the use case gives it.
        benchmark=domain_tasks.get(item.task, item.task),
        value=item.value,
        stderr=item.stderr,
        kind=item.kind,
        source=source,
        shots=item.shots,
        is_domain_set=item.task in domain_tasks,
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
