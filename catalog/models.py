"""The curated catalog: language models, their deployments, hardware, and reported scores.

Every fact carries the source it comes from. A fact that nobody published stays empty (shown as
"undisclosed"), never estimated. Scores here are *reported* (papers, model cards); scores that
Rightsize measures itself live in evaluations/ and are always labelled apart from these."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

BILLION = 1_000_000_000


class CuratedRecord(models.Model):
    """A record that `load_catalog` may create and update from the shipped data file.

    `loaded_digest` is the digest of the data-file entry last written; `edited_in_admin_at` is set
    when a catalog admin changes the record, after which the loader keeps the admin's version."""

    key = models.CharField(
        max_length=100,
        unique=True,
        validators=[
            RegexValidator(
                r"^[a-z0-9][a-z0-9._-]*$",
                "Use lower-case letters, digits, dots, hyphens and underscores.",
            )
        ],
        help_text="Stable identifier, e.g. llama-2-7b. Never changes once loaded.",
    )
    loaded_digest = models.CharField(max_length=64, blank=True, editable=False)
    edited_in_admin_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True


class Source(CuratedRecord):
    """A citation: paper, model card, pricing page or datasheet."""

    title = models.CharField(max_length=300)
    url = models.URLField(
        max_length=500,
        blank=True,
        help_text="Empty only for an organisation's own records (a checkpoint it registered).",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class CommercialUse(models.TextChoices):
    ALLOWED = "allowed", "Commercial use allowed"
    RESTRICTED = "restricted", "Commercial use with conditions"
    NOT_ALLOWED = "not_allowed", "No commercial use"


class Licence(CuratedRecord):
    name = models.CharField(max_length=200)
    url = models.URLField(max_length=500, blank=True)
    commercial_use = models.CharField(max_length=20, choices=CommercialUse.choices)
    conditions = models.TextField(blank=True, help_text="The conditions, for restricted use.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.commercial_use == CommercialUse.RESTRICTED and not self.conditions.strip():
            raise ValidationError({"conditions": "Say what the conditions on commercial use are."})


class SizeClass(models.TextChoices):
    SMALL = "small", "Small"
    MEDIUM = "medium", "Medium"
    LARGE = "large", "Large"


class CatalogSettings(models.Model):
    """Catalog-wide settings that catalog admins change in the admin (one row)."""

    small_max_parameters = models.BigIntegerField(
        default=15 * BILLION,
        validators=[MinValueValidator(1)],
        help_text="Models with at most this many parameters are small.",
    )
    medium_max_parameters = models.BigIntegerField(
        default=100 * BILLION,
        validators=[MinValueValidator(1)],
        help_text="Models above the small limit and up to this many parameters are medium; "
        "above it, large.",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "catalog settings"
        verbose_name_plural = "catalog settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(small_max_parameters__gt=0)
                & Q(medium_max_parameters__gt=models.F("small_max_parameters")),
                name="size_thresholds_ascending",
            )
        ]

    def __str__(self) -> str:
        return "Catalog settings"

    def clean(self) -> None:
        if (
            self.small_max_parameters
            and self.medium_max_parameters
            and self.medium_max_parameters <= self.small_max_parameters
        ):
            raise ValidationError(
                {"medium_max_parameters": "The medium limit must be above the small limit."}
            )

    def size_class_for(self, parameters: int | None) -> str | None:
        if parameters is None:
            return None
        if parameters <= self.small_max_parameters:
            return SizeClass.SMALL
        if parameters <= self.medium_max_parameters:
            return SizeClass.MEDIUM
        return SizeClass.LARGE


class Weights(models.TextChoices):
    OPEN = "open", "Open weights"
    API_ONLY = "api_only", "API only"
    NEVER_RELEASED = "never_released", "Never released"


def _fact_cited(fact: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{fact}__isnull": True}) | Q(**{f"{fact}_source__isnull": False}),
        name=f"%(class)s_{fact}_cited",
    )


def _source_fk(fact: str) -> models.ForeignKey:
    return models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=f"Where the {fact.replace('_', ' ')} comes from.",
    )


# Facts of a language model that carry a `<fact>_source`; a fact with a value must cite one.
CITED_FACTS = (
    "parameters",
    "stated_size_class",
    "training_tokens",
    "release_date",
    "context_length",
    "licence",
)


