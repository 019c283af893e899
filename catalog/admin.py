"""The Django admin is the curation tool for catalog admins."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from . import selectors, services
from .models import (
    ApiDeployment,
    CatalogSettings,
    Finetune,
    HardwareProfile,
    LanguageModel,
    Licence,
    ReportedScore,
    SelfHostedDeployment,
    SizeClass,
    Source,
)


class CuratedAdmin(SimpleHistoryAdmin):
    """Marks a record as edited by an admin, so `load_catalog` keeps the admin's version."""

    readonly_fields = ("key_loaded_from_file", "edited_in_admin_at")

    @admin.display(description="Loaded from the data file")
    def key_loaded_from_file(self, obj) -> bool:
        return bool(obj.loaded_digest)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.catalog_record_mark_edited(record=obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if any(formset.has_changed() for formset in formsets):
            services.catalog_record_mark_edited(record=form.instance)


class SizeClassFilter(admin.SimpleListFilter):
    title = "size class"
    parameter_name = "size_class"

    def lookups(self, request, model_admin):
        return SizeClass.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() not in SizeClass.values:
            return queryset
        settings = selectors.catalog_settings_get()
        return selectors.with_size_class(queryset, settings).filter(size_class=self.value())


class ApiDeploymentInline(admin.TabularInline):
    model = ApiDeployment
    extra = 0
    autocomplete_fields = ("price_source", "data_policy_source")


class SelfHostedDeploymentInline(admin.TabularInline):
    model = SelfHostedDeployment
    extra = 0


class ReportedScoreInline(admin.TabularInline):
    model = ReportedScore
    extra = 0
    autocomplete_fields = ("source",)


class FinetuneInline(admin.StackedInline):
    """How an in-house checkpoint was derived from its base model (catalog.Finetune)."""

    model = Finetune
    fk_name = "model"
    extra = 0
    max_num = 1
    autocomplete_fields = ("hardware",)
    readonly_fields = ("registered_by", "registered_at")
    fields = (
        ("method", "trained_on"),
        "data_description",
        ("gpu_hours", "hardware", "hardware_description"),
        ("location_kind", "location"),
        ("registered_by", "registered_at"),
    )


@admin.register(LanguageModel)
class LanguageModelAdmin(CuratedAdmin):
    list_display = (
        "name",
        "family",
        "organisation",
        "parameters_display",
        "weights",
        "licence",
        "release_date",
    )
    list_filter = (
        "family",
        SizeClassFilter,
        "weights",
        "licence",
        "licence__commercial_use",
        "finetune__method",
    )
    search_fields = ("name", "family", "organisation", "key", "hf_repo")
    prepopulated_fields = {"key": ("name",)}
    autocomplete_fields = (
        "licence",
        "base_model",
        "weights_source",
        *(f"{fact}_source" for fact in LanguageModel.CITED_FACTS),
    )
    inlines = (ApiDeploymentInline, SelfHostedDeploymentInline, ReportedScoreInline)
    fieldsets = (
        (None, {"fields": ("name", "key", "family", "organisation", "base_model", "hf_repo")}),
        (
            "Facts, each with its source",
            {
                "fields": (
                    ("parameters", "parameters_source"),
                    ("stated_size_class", "stated_size_class_source"),
                    ("training_tokens", "training_tokens_source"),
                    ("release_date", "release_date_source"),
                    ("context_length", "context_length_source"),
                    ("licence", "licence_source"),
                    ("weights", "weights_source"),
                )
            },
        ),
        ("What may run", {"fields": ("trust_remote_code_approved",)}),
        ("Data file", {"fields": CuratedAdmin.readonly_fields}),
    )

    @admin.display(description="parameters", ordering="parameters")
    def parameters_display(self, obj: LanguageModel) -> str:
        return f"{obj.parameters:,}" if obj.parameters else "undisclosed"

    def get_inlines(self, request, obj):
        # How it was finetuned: only a model derived from a base has a finetune to show.
        if obj is not None and obj.base_model_id is not None:
            return (FinetuneInline, *self.inlines)
        return self.inlines

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.has_perm("catalog.approve_execution"):
            readonly.append("trust_remote_code_approved")
        return readonly


@admin.register(Source)
class SourceAdmin(CuratedAdmin):
    list_display = ("title", "url", "key")
    search_fields = ("title", "url", "key")


@admin.register(Licence)
class LicenceAdmin(CuratedAdmin):
    list_display = ("name", "commercial_use", "key")
    list_filter = ("commercial_use",)
    search_fields = ("name", "key")


@admin.register(HardwareProfile)
class HardwareProfileAdmin(CuratedAdmin):
    list_display = ("name", "gpu", "gpu_count", "gpu_memory_gb", "usd_per_hour", "price_seen_on")
    list_filter = ("gpu",)
    search_fields = ("name", "gpu", "key")
    autocomplete_fields = ("price_source", "spec_source")


@admin.register(ReportedScore)
class ReportedScoreAdmin(SimpleHistoryAdmin):
    list_display = ("model", "benchmark", "shots", "metric", "value", "source", "locator")
    list_filter = ("benchmark", "shots", "model__family")
    search_fields = ("model__name", "benchmark")
    autocomplete_fields = ("model", "source")


@admin.register(CatalogSettings)
class CatalogSettingsAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "small_max_parameters", "medium_max_parameters")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not CatalogSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
