import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import CatalogSettings, CommercialUse, Weights

from ..factories import (
    ApiDeploymentFactory,
    LanguageModelFactory,
    LicenceFactory,
    ReportedScoreFactory,
    SelfHostedDeploymentFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db
LIST = reverse("catalog:model-list")


@pytest.fixture
def pm_client(client, project_manager):
    client.force_login(project_manager)
    return client


@pytest.fixture
def catalog():
    source = SourceFactory()
    apache = LicenceFactory(key="apache-2.0", name="Apache 2.0")
    llama = LicenceFactory(
        key="llama-2", name="Llama 2 Community", commercial_use=CommercialUse.RESTRICTED,
        conditions="700M monthly users",
    )  # fmt: skip
    phi = LanguageModelFactory(
        key="phi-2", name="Phi-2", family="Phi", parameters=2_700_000_000,
        training_tokens=1_400_000_000_000, licence=apache,
    )  # fmt: skip
    big = LanguageModelFactory(
        key="llama-2-70b", name="Llama 2 70B", family="Llama 2", parameters=70_000_000_000,
        licence=llama,
    )  # fmt: skip
    gpt4 = LanguageModelFactory(
        key="gpt-4", name="GPT-4", family="GPT", parameters=None, parameters_source=None,
        stated_size_class="large", stated_size_class_source=source, weights=Weights.API_ONLY,
        weights_source=source,
        training_tokens=None, licence=None, licence_source=None,
    )  # fmt: skip
    ReportedScoreFactory(model=phi, value=Decimal("0.567"))
    ReportedScoreFactory(model=big, value=Decimal("0.689"))
    ReportedScoreFactory(model=gpt4, value=Decimal("0.864"))
    ApiDeploymentFactory(model=gpt4, usd_per_million_input=30, usd_per_million_output=60)
    ApiDeploymentFactory(model=big, usd_per_million_input=Decimal("0.9"),
                         usd_per_million_output=Decimal("0.9"))  # fmt: skip
    SelfHostedDeploymentFactory(model=phi)
    return {"phi": phi, "big": big, "gpt4": gpt4}


def _names(response) -> list[str]:
    return [m.name for m in response.context["models"]]


def test_the_catalog_lists_every_model_largest_first(pm_client, catalog):
    response = pm_client.get(LIST)
    assert _names(response) == ["Llama 2 70B", "Phi-2", "GPT-4"]  # undisclosed size last
    assert "undisclosed" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"size_class": "small"}, ["Phi-2"]),
        ({"size_class": "large"}, ["GPT-4"]),  # stated, parameters undisclosed
        ({"size_class": "medium"}, ["Llama 2 70B"]),
        ({"weights": "open"}, ["Llama 2 70B", "Phi-2"]),
        ({"weights": "api_only"}, ["GPT-4"]),
        ({"licence": "apache-2.0"}, ["Phi-2"]),
        ({"commercial_use": "restricted"}, ["Llama 2 70B"]),
        ({"family": "Phi"}, ["Phi-2"]),
        ({"search": "llama"}, ["Llama 2 70B"]),
    ],
)
def test_filters(pm_client, catalog, query, expected):
    assert _names(pm_client.get(LIST, query)) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("parameters", ["Phi-2", "Llama 2 70B", "GPT-4"]),
        ("-mmlu", ["GPT-4", "Llama 2 70B", "Phi-2"]),
        ("price", ["Llama 2 70B", "GPT-4", "Phi-2"]),  # no API price last
        ("name", ["GPT-4", "Llama 2 70B", "Phi-2"]),
        ("nonsense", ["Llama 2 70B", "Phi-2", "GPT-4"]),  # falls back to the default
    ],
)
def test_sorting(pm_client, catalog, sort, expected):
    assert _names(pm_client.get(LIST, {"sort": sort})) == expected


def test_size_classes_follow_the_admins_thresholds(pm_client, catalog):
    CatalogSettings.objects.create(
        small_max_parameters=2_000_000_000, medium_max_parameters=80_000_000_000
    )
    assert _names(pm_client.get(LIST, {"size_class": "small"})) == []
    assert _names(pm_client.get(LIST, {"size_class": "medium"})) == ["Llama 2 70B", "Phi-2"]


def test_htmx_gets_only_the_table(pm_client, catalog):
    response = pm_client.get(
        LIST, {"size_class": "small"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="catalog-table"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="catalog-table">')
    assert "<form" not in html
    assert "Phi-2" in html and "Llama 2 70B" not in html


def test_the_filter_form_works_without_javascript(pm_client, catalog):
    html = pm_client.get(LIST, {"weights": "api_only"}).content.decode()
    assert '<form class="filters" method="get"' in html
    assert "<noscript><button" in html
    assert '<option value="api_only" selected>' in html


def test_the_model_page_shows_facts_sources_and_the_chinchilla_ratio(pm_client, catalog):
    phi = catalog["phi"]
    phi.release_date = datetime.date(2023, 12, 12)
    phi.release_date_source = phi.parameters_source
    phi.save()
    html = pm_client.get(reverse("catalog:model-detail", args=[phi.key])).content.decode()
    assert "2.7B" in html
    assert "518.5" in html  # 1.4T tokens / 2.7B parameters
    assert "compute-optimal ~20" in html
    assert phi.parameters_source.url in html
    assert "reported" in html.lower()
    assert "56.7%" in html
    assert "Table 1" in html  # where in the source the score is


def test_the_model_page_says_undisclosed(pm_client, catalog):
    html = pm_client.get(reverse("catalog:model-detail", args=["gpt-4"])).content.decode()
    assert "undisclosed; stated as a large model" in html


def test_a_model_page_runs_a_fixed_number_of_queries(
    pm_client, catalog, django_assert_max_num_queries
):
    for _ in range(5):
        ReportedScoreFactory(model=catalog["phi"], benchmark="hellaswag", shots=None)
    with django_assert_max_num_queries(14):
        pm_client.get(reverse("catalog:model-detail", args=["phi-2"]))


def test_the_list_runs_a_fixed_number_of_queries(pm_client, catalog, django_assert_max_num_queries):
    for n in range(20):
        LanguageModelFactory(name=f"Extra {n}")
    with django_assert_max_num_queries(10):
        pm_client.get(LIST)


def test_an_unknown_model_is_a_404(pm_client):
    assert pm_client.get(reverse("catalog:model-detail", args=["nope"])).status_code == 404