class LanguageModel(CuratedRecord):
    CITED_FACTS = CITED_FACTS

    name = models.CharField(max_length=200, unique=True)
    family = models.CharField(max_length=100, db_index=True)
    organisation = models.CharField(max_length=200)
    parameters = models.BigIntegerField(
        null=True, blank=True, help_text="Empty when the maker has not disclosed it."
    )
    parameters_source = _source_fk("parameters")
    stated_size_class = models.CharField(  # noqa: DJ001 (NULL: no source states a class)
        max_length=10,
        choices=SizeClass.choices,
        blank=True,
        null=True,
        help_text="Only for undisclosed sizes: the class a source states (e.g. 'small model').",
    )
    stated_size_class_source = _source_fk("stated size class")
    training_tokens = models.BigIntegerField(null=True, blank=True)
    training_tokens_source = _source_fk("training tokens")
    release_date = models.DateField(null=True, blank=True)
    release_date_source = _source_fk("release date")
    context_length = models.PositiveIntegerField(null=True, blank=True)
    context_length_source = _source_fk("context length")
    licence = models.ForeignKey(
        Licence, on_delete=models.PROTECT, null=True, blank=True, related_name="models"
    )
    licence_source = _source_fk("licence")
    weights = models.CharField(max_length=20, choices=Weights.choices)
    weights_source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="+", help_text="Where the weights are."
    )
    base_model = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="derived_models",
        help_text="The model this one was finetuned or derived from.",
    )
    hf_repo = models.CharField("Hub repository", max_length=200, blank=True)
    trust_remote_code_approved = models.BooleanField(
        default=False,
        help_text="A catalog admin allowed evaluation jobs to run this model's own code.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["family", "parameters", "name"]
        permissions = [
            ("approve_execution", "Can approve what may run (e.g. trust_remote_code)"),
            ("register_checkpoint", "Can register a finetuned checkpoint of a catalog model"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(parameters__isnull=True) | Q(parameters__gt=0),
                name="languagemodel_parameters_positive",
            ),
            models.CheckConstraint(
                condition=Q(training_tokens__isnull=True) | Q(training_tokens__gt=0),
                name="languagemodel_training_tokens_positive",
            ),
            models.CheckConstraint(
                condition=Q(stated_size_class__isnull=True) | Q(parameters__isnull=True),
                name="languagemodel_stated_size_only_when_undisclosed",
            ),
            *(_fact_cited(fact) for fact in CITED_FACTS),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        for fact in self.CITED_FACTS:
            if getattr(self, f"{fact}_id" if fact == "licence" else fact) in (None, ""):
                continue
            if getattr(self, f"{fact}_source_id") is None:
                errors[f"{fact}_source"] = "Cite the source of this fact."
        if self.parameters is not None and self.parameters <= 0:
            errors["parameters"] = (
                "The parameter count must be above zero (leave it empty if undisclosed)."
            )
        if self.training_tokens is not None and self.training_tokens <= 0:
            errors["training_tokens"] = "Training tokens must be above zero (or empty)."
        if self.stated_size_class and self.parameters is not None:
            errors["stated_size_class"] = (
                "The size class follows from the parameter count; state it only when undisclosed."
            )
        if self.weights == Weights.OPEN and self.licence_id is None:
            errors["licence"] = "Open weights come under a licence: name it."
        if self.base_model_id is not None and self.base_model_id == self.pk:
            errors["base_model"] = "A model cannot be derived from itself."
        if errors:
            raise ValidationError(errors)

    @property
    def tokens_per_parameter(self) -> float | None:
        """Training tokens per parameter; Chinchilla's compute-optimal ratio is about 20."""
        if not self.parameters or not self.training_tokens:
            return None
        return self.training_tokens / self.parameters

    def size_class(self, settings: CatalogSettings) -> str | None:
        return settings.size_class_for(self.parameters) or self.stated_size_class or None


class HardwareProfile(CuratedRecord):
    name = models.CharField(max_length=200, unique=True)
    gpu = models.CharField("GPU", max_length=100)
    gpu_memory_gb = models.PositiveIntegerField(
        "GPU memory (GB, per GPU)", validators=[MinValueValidator(1)]
    )
    gpu_count = models.PositiveSmallIntegerField("GPUs", validators=[MinValueValidator(1)])
    usd_per_hour = models.DecimalField(
        "USD per hour", max_digits=10, decimal_places=4, validators=[MinValueValidator(Decimal(0))]
    )
    price_seen_on = models.DateField()
    price_source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="+")
    memory_bandwidth_gb_s = models.PositiveIntegerField(
        "Memory bandwidth (GB/s, per GPU)", null=True, blank=True
    )
    bf16_tflops = models.DecimalField(
        "bf16 TFLOP/s (dense, per GPU)", max_digits=8, decimal_places=1, null=True, blank=True
    )
    spec_source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["usd_per_hour"]
        constraints = [
            models.CheckConstraint(
                condition=Q(usd_per_hour__gte=0), name="hardware_price_not_negative"
            ),
            models.CheckConstraint(condition=Q(gpu_count__gte=1), name="hardware_has_a_gpu"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def total_memory_gb(self) -> int:
        return self.gpu_memory_gb * self.gpu_count


class FinetuneMethod(models.TextChoices):
    FULL = "full", "Full finetune"
    LORA = "lora", "LoRA"
    QLORA = "qlora", "QLoRA"
    OTHER_ADAPTER = "adapter", "Another adapter (PEFT)"


ADAPTER_METHODS = (FinetuneMethod.LORA, FinetuneMethod.QLORA, FinetuneMethod.OTHER_ADAPTER)


class CheckpointLocation(models.TextChoices):
    HUB = "hub", "Model hub repository"
    LOCAL = "local", "Folder under a model root"
    ADAPTER = "adapter", "Adapter (hub id or folder), loaded on the base model"


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def is_local_path(location: str) -> bool:
    return location.startswith(("/", ".", "~"))


def under_a_model_root(location: str) -> bool:
    """True when `location` is a folder under one of settings.EVAL_MODEL_ROOTS, the only places
    evaluation jobs load local weights from."""
    path = Path(location).expanduser().resolve()
    return any(
        path.is_relative_to(Path(root).resolve()) for root in django_settings.EVAL_MODEL_ROOTS
    )


class Finetune(models.Model):
    """How a catalog model was derived from its base: the organisation's own checkpoint.

    The model's `base_model` names the base. The data it was tuned on is described, never stored:
    it stays with the organisation."""

    model = models.OneToOneField(LanguageModel, on_delete=models.CASCADE, related_name="finetune")
    method = models.CharField(max_length=20, choices=FinetuneMethod.choices)
    data_description = models.TextField(
        "Training data",
        help_text="What it was tuned on (kind, size, period); the data itself stays private.",
    )
    gpu_hours = models.DecimalField(
        "GPU-hours",
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0))],
        help_text="Training compute; 0 for a run on a CPU.",
    )
    hardware = models.ForeignKey(
        HardwareProfile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The catalog's hardware profile it trained on, if there is one: it prices the "
        "GPU-hours.",
    )
    hardware_description = models.CharField(
        "Hardware (free text)",
        max_length=200,
        blank=True,
        help_text="Hardware not in the catalog, or details: e.g. 'CPU', '8 x H100 on-prem'.",
    )
    trained_on = models.DateField("Trained on")
    location = models.CharField(
        max_length=500,
        help_text="Hub id (org/name), or a folder under a model root.",
    )
    location_kind = models.CharField(max_length=20, choices=CheckpointLocation.choices)
    registered_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    registered_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "finetune"
        constraints = [
            models.CheckConstraint(
                condition=Q(gpu_hours__gte=0), name="finetune_gpu_hours_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(location_kind=CheckpointLocation.ADAPTER)
                | ~Q(method=FinetuneMethod.FULL),
                name="finetune_adapter_needs_adapter_method",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} of {self.model.base_model or 'its base'}"

    @property
    def is_adapter(self) -> bool:
        """Loaded as an adapter on top of the base model's weights (lm-eval's `peft=`)."""
        return self.location_kind == CheckpointLocation.ADAPTER

    @property
    def usd_per_gpu_hour(self) -> Decimal | None:
        if self.hardware is None:
            return None
        return self.hardware.usd_per_hour / self.hardware.gpu_count

    @property
    def training_cost_usd(self) -> Decimal | None:
        """GPU-hours at the hardware profile's price per GPU (its USD/hour over its GPUs)."""
        if self.gpu_hours == 0:
            return Decimal(0)
        rate = self.usd_per_gpu_hour
        return None if rate is None else self.gpu_hours * rate

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.model_id and self.model.base_model_id is None:
            errors["model"] = "A finetuned checkpoint names its base model."
        if self.method == FinetuneMethod.FULL and self.location_kind == CheckpointLocation.ADAPTER:
            errors["location_kind"] = (
                "A full finetune is a whole checkpoint, not an adapter: give its hub id or folder."
            )
        location = (self.location or "").strip()
        if location and self.location_kind:
            if is_local_path(location):
                if self.location_kind == CheckpointLocation.HUB:
                    errors["location"] = "A hub repository is org/name, not a path."
                elif not under_a_model_root(location):
                    roots = ", ".join(str(r) for r in django_settings.EVAL_MODEL_ROOTS)
                    errors["location"] = (
                        f"{location} is not under a model root ({roots}): evaluation jobs load "
                        "local weights only from there."
                    )
            elif self.location_kind == CheckpointLocation.LOCAL:
                errors["location"] = "A local folder is an absolute path under a model root."
            elif not _HUB_ID.match(location):
                errors["location"] = "A hub repository is org/name (letters, digits, . _ -)."
        if self.hardware_id is None and not self.hardware_description.strip():
            errors["hardware_description"] = (
                "Say what it trained on: a hardware profile, or a description such as 'CPU'."
            )
        if errors:
            raise ValidationError(errors)


class ApiDeployment(models.Model):
    """A hosted API serving the model at a per-token price."""

    model = models.ForeignKey(
        LanguageModel, on_delete=models.CASCADE, related_name="api_deployments"
    )
    provider = models.CharField(max_length=100)
    api_model = models.CharField("API model id", max_length=200)
    usd_per_million_input = models.DecimalField(
        "USD per million input tokens",
        max_digits=10,
        decimal_places=4,
        validators=[MinValueValidator(Decimal(0))],
    )
    usd_per_million_output = models.DecimalField(
        "USD per million output tokens",
        max_digits=10,
        decimal_places=4,
        validators=[MinValueValidator(Decimal(0))],
    )
    price_seen_on = models.DateField()
    price_source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="+")
    region = models.CharField(max_length=100, blank=True)
    provider_retains_data = models.BooleanField(
        help_text="The provider keeps prompts or outputs at all (e.g. for abuse monitoring)."
    )
    provider_trains_on_data = models.BooleanField(
        help_text="The provider trains on API traffic by default."
    )
    data_policy_source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["provider", "api_model"]
        verbose_name = "hosted API deployment"
        constraints = [
            models.UniqueConstraint(
                fields=["model", "provider", "api_model"], name="api_deployment_unique"
            ),
            models.CheckConstraint(
                condition=Q(usd_per_million_input__gte=0) & Q(usd_per_million_output__gte=0),
                name="api_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} via {self.provider} ({self.api_model})"

    @property
    def blended_usd_per_million(self) -> Decimal:
        """Price of a million tokens at three input tokens per output token."""
        return (3 * self.usd_per_million_input + self.usd_per_million_output) / 4


class Precision(models.TextChoices):
    FP32 = "fp32", "fp32"
    BF16 = "bf16", "bf16"
    FP16 = "fp16", "fp16"
    INT8 = "int8", "int8"
    INT4 = "int4", "int4"


BYTES_PER_PARAMETER = {
    Precision.FP32: Decimal(4),
    Precision.BF16: Decimal(2),
    Precision.FP16: Decimal(2),
    Precision.INT8: Decimal(1),
    Precision.INT4: Decimal("0.5"),
}


class SelfHostedDeployment(models.Model):
    """The model's weights served on the organisation's own (or rented) GPUs."""

    model = models.ForeignKey(
        LanguageModel, on_delete=models.CASCADE, related_name="self_hosted_deployments"
    )
    precision = models.CharField(max_length=10, choices=Precision.choices)
    hardware = models.ForeignKey(HardwareProfile, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["hardware__usd_per_hour"]
        verbose_name = "self-hosted deployment"
        constraints = [
            models.UniqueConstraint(
                fields=["model", "precision", "hardware"], name="self_hosted_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model} ({self.precision}) on {self.hardware}"

    @property
    def weights_gb(self) -> Decimal | None:
        if self.model.parameters is None:
            return None
        return self.model.parameters * BYTES_PER_PARAMETER[self.precision] / BILLION

    def clean(self) -> None:
        if not (self.model_id and self.hardware_id and self.precision):
            return
        if self.model.weights != Weights.OPEN:
            raise ValidationError("Only models with open weights can be self-hosted.")
        weights_gb = self.weights_gb
        if weights_gb is not None and weights_gb > self.hardware.total_memory_gb:
            raise ValidationError(
                {
                    "hardware": f"{self.model} in {self.precision} needs {weights_gb:.0f} GB for "
                    f"its weights alone; {self.hardware} has {self.hardware.total_memory_gb} GB."
                }
            )


class ReportedScore(models.Model):
    """A benchmark score as published by a paper or model card (never one we measured)."""

    model = models.ForeignKey(
        LanguageModel, on_delete=models.CASCADE, related_name="reported_scores"
    )
    benchmark = models.CharField(
        max_length=100, help_text="The lm-eval task name where one exists, e.g. mmlu."
    )
    shots = models.PositiveSmallIntegerField(null=True, blank=True)
    metric = models.CharField(max_length=50, default="acc")
    value = models.DecimalField(
        max_digits=6, decimal_places=4, help_text="A fraction from 0 to 1 (67.5% is 0.675)."
    )
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="reported_scores")
    locator = models.CharField(
        "Where in the source", max_length=200, help_text="Table, figure, page or section."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["benchmark", "shots"]
        constraints = [
            models.CheckConstraint(
                condition=Q(value__gte=0) & Q(value__lte=1), name="reported_score_is_fraction"
            ),
            models.UniqueConstraint(
                fields=["model", "benchmark", "shots", "metric", "source"],
                name="reported_score_unique",
            ),
        ]

    def __str__(self) -> str:
        shots = f", {self.shots}-shot" if self.shots is not None else ""
        return f"{self.model} {self.benchmark}{shots}: {self.value} (reported)"
