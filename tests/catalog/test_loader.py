import copy
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import (
    ApiDeployment,
    LanguageModel,
    ReportedScore,
    SelfHostedDeployment,
    Source,
    Weights,
)
from catalog.services import CatalogDataError, catalog_load, catalog_record_mark_edited

pytestmark = pytest.mark.django_db


ARTICLE_MODELS = [
    "gpt-3-175b", "gpt-3.5-turbo", "gpt-4", "luminous-base", "luminous-extended",
    "luminous-supreme", "chinchilla-70b", "gopher-280b", "llama-7b", "llama-13b", "llama-33b",
    "llama-65b", "llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-2-7b-chat",
    "llama-2-13b-chat", "llama-2-70b-chat", "code-llama-7b", "code-llama-13b", "code-llama-34b",
    "mistral-7b", "mistral-7b-instruct", "zephyr-7b-beta", "notus-7b-v1", "phi-1", "phi-1.5",
    "phi-2",
]  # fmt: skip

SMALL_DATA = {
    "sources": {
        "paper": {"title": "A paper", "url": "https://example.org/paper"},
        "card": {"title": "A model card", "url": "https://example.org/card"},
    },
    "licences": {
        "apache-2.0": {"name": "Apache 2.0", "commercial_use": "allowed"},
    },
    "hardware_profiles": [
        {
            "key": "gpu-24", "name": "1 x 24 GB", "gpu": "L4", "gpu_memory_gb": 24,
            "gpu_count": 1, "usd_per_hour": 0.8, "price_seen_on": "2024-06-01",
            "price_source": "card", "memory_bandwidth_gb_s": 300, "bf16_tflops": 121,
            "spec_source": "card",
        }
    ],
    "models": [
        {
            "key": "tiny-7b", "name": "Tiny 7B", "family": "Tiny", "organisation": "Lab",
            "parameters": 7_000_000_000, "parameters_source": "paper",
            "training_tokens": None, "release_date": "2023-09-27",
            "release_date_source": "paper", "licence": "apache-2.0",
            "licence_source": "card", "weights": "open", "weights_source": "card",
            "self_hosted": [{"precision": "bf16", "hardware": "gpu-24"}],
            "scores": [
                {"benchmark": "mmlu", "shots": 5, "value": 0.601, "source": "paper",
                 "locator": "Table 2"}
            ],
        },
        {
            "key": "tiny-7b-chat", "name": "Tiny 7B Chat", "family": "Tiny",
            "organisation": "Lab", "base_model": "tiny-7b", "parameters": 7_000_000_000,
            "parameters_source": "card", "weights": "open", "weights_source": "card",
            "licence": "apache-2.0", "licence_source": "card",
        },
        {
            "key": "closed", "name": "Closed", "family": "Closed", "organisation": "Corp",
            "parameters": None, "stated_size_class": "large",
            "stated_size_class_source": "paper", "weights": "api_only",
            "weights_source": "paper",
            "api_deployments": [
                {"provider": "Corp", "api_model": "closed-1", "usd_per_million_input": 10,
                 "usd_per_million_output": 30, "price_seen_on": "2024-05-13",
                 "price_source": "card", "region": "US", "provider_retains_data": True,
                 "provider_trains_on_data": False}
            ],
        },
    ],
}  # fmt: skip


def _counts() -> tuple[int, ...]:
    return (
        LanguageModel.objects.count(),
        ApiDeployment.objects.count(),
        SelfHostedDeployment.objects.count(),
        ReportedScore.objects.count(),
        LanguageModel.history.count(),
        ReportedScore.history.count(),
    )


def test_shipped_catalog_has_every_model_the_article_names():
    call_command("load_catalog", verbosity=0)
    keys = set(LanguageModel.objects.values_list("key", flat=True))
    assert [key for key in ARTICLE_MODELS if key not in keys] == []
    current = {"llama-3.1-8b", "llama-3.1-70b", "mixtral-8x7b", "qwen2.5-7b", "phi-4", "gpt-4o"}
    assert current <= keys
    assert LanguageModel.objects.count() >= len(ARTICLE_MODELS) + 10  # and current models


def test_loading_the_shipped_catalog_twice_changes_nothing():
    call_command("load_catalog", verbosity=0)
    before = _counts()
    pks = sorted(ReportedScore.objects.values_list("pk", flat=True))
    report = catalog_load(data=yaml.safe_load(Path(settings.CATALOG_DATA_FILE).read_text()))
    assert not report.changed
    assert _counts() == before
    assert sorted(ReportedScore.objects.values_list("pk", flat=True)) == pks


def test_every_loaded_fact_and_score_cites_a_source():
    call_command("load_catalog", verbosity=0)
    for model in LanguageModel.objects.all():
        for fact in LanguageModel.CITED_FACTS:
            value = getattr(model, f"{fact}_id" if fact == "licence" else fact)
            if value not in (None, ""):
                assert getattr(model, f"{fact}_source_id"), f"{model} {fact} has no source"
        assert model.weights_source_id
    assert not ReportedScore.objects.filter(source__isnull=True).exists()
    assert not ReportedScore.objects.filter(locator="").exists()
    assert not ApiDeployment.objects.filter(price_source__isnull=True).exists()
    assert Source.objects.exclude(url__startswith="https://").count() == 0


