"""Engineers register their own finetuned checkpoints; they join the catalog like any model."""

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from catalog.models import Finetune, LanguageModel, Weights
from catalog.services import CheckpointError, checkpoint_register
from evaluations.specs import JobSpec, job_spec_validate

from ..factories import HardwareProfileFactory, LanguageModelFactory, SourceFactory

pytestmark = pytest.mark.django_db

REGISTER = reverse("catalog:checkpoint-create")


@pytest.fixture
def base():
    return LanguageModelFactory(
        key="mistral-7b", name="Mistral 7B", family="Mistral", hf_repo="mistralai/Mistral-7B-v0.1",
        parameters=7_240_000_000, context_length=8192,
        context_length_source=SourceFactory(),
    )  # fmt: skip


def _register(base_model, **overrides) -> LanguageModel:
    fields = {
        "base_model": base_model,
        "name": "Mistral 7B claims",
        "key": "mistral-7b-claims",
        "method": "lora",
        "data_description": "40,000 insurance claims, 2021-2023",
        "gpu_hours": Decimal("12.5"),
        "hardware": None,
        "hardware_description": "1 x A100 80GB, on-prem",
        "trained_on": datetime.date(2024, 3, 1),
        "location": "acme/mistral-7b-claims-lora",
        "location_kind": "adapter",
        "registered_by": None,
        **overrides,
    }
    return checkpoint_register(**fields)


def test_a_checkpoint_inherits_its_bases_facts_and_cites_who_registered_it(base, engineer):
    model = _register(base, registered_by=engineer)

    assert model.base_model == base
    assert (model.family, model.licence, model.parameters, model.context_length) == (
        "Mistral", base.licence, 7_240_000_000, 8192,
    )  # fmt: skip
    assert model.weights == Weights.OPEN
    source = model.parameters_source
    assert source.url == ""
    assert source.title.startswith("Registered by engineer: LoRA of Mistral 7B")
    assert "the adapter adds a few, not counted" in source.title
    assert model.licence_source == model.weights_source == model.context_length_source == source
    finetune = model.finetune
    assert (finetune.method, finetune.gpu_hours, finetune.registered_by) == (
        "lora", Decimal("12.5"), engineer,
    )  # fmt: skip


def test_the_base_model_must_exist(db):
    with pytest.raises(CheckpointError) as error:
        _register("no-such-model")
    assert "base_model" in error.value.errors
    assert not LanguageModel.objects.exists()


def test_the_base_model_must_have_open_weights(db):
    source = SourceFactory()
    gpt4 = LanguageModelFactory(
        key="gpt-4", name="GPT-4", weights=Weights.API_ONLY, weights_source=source, licence=None,
        licence_source=None,
    )  # fmt: skip
    with pytest.raises(CheckpointError, match="no open weights"):
        _register(gpt4)
    assert not Finetune.objects.exists()


def test_a_local_folder_must_be_under_a_model_root(base):
    with pytest.raises(CheckpointError) as error:
        _register(base, location="/etc/checkpoints/claims", location_kind="local", method="full")
    assert "not under a model root" in " ".join(error.value.errors["location"])
    assert not LanguageModel.objects.filter(key="mistral-7b-claims").exists()


def test_a_local_folder_under_a_model_root_is_what_jobs_load(base):
    folder = str(settings.EVAL_MODEL_ROOTS[0] / "mistral-7b-claims")
    model = _register(base, location=folder, location_kind="local", method="full")
    assert model.hf_repo == folder


def test_an_adapter_outside_the_model_roots_is_refused(base):
    with pytest.raises(CheckpointError) as error:
        _register(base, location="/tmp/adapters/claims", location_kind="adapter")
    assert "location" in error.value.errors


def test_names_and_keys_are_unique(base):
    _register(base)
    with pytest.raises(CheckpointError) as error:
        _register(base, key="another-key")
    assert "name" in error.value.errors
    with pytest.raises(CheckpointError) as error:
        _register(base, name="Another name")
    assert "key" in error.value.errors
    assert LanguageModel.objects.filter(base_model=base).count() == 1


def test_a_full_finetune_is_not_an_adapter(base):
    with pytest.raises(CheckpointError) as error:
        _register(base, method="full", location_kind="adapter")
    assert "location_kind" in error.value.errors


