"""Writes to the catalog. Views, the admin and commands call these; they never save models
themselves."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from config.errors import ApplicationError

from .models import (
    ADAPTER_METHODS,
    ApiDeployment,
    CatalogSettings,
    CheckpointLocation,
    CuratedRecord,
    Finetune,
    FinetuneMethod,
    HardwareProfile,
    LanguageModel,
    Licence,
    ReportedScore,
    SelfHostedDeployment,
    Source,
    Weights,
)


class CatalogDataError(ApplicationError):
    """The catalog data file is unreadable or inconsistent; nothing was written."""


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    kept_admin_edits: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self, *, detail: bool = True) -> str:
        lines = [
            f"created {len(self.created)}, updated {len(self.updated)}, "
            f"unchanged {self.unchanged}, kept admin edits {len(self.kept_admin_edits)}"
        ]
        if detail:
            lines += [f"  created {label}" for label in self.created]
            lines += [f"  updated {label}" for label in self.updated]
        lines += [
            f"  kept the admin's edit of {label}: the data file differs "
            "(load with --overwrite KEY to take the file's version)"
            for label in self.kept_admin_edits
        ]
        return "\n".join(lines)


def catalog_settings_update(
    *, small_max_parameters: int, medium_max_parameters: int
) -> CatalogSettings:
    settings_row = CatalogSettings.objects.order_by("pk").first() or CatalogSettings()
    settings_row.small_max_parameters = small_max_parameters
    settings_row.medium_max_parameters = medium_max_parameters
    settings_row.full_clean()
    settings_row.save()
    return settings_row


def catalog_record_mark_edited(*, record: CuratedRecord) -> None:
    """Note that a catalog admin changed `record`, so the loader will not overwrite it."""
    type(record).objects.filter(pk=record.pk).update(edited_in_admin_at=timezone.now())


def catalog_load_file(*, path: Path, overwrite: Collection[str] = ()) -> LoadReport:
    """Load the catalog data file at `path` (see catalog/data/SCHEMA.md)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogDataError(f"{path}: cannot read the file ({exc.strerror}).") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise CatalogDataError(f"{path}: not valid YAML{where}.") from exc
    if not isinstance(data, Mapping):
        raise CatalogDataError(f"{path}: expected a mapping with sources, licences, models.")
    return catalog_load(data=data, overwrite=overwrite)


@transaction.atomic
def catalog_load(*, data: Mapping[str, Any], overwrite: Collection[str] = ()) -> LoadReport:
    """Create or update catalog records from `data`, all or nothing.

    Loading the same data twice changes nothing. A record a catalog admin edited is kept as the
    admin left it unless its key is in `overwrite`; the report lists it."""
    _check_references(data)
    loader = _Loader(overwrite=frozenset(overwrite))
    sources = {
        key: loader.upsert(Source, key, entry, lambda e: {"title": e["title"], "url": e["url"]})
        for key, entry in data["sources"].items()
    }
    licences = {
        key: loader.upsert(
            Licence,
            key,
            entry,
            lambda e: {
                "name": e["name"],
                "url": e.get("url") or "",
                "commercial_use": e["commercial_use"],
                "conditions": e.get("conditions") or "",
            },
        )
        for key, entry in (data.get("licences") or {}).items()
    }
    hardware = {
        entry["key"]: loader.upsert(
            HardwareProfile,
            entry["key"],
            entry,
            lambda e: {
                **_plain(e, "name", "gpu", "gpu_memory_gb", "gpu_count", "usd_per_hour"),
                **_plain(e, "price_seen_on", "memory_bandwidth_gb_s", "bf16_tflops"),
                "price_source": sources[e["price_source"]],
                "spec_source": sources[e["spec_source"]],
            },
        )
        for entry in data.get("hardware_profiles") or []
    }
    models: dict[str, LanguageModel] = {}
    pending_children: list[tuple[LanguageModel, Mapping[str, Any]]] = []
    for entry in _bases_first(data["models"]):
        model = loader.upsert(
            LanguageModel,
            entry["key"],
            entry,
            lambda e: _language_model_fields(e, sources, licences, models),
            after_write=lambda m, e: pending_children.append((m, e)),
        )
        models[entry["key"]] = model
    for model, entry in pending_children:
        _replace_children(model, entry, sources, hardware)
    return loader.report


