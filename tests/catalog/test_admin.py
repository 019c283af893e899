"""Catalog admins curate in the Django admin: validation, history, and the loader's respect."""

import pytest
from django.urls import reverse

from catalog.models import ApiDeployment, LanguageModel, ReportedScore
from catalog.services import catalog_load

from ..factories import LanguageModelFactory, SourceFactory

pytestmark = pytest.mark.django_db

INLINES = ("api_deployments", "self_hosted_deployments", "reported_scores")


def _model_form(source, **overrides) -> dict:
    data = {
        "name": "Admin Model 3B",
        "key": "admin-model-3b",
        "family": "Admin",
        "organisation": "Admin Lab",
        "parameters": "3000000000",
        "parameters_source": source.pk,
        "weights": "api_only",
        "weights_source": source.pk,
    }
    for prefix in INLINES:
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    data.update(overrides)
    return data


def _with_inline(data: dict, prefix: str, **fields) -> dict:
    data[f"{prefix}-TOTAL_FORMS"] = "1"
    data.update({f"{prefix}-0-{name}": value for name, value in fields.items()})
    return data


@pytest.fixture
def admin_client(client, catalog_admin):
    client.force_login(catalog_admin)
    return client


ADD_URL = reverse("admin:catalog_languagemodel_add")


def test_a_catalog_admin_adds_a_model_with_a_cited_score(admin_client):
    source = SourceFactory()
    data = _with_inline(
        _model_form(source),
        "reported_scores",
        benchmark="mmlu",
        shots="5",
        metric="acc",
        value="0.5520",
        source=source.pk,
        locator="Table 3",
    )
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 302, response.context["errors"]
    model = LanguageModel.objects.get(key="admin-model-3b")
    assert model.reported_scores.get().locator == "Table 3"
    assert model.edited_in_admin_at is not None


def test_zero_parameters_are_refused(admin_client):
    response = admin_client.post(ADD_URL, _model_form(SourceFactory(), parameters="0"))
    assert response.status_code == 200
    assert "must be above zero" in response.content.decode()
    assert not LanguageModel.objects.exists()


def test_a_fact_without_its_source_is_refused(admin_client):
    response = admin_client.post(ADD_URL, _model_form(SourceFactory(), parameters_source=""))
    assert "Cite the source of this fact." in response.content.decode()
    assert not LanguageModel.objects.exists()


def test_a_negative_price_is_refused(admin_client):
    source = SourceFactory()
    data = _with_inline(
        _model_form(source),
        "api_deployments",
        provider="Corp",
        api_model="m-1",
        usd_per_million_input="-1",
        usd_per_million_output="2",
        price_seen_on="2024-06-01",
        price_source=source.pk,
        provider_retains_data="on",
    )
    response = admin_client.post(ADD_URL, data)
    assert "greater than or equal to 0" in response.content.decode()
    assert not LanguageModel.objects.exists()
    assert not ApiDeployment.objects.exists()


def test_a_score_without_a_source_is_refused(admin_client):
    data = _with_inline(
        _model_form(SourceFactory()),
        "reported_scores",
        benchmark="mmlu",
        shots="5",
        metric="acc",
        value="0.55",
        source="",
        locator="Table 3",
    )
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not ReportedScore.objects.exists()


def test_a_score_above_one_is_refused(admin_client):
    source = SourceFactory()
    data = _with_inline(
        _model_form(source),
        "reported_scores",
        benchmark="mmlu",
        shots="5",
        metric="acc",
        value="67.5",
        source=source.pk,
        locator="Table 3",
    )
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 200
    assert not ReportedScore.objects.exists()


def test_an_admin_change_is_in_the_history_with_who_made_it(admin_client, catalog_admin):
    model = LanguageModelFactory(weights="api_only", licence=None, licence_source=None)
    url = reverse("admin:catalog_languagemodel_change", args=[model.pk])
    data = _model_form(
        model.parameters_source,
        name=model.name,
        key=model.key,
        organisation="Renamed Lab",
        training_tokens=model.training_tokens,
        training_tokens_source=model.training_tokens_source_id,
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302
    latest = model.history.latest()
    assert latest.organisation == "Renamed Lab"
    assert latest.history_user == catalog_admin
    history_page = admin_client.get(reverse("admin:catalog_languagemodel_history", args=[model.pk]))
    assert history_page.status_code == 200
    assert catalog_admin.username in history_page.content.decode()


def test_the_loader_keeps_what_an_admin_changed_in_the_admin(admin_client):
    from .test_loader import SMALL_DATA

    catalog_load(data=SMALL_DATA)
    model = LanguageModel.objects.get(key="closed")
    url = reverse("admin:catalog_languagemodel_change", args=[model.pk])
    data = _model_form(
        model.weights_source,
        name=model.name,
        key=model.key,
        family=model.family,
        organisation="Corp, as the admin spells it",
        parameters="",
        parameters_source="",
        stated_size_class="large",
        stated_size_class_source=model.stated_size_class_source_id,
    )
    assert admin_client.post(url, data).status_code == 302

    changed = {**SMALL_DATA, "models": [dict(m) for m in SMALL_DATA["models"]]}
    changed["models"][2]["organisation"] = "Corp Inc."
    report = catalog_load(data=changed)

    assert "language model closed" in report.kept_admin_edits
    assert LanguageModel.objects.get(key="closed").organisation == "Corp, as the admin spells it"


def test_size_thresholds_are_edited_in_the_admin(admin_client):
    url = reverse("admin:catalog_catalogsettings_add")
    response = admin_client.post(
        url, {"small_max_parameters": "20000000000", "medium_max_parameters": "10000000000"}
    )
    assert "must be above the small limit" in response.content.decode()
    response = admin_client.post(
        url, {"small_max_parameters": "20000000000", "medium_max_parameters": "150000000000"}
    )
    assert response.status_code == 302