def test_it_says_what_it_trained_on(base):
    with pytest.raises(CheckpointError) as error:
        _register(base, hardware=None, hardware_description="")
    assert "hardware_description" in error.value.errors


def test_training_cost_is_gpu_hours_at_the_price_of_one_gpu_of_the_profile(base):
    eight_gpus = HardwareProfileFactory(gpu_count=8, usd_per_hour=Decimal("16.00"))
    model = _register(base, hardware=eight_gpus, hardware_description="", gpu_hours=Decimal(10))
    assert model.finetune.training_cost_usd == Decimal(20)  # 10 GPU-hours x $2 per GPU-hour


def test_an_adapter_job_loads_the_base_with_peft(base):
    model = _register(base)
    spec, _ = job_spec_validate(JobSpec(model_key=model.key, backend="hf", tasks=("mmlu",)))
    assert spec.model_args == {
        "pretrained": "mistralai/Mistral-7B-v0.1",
        "peft": "acme/mistral-7b-claims-lora",
    }


def test_a_full_finetune_job_loads_the_checkpoint_itself(base):
    model = _register(base, method="full", location="acme/mistral-7b-claims", location_kind="hub")
    spec, _ = job_spec_validate(JobSpec(model_key=model.key, backend="hf", tasks=("mmlu",)))
    assert spec.model_args == {"pretrained": "acme/mistral-7b-claims"}


# ---------------------------------------------------------------- the page


def _form(base, **overrides) -> dict:
    return {
        "base_model": base.key,
        "name": "Mistral 7B claims",
        "key": "",
        "method": "lora",
        "data_description": "40,000 insurance claims",
        "gpu_hours": "12.5",
        "hardware": "",
        "hardware_description": "1 x A100 on-prem",
        "trained_on": "2024-03-01",
        "location_kind": "adapter",
        "location": "acme/mistral-7b-claims-lora",
        **overrides,
    }


def test_an_engineer_opens_the_register_page(client, engineer, base):
    client.force_login(engineer)
    response = client.get(REGISTER, {"base": base.key})
    assert response.status_code == 200
    assert response.context["form"]["base_model"].value() == base.key


def test_a_project_manager_may_not_register_a_checkpoint(client, project_manager, base):
    client.force_login(project_manager)
    assert client.get(REGISTER).status_code == 403
    assert client.post(REGISTER, _form(base)).status_code == 403
    assert not LanguageModel.objects.filter(base_model=base).exists()


def test_a_catalog_admin_may_register_one_too(client, catalog_admin, base):
    client.force_login(catalog_admin)
    assert client.get(REGISTER).status_code == 200


def test_registering_in_the_form_shows_the_finetune_on_the_model_page(client, engineer, base):
    client.force_login(engineer)
    response = client.post(REGISTER, _form(base), follow=True)

    model = LanguageModel.objects.get(base_model=base)
    assert model.key == "mistral-7b-claims"  # made from the name
    assert response.redirect_chain[-1][0] == reverse("catalog:model-detail", args=[model.key])
    page = response.content.decode()
    assert 'id="finetune-facts"' in page
    assert "40,000 insurance claims" in page
    assert "12.50 GPU-hours on 1 x A100 on-prem" in page
    assert "peft=" in page


def test_the_form_shows_the_services_errors_on_their_fields(client, engineer, base):
    client.force_login(engineer)
    response = client.post(
        REGISTER, _form(base, location="/srv/elsewhere/claims", location_kind="local")
    )
    assert response.status_code == 200
    assert "not under a model root" in " ".join(response.context["form"].errors["location"])
    assert not LanguageModel.objects.filter(base_model=base).exists()


def test_a_base_page_offers_registering_a_checkpoint_to_engineers_only(
    client, engineer, project_manager, base
):
    url = reverse("catalog:model-detail", args=[base.key])
    client.force_login(engineer)
    assert REGISTER in client.get(url).content.decode()
    client.force_login(project_manager)
    assert REGISTER not in client.get(url).content.decode()


def test_catalog_admins_curate_the_finetune_in_the_admin(client, catalog_admin, base):
    model = _register(base)
    client.force_login(catalog_admin)
    page = client.get(reverse("admin:catalog_languagemodel_change", args=[model.pk]))
    assert page.status_code == 200
    assert 'name="finetune-0-data_description"' in page.content.decode()
