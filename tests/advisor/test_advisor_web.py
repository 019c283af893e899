"""The advisor in Django: the shipped catalog in PostgreSQL, the form, the permalink snapshot,
the command line and the API answering the same JSON."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from advisor.models import Recommendation
from advisor.services import advice_compute, recommendation_create, recommendation_rerun
from catalog.models import ApiDeployment, LanguageModel
from evaluations.models import EvalJob

from ..evaluations.factories import EvalRunFactory, MetricResultFactory
from . import use_case_data

pytestmark = pytest.mark.django_db

HOSPITAL = use_case_data(
    name="Discharge letters",
    task_categories=["extraction", "summarisation"],
    data_sensitivity="regulated",
    data_location="on_premises",
    needs_ownership=True,
    labelled_examples=20_000,
    monthly_requests=200_000,
    input_tokens=1500,
    output_tokens=300,
    weights={"accuracy": 0.3, "cost": 0.2, "privacy": 0.4, "generality": 0.1},
)


@pytest.fixture(autouse=True)
def catalog():
    call_command("load_catalog", verbosity=0)


@pytest.fixture
def pm_client(client, project_manager):
    client.force_login(project_manager)
    return client


def _form(data: dict) -> dict:
    form = {
        key: value
        for key, value in data.items()
        if key not in ("weights", "languages", "task_categories") and value is not None
    }
    form["task_categories"] = data["task_categories"]
    form["languages"] = ", ".join(data["languages"])
    form.update({f"weight_{k}": v for k, v in data["weights"].items()})
    form["needs_ownership"] = "on" if data["needs_ownership"] else ""
    return form


def test_the_hospital_gets_a_small_self_hosted_model_and_no_api(project_manager):
    advice = advice_compute(data=HOSPITAL)
    result = advice.result
    assert result["verdict"] == "small"
    assert result["ranking"][0]["deployment"].startswith("self_hosted")
    assert all(c["deployment"] != "api" for c in result["ranking"])
    reasons = [e["reason"] for e in result["excluded"] if e["deployment"] == "api"]
    assert reasons and all("premises" in r or "leave" in r or "third" in r for r in reasons)
    assert any(e["reason"].startswith("never released") for e in result["excluded"])


def test_measured_results_are_used_and_cited(project_manager):
    phi2 = LanguageModel.objects.get(key="phi-2")
    run = EvalRunFactory(job__model=phi2, model=phi2)
    MetricResultFactory(run=run, task="mmlu", value=0.512, stderr=0.004)
    advice = advice_compute(data=HOSPITAL)
    measured = [e for e in advice.evidence if e["kind"] == "measured"]
    ranked = {c["model"]: c for c in advice.result["ranking"]}
    if "phi-2" in ranked:
        figures = [f for f in ranked["phi-2"]["evidence"] if f["benchmark"] == "mmlu"]
        assert figures and figures[0]["kind"] == "measured" and figures[0]["value"] == 0.512
        assert measured and measured[0]["run_id"] == run.pk


def test_a_saved_recommendation_keeps_its_snapshot_after_the_catalog_changes(project_manager):
    data = use_case_data(name="Company assistant", monthly_requests=5_000)
    saved = recommendation_create(owner=project_manager, data=data)
    before = json.dumps(saved.result, sort_keys=True)
    top = saved.result["ranking"][0]

    for api in ApiDeployment.objects.filter(model__key=top["model"]):
        api.usd_per_million_input = 500  # as a catalog admin would, through save()
        api.save()

    saved.refresh_from_db()
    assert json.dumps(saved.result, sort_keys=True) == before
    rerun = recommendation_rerun(recommendation=saved, owner=project_manager)
    assert rerun.rerun_of == saved
    assert rerun.result != saved.result


def test_the_form_previews_with_htmx_and_saves_a_permalink(pm_client):
    url = reverse("advisor:advise")
    preview = pm_client.post(url, _form(HOSPITAL), HTTP_HX_REQUEST="true")
    html = preview.content.decode()
    assert html.lstrip().startswith('<div id="preview"')
    assert "Verdict: a <strong>small</strong> model" in html
    assert 'id="chart-data"' in html
    assert not Recommendation.objects.exists()

    saved = pm_client.post(url, {**_form(HOSPITAL), "action": "save"})
    recommendation = Recommendation.objects.get()
    assert saved["Location"] == reverse("advisor:recommendation", args=[recommendation.slug])
    page = pm_client.get(saved["Location"]).content.decode()
    assert "Discharge letters" in page and "Evidence used" in page
    assert 'data-decision-chart="chart-data"' in page


def test_the_form_works_without_javascript_and_explains_bad_input(pm_client):
    bad = {**_form(HOSPITAL), "monthly_requests": "lots", "weight_cost": "-1"}
    page = pm_client.post(reverse("advisor:advise"), bad)
    html = page.content.decode()
    assert page.status_code == 200
    assert "<form" in html  # the whole page, for a browser without JavaScript
    errors = page.context["form"].errors
    assert "monthly_requests" in errors and "weight_cost" in errors
    assert not Recommendation.objects.exists()


def test_a_preset_fills_the_weights(pm_client):
    data = {**_form(HOSPITAL), "preset": "startup", "last_preset": ""}
    page = pm_client.post(reverse("advisor:advise"), data, HTTP_HX_REQUEST="true")
    html = page.content.decode()
    assert 'hx-swap-oob="true"' in html
    assert 'name="weight_cost" value="0.45"' in html


def test_markdown_export_and_the_list(pm_client, project_manager):
    saved = recommendation_create(owner=project_manager, data=HOSPITAL)
    export = pm_client.get(reverse("advisor:recommendation-export", args=[saved.slug]))
    text = export.content.decode()
    assert export["Content-Type"].startswith("text/markdown")
    assert text.startswith("# Discharge letters")
    assert "**Verdict: small model**" in text and "| 1 |" in text
    listing = pm_client.get(reverse("advisor:recommendation-list")).content.decode()
    assert "Discharge letters" in listing


def test_a_rerun_page_says_what_changed(pm_client, project_manager):
    saved = recommendation_create(owner=project_manager, data=HOSPITAL)
    response = pm_client.post(reverse("advisor:recommendation-rerun", args=[saved.slug]))
    rerun = Recommendation.objects.exclude(pk=saved.pk).get()
    assert response["Location"] == reverse("advisor:recommendation", args=[rerun.slug])
    page = pm_client.get(response["Location"]).content.decode()
    assert "What changed" in page and "Nothing changed" in page


def test_an_engineer_queues_the_proposed_evaluations_with_one_click(client, engineer):
    saved = recommendation_create(owner=engineer, data=HOSPITAL)
    assert saved.result["proposed_evaluations"]
    client.force_login(engineer)
    client.post(reverse("advisor:queue-evaluations", args=[saved.slug]))
    proposed = {p["model"] for p in saved.result["proposed_evaluations"]}
    assert set(EvalJob.objects.values_list("model__key", flat=True)) <= proposed
    assert EvalJob.objects.count() >= 1


def test_a_project_manager_cannot_queue_evaluations(pm_client, project_manager):
    saved = recommendation_create(owner=project_manager, data=HOSPITAL)
    response = pm_client.post(reverse("advisor:queue-evaluations", args=[saved.slug]))
    assert response.status_code == 403


def test_the_command_and_the_api_answer_the_same_json(tmp_path, client, engineer):
    from accounts.services import api_token_create

    path = tmp_path / "use_case.json"
    path.write_text(json.dumps(HOSPITAL))
    out = io.StringIO()
    call_command("recommend", "--input", str(path), stdout=out)
    from_command = json.loads(out.getvalue())
    assert set(from_command) == {
        "verdict", "confidence", "ranking", "excluded", "sensitivity", "proposed_evaluations",
    }  # fmt: skip
    assert set(from_command["ranking"][0]) >= {
        "model", "parameters", "deployment", "monthly_cost_usd", "scores", "total", "evidence",
    }  # fmt: skip

    _, token = api_token_create(user=engineer, name="t")
    response = client.post(
        "/api/recommendations",
        HOSPITAL,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    assert response.json() == from_command


def test_bad_input_gets_the_same_messages_everywhere(tmp_path, client, engineer):
    from accounts.services import api_token_create

    bad = {**HOSPITAL, "data_location": "mars", "min_accuracy": 3}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(CommandError) as excinfo:
        call_command("recommend", "--input", str(path), "--format", "text")
    assert "data_location" in str(excinfo.value) and "min_accuracy" in str(excinfo.value)
    _, token = api_token_create(user=engineer, name="t")
    response = client.post(
        "/api/recommendations", bad, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"data_location", "min_accuracy"}


def test_the_text_format_reads_like_a_summary(tmp_path):
    path = tmp_path / "use_case.json"
    path.write_text(json.dumps(HOSPITAL))
    out = io.StringIO()
    call_command("recommend", "--input", str(path), "--format", "text", stdout=out)
    text = out.getvalue()
    assert text.startswith("Verdict: small model")
    assert "USD/month" in text