def _bases_first(entries: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Order model entries so that each comes after its base model."""
    ordered: list[Mapping[str, Any]] = []
    placed: set[str] = set()
    remaining = list(entries)
    while remaining:
        ready = [e for e in remaining if not e.get("base_model") or e["base_model"] in placed]
        if not ready:
            cycle = ", ".join(sorted(str(e.get("key")) for e in remaining))
            raise CatalogDataError(f"Catalog data: base models form a cycle among {cycle}.")
        ordered += ready
        placed |= {e["key"] for e in ready}
        remaining = [e for e in remaining if e not in ready]
    return ordered


def _digest(entry: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(entry, sort_keys=True, default=str).encode()).hexdigest()


def _plain(entry: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {name: _exact(entry.get(name)) for name in names}


def _exact(value: Any) -> Any:
    """YAML reads 0.8 as a float; the catalog keeps prices and scores as exact decimals."""
    return Decimal(str(value)) if isinstance(value, float) else value


class _Loader:
    def __init__(self, *, overwrite: frozenset[str]):
        self.overwrite = overwrite
        self.report = LoadReport()

    def upsert(
        self,
        model_class: type[CuratedRecord],
        key: str,
        entry: Mapping[str, Any],
        fields: Callable[[Mapping[str, Any]], dict[str, Any]],
        after_write: Callable[[Any, Mapping[str, Any]], None] | None = None,
    ) -> Any:
        label = f"{model_class._meta.verbose_name} {key}"
        digest = _digest(entry)
        record = model_class.objects.filter(key=key).first()
        if record is not None:
            if record.edited_in_admin_at is not None and key not in self.overwrite:
                if record.loaded_digest != digest:
                    self.report.kept_admin_edits.append(label)
                else:
                    self.report.unchanged += 1
                return record
            if record.loaded_digest == digest and key not in self.overwrite:
                self.report.unchanged += 1
                return record
        created = record is None
        record = record or model_class(key=key)
        for name, value in fields(entry).items():
            setattr(record, name, value)
        record.loaded_digest = digest
        record.edited_in_admin_at = None
        _validated_save(record, label)
        (self.report.created if created else self.report.updated).append(label)
        if after_write:
            after_write(record, entry)
        return record


def _validated_save(record: Any, label: str) -> None:
    try:
        record.full_clean()
    except ValidationError as exc:
        problems = "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items()
        )
        raise CatalogDataError(f"{label}: {problems}") from exc
    record.save()


def _language_model_fields(
    entry: Mapping[str, Any],
    sources: Mapping[str, Source],
    licences: Mapping[str, Licence],
    models: Mapping[str, LanguageModel],
) -> dict[str, Any]:
    def source(name: str) -> Source | None:
        return sources[entry[name]] if entry.get(name) else None

    fields = _plain(
        entry, "name", "family", "organisation", "parameters", "training_tokens",
        "release_date", "context_length", "weights",
    )  # fmt: skip
    fields.update(
        stated_size_class=entry.get("stated_size_class") or None,
        licence=licences[entry["licence"]] if entry.get("licence") else None,
        base_model=models[entry["base_model"]] if entry.get("base_model") else None,
        hf_repo=entry.get("hf_repo") or "",
        weights_source=source("weights_source"),
    )
    for fact in LanguageModel.CITED_FACTS:
        fields[f"{fact}_source"] = source(f"{fact}_source")
    return fields


def _replace_children(
    model: LanguageModel,
    entry: Mapping[str, Any],
    sources: Mapping[str, Source],
    hardware: Mapping[str, HardwareProfile],
) -> None:
    """The data file owns a loaded model's deployments and scores: replace them as a whole."""
    model.api_deployments.all().delete()
    model.self_hosted_deployments.all().delete()
    model.reported_scores.all().delete()
    for api in entry.get("api_deployments") or []:
        fields = _plain(
            api, "provider", "api_model", "usd_per_million_input", "usd_per_million_output",
            "price_seen_on", "provider_retains_data", "provider_trains_on_data",
        )  # fmt: skip
        _validated_save(
            ApiDeployment(
                model=model,
                region=api.get("region") or "",
                price_source=sources[api["price_source"]],
                data_policy_source=sources.get(api.get("data_policy_source") or ""),
                **fields,
            ),
            f"{model.key}: API deployment {api.get('api_model')}",
        )
    for option in entry.get("self_hosted") or []:
        _validated_save(
            SelfHostedDeployment(
                model=model, precision=option["precision"], hardware=hardware[option["hardware"]]
            ),
            f"{model.key}: self-hosted on {option['hardware']}",
        )
    for score in entry.get("scores") or []:
        _validated_save(
            ReportedScore(
                model=model,
                benchmark=score["benchmark"],
                shots=score.get("shots"),
                metric=score.get("metric") or "acc",
                value=_exact(score["value"]),
                source=sources[score["source"]],
                locator=score.get("locator") or "",
            ),
            f"{model.key}: {score['benchmark']} score",
        )


_SOURCE_FIELDS = ("_source", "source", "price_source", "spec_source", "data_policy_source")


def _check_references(data: Mapping[str, Any]) -> None:
    """Every key the file refers to exists in the file; list all that do not, at once."""
    problems: list[str] = []
    for section in ("sources", "models"):
        if not data.get(section):
            problems.append(f"the file has no `{section}`")
    if problems:
        raise CatalogDataError("Catalog data: " + "; ".join(problems) + ".")
    sources = set(data["sources"])
    licences = set(data.get("licences") or {})
    hardware = {h.get("key") for h in data.get("hardware_profiles") or []}
    model_keys = [m.get("key") for m in data["models"]]
    duplicates = {k for k in model_keys if model_keys.count(k) > 1}
    problems += [f"model key {k!r} is used twice" for k in sorted(duplicates, key=str)]

    def check_sources(where: str, entry: Mapping[str, Any]) -> None:
        for name, value in entry.items():
            if name.endswith(_SOURCE_FIELDS) and value and value not in sources:
                problems.append(f"{where}: {name} names unknown source {value!r}")

    for profile in data.get("hardware_profiles") or []:
        check_sources(f"hardware {profile.get('key')}", profile)
    for entry in data["models"]:
        where = f"model {entry.get('key')}"
        check_sources(where, entry)
        if entry.get("licence") and entry["licence"] not in licences:
            problems.append(f"{where}: unknown licence {entry['licence']!r}")
        if entry.get("base_model") and entry["base_model"] not in model_keys:
            problems.append(f"{where}: unknown base model {entry['base_model']!r}")
        for child in ("api_deployments", "self_hosted", "scores"):
            for item in entry.get(child) or []:
                check_sources(f"{where} {child}", item)
                if child == "self_hosted" and item.get("hardware") not in hardware:
                    problems.append(f"{where}: unknown hardware {item.get('hardware')!r}")
                if child == "scores" and not item.get("source"):
                    problems.append(f"{where}: score {item.get('benchmark')!r} cites no source")
    if problems:
        raise CatalogDataError("Catalog data: " + "; ".join(problems) + ".")


INTERNAL_LICENCE_KEY = "internal"


@transaction.atomic
def local_model_register(
    *,
    key: str,
    name: str,
    family: str,
    organisation: str,
    parameters: int,
    path: str,
    provenance: str,
    base_model: LanguageModel | None = None,
) -> LanguageModel:
    """Register a checkpoint the organisation holds itself (built or finetuned in-house).

    Its facts cite `provenance` (what made it, where), a source without a public URL. Registering
    the same key again updates it."""
    source, _ = Source.objects.update_or_create(
        key=f"local-{key}", defaults={"title": provenance, "url": ""}
    )
    licence, _ = Licence.objects.get_or_create(
        key=INTERNAL_LICENCE_KEY,
        defaults={
            "name": "Internal checkpoint (the organisation's own)",
            "commercial_use": "allowed",
        },
    )
    model = LanguageModel.objects.filter(key=key).first() or LanguageModel(key=key)
    for field_name, value in {
        "name": name,
        "family": family,
        "organisation": organisation,
        "parameters": parameters,
        "parameters_source": source,
        "licence": licence,
        "licence_source": source,
        "weights": Weights.OPEN,
        "weights_source": source,
        "hf_repo": path,
        "base_model": base_model,
    }.items():
        setattr(model, field_name, value)
    _validated_save(model, f"model {key}")
    return model


class CheckpointError(ApplicationError):
    """A checkpoint that cannot be registered; `errors` maps each field to what is wrong."""

    def __init__(self, message: str, errors: dict[str, list[str]]):
        super().__init__(message, extra={"errors": errors})
        self.errors = errors


CHECKPOINT_ORGANISATION = "In-house"


@transaction.atomic
def checkpoint_register(
    *,
    base_model: LanguageModel | str,
    name: str,
    key: str,
    method: str,
    data_description: str,
    gpu_hours: Decimal | int | float,
    hardware: HardwareProfile | None = None,
    hardware_description: str = "",
    trained_on: datetime.date,
    location: str,
    location_kind: str,
    registered_by: AbstractBaseUser | None,
) -> LanguageModel:
    """Register the organisation's own finetuned checkpoint of a catalog model (or its key).

    The new catalog model inherits its base's family, licence, parameter count and context
    length; an adapter (LoRA and the like) adds a few parameters on top that are not counted.
    Its facts cite one source, "Registered by <user>: <what was registered>", with no URL.
    Local folders must lie under a model root (settings.EVAL_MODEL_ROOTS), where evaluation jobs
    load weights from. Raises CheckpointError naming each field that is wrong."""
    base = _checkpoint_base(base_model)
    name, key, location = name.strip(), key.strip(), location.strip()
    who = registered_by.get_username() if registered_by is not None else "a command"
    method_label = dict(FinetuneMethod.choices).get(method, method)
    adapter_note = (
        " Parameters are the base model's; the adapter adds a few, not counted."
        if method in ADAPTER_METHODS
        else ""
    )
    what = (
        f"{method_label} of {base.name}, trained on {trained_on}, at {location}. "
        f"Data: {data_description.strip().rstrip('.')}.{adapter_note}"
    )
    source, _ = Source.objects.update_or_create(
        key=f"checkpoint-{key}"[:100],
        defaults={"title": _clip(f"Registered by {who}: {what}", 300), "url": ""},
    )
    model = LanguageModel(
        key=key,
        name=name,
        family=base.family,
        organisation=CHECKPOINT_ORGANISATION,
        base_model=base,
        parameters=base.parameters,
        parameters_source=source if base.parameters is not None else None,
        stated_size_class=base.stated_size_class if base.parameters is None else None,
        stated_size_class_source=source if base.stated_size_class else None,
        context_length=base.context_length,
        context_length_source=source if base.context_length is not None else None,
        licence=base.licence,
        licence_source=source if base.licence_id else None,
        weights=Weights.OPEN,
        weights_source=source,
        # An adapter has no weights of its own to load: jobs load the base with `peft=`.
        hf_repo="" if location_kind == CheckpointLocation.ADAPTER else location,
    )
    finetune = Finetune(
        model=model,
        method=method,
        data_description=data_description.strip(),
        gpu_hours=gpu_hours,
        hardware=hardware,
        hardware_description=hardware_description.strip(),
        trained_on=trained_on,
        location=location,
        location_kind=location_kind,
        registered_by=registered_by,
    )
    errors = _validation_errors(model, exclude=())
    errors.update(_validation_errors(finetune, exclude=("model",)))
    if errors:
        raise CheckpointError("The checkpoint was not registered: " + _describe(errors), errors)
    model.save()
    finetune.model = model
    finetune.save()
    return model


def _checkpoint_base(base_model: LanguageModel | str) -> LanguageModel:
    key = base_model if isinstance(base_model, str) else base_model.key
    base = LanguageModel.objects.select_related("licence").filter(key=key).first()
    if base is None:
        raise CheckpointError(
            f"No catalog model {key!r} to derive from.", {"base_model": ["No such model."]}
        )
    if base.weights != Weights.OPEN:
        message = (
            f"{base.name} has no open weights ({base.get_weights_display().lower()}): only a "
            "model with open weights can be finetuned in-house."
        )
        raise CheckpointError(message, {"base_model": [message]})
    return base


def _validation_errors(record: Any, *, exclude: tuple[str, ...]) -> dict[str, list[str]]:
    try:
        record.full_clean(exclude=exclude)
    except ValidationError as exc:
        return dict(exc.message_dict)
    return {}


def _describe(errors: dict[str, list[str]]) -> str:
    return "; ".join(f"{name.replace('_', ' ')}: {' '.join(msgs)}" for name, msgs in errors.items())


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
