"""Reads from the catalog, in a bounded number of queries whatever its size."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import (
    Case,
    CharField,
    DecimalField,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
    When,
)

from .models import (
    ApiDeployment,
    CatalogSettings,
    CommercialUse,
    Finetune,
    LanguageModel,
    ReportedScore,
    SelfHostedDeployment,
)


def catalog_settings_get() -> CatalogSettings:
    """The catalog settings row, or the defaults when none was saved yet."""
    return CatalogSettings.objects.order_by("pk").first() or CatalogSettings()


def with_size_class(queryset: QuerySet, settings: CatalogSettings) -> QuerySet:
    """Annotate `size_class`: from the parameter count, or the class a source states."""
    return queryset.annotate(
        size_class=Case(
            When(parameters__isnull=True, then=F("stated_size_class")),
            When(parameters__lte=settings.small_max_parameters, then=Value("small")),
            When(parameters__lte=settings.medium_max_parameters, then=Value("medium")),
            default=Value("large"),
            output_field=CharField(),
        )
    )


def _reported_mmlu() -> Subquery:
    best = (
        ReportedScore.objects.filter(model=OuterRef("pk"), benchmark="mmlu")
        .order_by("-value")
        .values("value")[:1]
    )
    return Subquery(best, output_field=DecimalField(max_digits=6, decimal_places=4))


SORTS = {
    "name": ("name",),
    "parameters": (F("parameters").asc(nulls_last=True), "name"),
    "-parameters": (F("parameters").desc(nulls_last=True), "name"),
    "mmlu": (F("reported_mmlu").asc(nulls_last=True), "name"),
    "-mmlu": (F("reported_mmlu").desc(nulls_last=True), "name"),
    "price": (F("cheapest_api_usd_per_million").asc(nulls_last=True), "name"),
    "-price": (F("cheapest_api_usd_per_million").desc(nulls_last=True), "name"),
    "released": (F("release_date").asc(nulls_last=True), "name"),
    "-released": (F("release_date").desc(nulls_last=True), "name"),
}


@dataclass(frozen=True)
class CatalogFilters:
    size_class: str = ""
    weights: str = ""
    licence: str = ""  # a licence key
    commercial_use: str = ""  # a CommercialUse value
    family: str = ""
    search: str = ""
    sort: str = "-parameters"


def language_model_list(
    *, filters: CatalogFilters, settings: CatalogSettings | None = None
) -> QuerySet[LanguageModel]:
    """Catalog models with size class, best reported MMLU and cheapest API price annotated."""
    settings = settings or catalog_settings_get()
    blended = ExpressionWrapper(
        (
            3 * F("api_deployments__usd_per_million_input")
            + F("api_deployments__usd_per_million_output")
        )
        / 4,
        output_field=DecimalField(max_digits=12, decimal_places=4),
    )
    queryset = with_size_class(LanguageModel.objects.select_related("licence"), settings).annotate(
        reported_mmlu=_reported_mmlu(),
        cheapest_api_usd_per_million=Min(blended),
        cheapest_self_hosted_usd_per_hour=Min("self_hosted_deployments__hardware__usd_per_hour"),
    )
    if filters.size_class:
        queryset = queryset.filter(size_class=filters.size_class)
    if filters.weights:
        queryset = queryset.filter(weights=filters.weights)
    if filters.licence:
        queryset = queryset.filter(licence__key=filters.licence)
    if filters.commercial_use in CommercialUse.values:
        queryset = queryset.filter(licence__commercial_use=filters.commercial_use)
    if filters.family:
        queryset = queryset.filter(family=filters.family)
    if filters.search:
        queryset = queryset.filter(name__icontains=filters.search)
    return queryset.order_by(*SORTS.get(filters.sort, SORTS["-parameters"]))


def family_names() -> list[str]:
    return list(
        LanguageModel.objects.order_by("family").values_list("family", flat=True).distinct()
    )


def language_model_detail(*, key: str) -> LanguageModel:
    """One model with everything its page shows, in a fixed number of queries."""
    source_fields = [f"{fact}_source" for fact in LanguageModel.CITED_FACTS]
    return (
        LanguageModel.objects.select_related(
            "licence",
            "weights_source",
            "base_model",
            "finetune__hardware",
            "finetune__registered_by",
            *source_fields,
        )
        .prefetch_related(
            Prefetch(
                "api_deployments",
                queryset=ApiDeployment.objects.select_related("price_source", "data_policy_source"),
            ),
            Prefetch(
                "self_hosted_deployments",
                queryset=SelfHostedDeployment.objects.select_related(
                    "hardware", "hardware__price_source", "hardware__spec_source"
                ),
            ),
            Prefetch(
                "reported_scores",
                queryset=ReportedScore.objects.select_related("source"),
            ),
            "derived_models",
        )
        .get(key=key)
    )


def model_load_arguments(model: LanguageModel) -> dict[str, str]:
    """What lm-eval's `hf` backend loads for `model`: `pretrained` (its hub id or folder) and,
    for an adapter checkpoint, `peft` (the adapter) on its base model's weights."""
    finetune = Finetune.objects.filter(model=model).select_related("model__base_model").first()
    if finetune is None or not finetune.is_adapter:
        return {"pretrained": model.hf_repo} if model.hf_repo else {}
    base = finetune.model.base_model
    return {**({"pretrained": base.hf_repo} if base.hf_repo else {}), "peft": finetune.location}