def test_undisclosed_parameters_stay_empty():
    call_command("load_catalog", verbosity=0)
    gpt4 = LanguageModel.objects.get(key="gpt-4")
    assert gpt4.parameters is None
    assert gpt4.parameters_source is None
    assert gpt4.stated_size_class == "large"


def test_published_figures_are_kept_as_published():
    call_command("load_catalog", verbosity=0)
    chinchilla = LanguageModel.objects.get(key="chinchilla-70b")
    # The paper's 1.4 trillion tokens (the article misprints it as 1.4 billion).
    assert chinchilla.training_tokens == 1_400_000_000_000
    assert chinchilla.weights == Weights.NEVER_RELEASED
    mmlu = chinchilla.reported_scores.get(benchmark="mmlu")
    assert float(mmlu.value) == pytest.approx(0.675)
    assert "2203.15556" in mmlu.source.url


def test_small_data_loads_and_links_base_models():
    report = catalog_load(data=SMALL_DATA)
    assert len(report.created) == 3 + 2 + 1 + 1  # models, sources, licence, hardware
    chat = LanguageModel.objects.get(key="tiny-7b-chat")
    assert chat.base_model.key == "tiny-7b"
    assert LanguageModel.objects.get(key="closed").api_deployments.get().region == "US"


def test_a_changed_entry_is_updated_in_place():
    catalog_load(data=SMALL_DATA)
    pk = LanguageModel.objects.get(key="tiny-7b").pk
    changed = copy.deepcopy(SMALL_DATA)
    changed["models"][0]["scores"][0]["value"] = 0.625
    report = catalog_load(data=changed)
    assert report.updated == ["language model tiny-7b"]
    model = LanguageModel.objects.get(key="tiny-7b")
    assert model.pk == pk
    assert float(model.reported_scores.get().value) == pytest.approx(0.625)


def test_an_admin_edit_is_not_overwritten_by_the_loader():
    catalog_load(data=SMALL_DATA)
    model = LanguageModel.objects.get(key="tiny-7b")
    model.organisation = "Lab (renamed by an admin)"
    model.save()
    catalog_record_mark_edited(record=model)
    changed = copy.deepcopy(SMALL_DATA)
    changed["models"][0]["organisation"] = "Lab, new name in the file"

    report = catalog_load(data=changed)

    assert report.kept_admin_edits == ["language model tiny-7b"]
    assert "--overwrite" in report.summary()
    assert LanguageModel.objects.get(key="tiny-7b").organisation == "Lab (renamed by an admin)"


def test_overwrite_takes_the_file_version_of_an_admin_edited_record():
    catalog_load(data=SMALL_DATA)
    model = LanguageModel.objects.get(key="tiny-7b")
    catalog_record_mark_edited(record=model)
    changed = copy.deepcopy(SMALL_DATA)
    changed["models"][0]["organisation"] = "From the file"

    catalog_load(data=changed, overwrite=["tiny-7b"])

    model.refresh_from_db()
    assert model.organisation == "From the file"
    assert model.edited_in_admin_at is None


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["models"][0].update(parameters_source="nowhere"), "unknown source 'nowhere'"),
        (lambda d: d["models"][0].update(licence="gpl-9"), "unknown licence 'gpl-9'"),
        (lambda d: d["models"][1].update(base_model="ghost"), "unknown base model 'ghost'"),
        (lambda d: d["models"][0]["scores"][0].pop("source"), "cites no source"),
        (lambda d: d["models"][0].update(parameters=-5), "above zero"),
        (lambda d: d["models"][0].update(parameters_source=None), "Cite the source"),
        (
            lambda d: d["models"][0]["self_hosted"].append(
                {"precision": "fp32", "hardware": "gpu-24"}
            ),
            "needs 28 GB",
        ),
        (lambda d: d["models"].append(dict(d["models"][0])), "used twice"),
    ],
)
def test_bad_data_is_refused_with_a_message_and_nothing_is_written(mutate, message):
    bad = copy.deepcopy(SMALL_DATA)
    mutate(bad)
    with pytest.raises(CatalogDataError) as excinfo:
        catalog_load(data=bad)
    assert message in excinfo.value.message
    assert _counts()[:4] == (0, 0, 0, 0)
    assert Source.objects.count() == 0


def test_the_command_reports_a_broken_file_and_writes_nothing(tmp_path):
    broken = tmp_path / "catalog.yaml"
    broken.write_text("sources:\n  a: [unclosed\n")
    with pytest.raises(CommandError, match="not valid YAML at line"):
        call_command("load_catalog", file=broken)
    assert LanguageModel.objects.count() == 0
