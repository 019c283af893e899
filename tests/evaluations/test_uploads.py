"""Importing lm-eval result files and uploading domain evaluation sets, against PostgreSQL."""

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from evaluations.models import DomainEvalSet, EvalRun, MetricResult, RunOrigin
from evaluations.uploads import DomainSetError, domain_set_upload, result_file_import

from ..factories import LanguageModelFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "lm_eval_results"
V04 = FIXTURES / "qwen2.5-1.5b_v0.4_results.json"
V03 = FIXTURES / "bloom-560m_xcopa_v0.3_results.json"


@pytest.fixture
def qwen():
    return LanguageModelFactory(
        key="qwen2.5-1.5b", name="Qwen2.5 1.5B", hf_repo="Qwen/Qwen2.5-1.5B"
    )


@pytest.fixture
def bloom():
    return LanguageModelFactory(key="bloom-small", name="BLOOM small")


def _stored(run: EvalRun) -> dict:
    return {
        (m.task, m.metric, m.filter): (m.value, m.stderr, m.is_group)
        for m in MetricResult.objects.filter(run=run)
    }


def test_a_04_file_is_matched_to_its_model_and_stored_as_in_the_file(qwen, engineer):
    outcome = result_file_import(file_name=V04.name, data=V04.read_bytes(), imported_by=engineer)

    assert outcome.status == "imported", outcome.message
    run = outcome.run
    assert (run.model, run.origin, run.imported_by, run.file_format) == (
        qwen,
        "import",
        engineer,
        "0.4",
    )
    assert run.model_args["pretrained"] == "Qwen/Qwen2.5-1.5B"
    assert run.num_fewshot == 0
    raw = json.loads(V04.read_text())
    stored = _stored(run)
    for task, values in raw["results"].items():
        for key, value in values.items():
            metric, _, filter_name = key.partition(",")
            if (
                metric.endswith("_stderr")
                or metric == "alias"
                or not isinstance(value, float | int)
            ):
                continue
            assert stored[(task, metric, filter_name)][0] == value
            stderr = values.get(f"{metric}_stderr,{filter_name}")
            if isinstance(stderr, float):
                assert stored[(task, metric, filter_name)][1] == stderr
    groups = {key[0] for key, value in stored.items() if value[2]}
    assert groups == {"mmlu", "mmlu_humanities", "mmlu_other", "mmlu_social_sciences", "mmlu_stem"}


def test_a_03_file_is_stored_with_the_model_the_engineer_chose(bloom):
    outcome = result_file_import(file_name=V03.name, data=V03.read_bytes(), imported_by=None)
    assert outcome.status == "error"
    assert "no catalog model matches bigscience/bloom-560m" in outcome.message

    outcome = result_file_import(
        file_name=V03.name, data=V03.read_bytes(), imported_by=None, model=bloom
    )
    assert outcome.status == "imported"
    raw = json.loads(V03.read_text())
    stored = _stored(outcome.run)
    assert len(stored) == len(raw["results"])
    for task, values in raw["results"].items():
        assert stored[(task, "acc", "none")][:2] == (values["acc"], values["acc_stderr"])
    assert outcome.run.file_format == "0.3"


def test_the_same_file_twice_creates_nothing_new(qwen):
    first = result_file_import(file_name="a.json", data=V04.read_bytes(), imported_by=None)
    runs, metrics = EvalRun.objects.count(), MetricResult.objects.count()
    again = result_file_import(file_name="b.json", data=V04.read_bytes(), imported_by=None)
    assert again.status == "duplicate"
    assert f"already imported as run {first.run.pk}" in again.message
    assert (EvalRun.objects.count(), MetricResult.objects.count()) == (runs, metrics)


def _v04_with(**changes) -> bytes:
    raw = json.loads(V04.read_text())
    for path, value in changes.items():
        target = raw
        *parents, leaf = path.split("/")
        for part in parents:
            target = target[part]
        if value is KeyError:
            del target[leaf]
        else:
            target[leaf] = value
    return json.dumps(raw, allow_nan=True).encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (V04.read_bytes()[:5000], "not valid JSON"),
        (_v04_with(results=KeyError), "results"),
        (_v04_with(**{"results/hellaswag/acc,none": "high"}), "results.hellaswag"),
        (_v04_with(**{"results/hellaswag/acc,none": float("nan")}), "NaN"),
        (b"[1, 2, 3]", "not a JSON object"),
    ],
    ids=["truncated", "no-results", "not-a-number", "nan", "not-an-object"],
)
def test_bad_files_are_refused_with_a_message_naming_the_problem(qwen, data, message):
    outcome = result_file_import(file_name="bad.json", data=data, imported_by=None)
    assert outcome.status == "error"
    assert outcome.message.startswith("bad.json")
    assert message in outcome.message
    assert not EvalRun.objects.exists() and not MetricResult.objects.exists()


def test_a_file_over_the_size_limit_is_refused(qwen, settings):
    settings.IMPORT_MAX_BYTES = 10_000
    outcome = result_file_import(file_name="big.json", data=V04.read_bytes(), imported_by=None)
    assert outcome.status == "error"
    assert "over the" in outcome.message and "limit" in outcome.message
    assert not EvalRun.objects.exists()


def test_the_command_imports_an_output_path_tree_and_reports_per_file(
    qwen, bloom, tmp_path, capsys
):
    tree = tmp_path / "out" / "Qwen__Qwen2.5-1.5B"
    tree.mkdir(parents=True)
    (tree / "results_2025-03-02T23-52-52.json").write_bytes(V04.read_bytes())
    (tree / "samples_hellaswag_2025-03-02T23-52-52.jsonl").write_text("{}\n")
    (tmp_path / "out" / "broken_results.json").write_text('{"results": {"x": {"acc": "no"}}}')

    with pytest.raises(CommandError, match="1 file"):
        call_command("import_results", str(tmp_path / "out"))
    out, err = capsys.readouterr()
    assert "imported" in out and "results_2025-03-02T23-52-52.json" in out
    assert "broken_results.json" in err
    assert EvalRun.objects.filter(origin=RunOrigin.IMPORT).count() == 1

    call_command("import_results", str(V03), "--model", "bloom-small")
    call_command("import_results", str(tree))
    out, _ = capsys.readouterr()
    assert "duplicate" in out and "nothing new" in out
    assert EvalRun.objects.count() == 2


MC = b'{"question": "Which is a fruit?", "choices": ["apple", "chair"], "answer": 0}\n' * 3


def test_a_domain_set_is_stored_versioned_by_its_content(engineer):
    first, created = domain_set_upload(name="Claims", description="", data=MC, uploaded_by=engineer)
    assert created and first.kind == "multiple_choice" and first.n_rows == 3
    assert first.task_name.startswith("domain_claims_")
    same, created = domain_set_upload(
        name="Claims", description="", data=MC + b"\n\n", uploaded_by=engineer
    )
    assert not created and same == first
    newer, created = domain_set_upload(
        name="Claims",
        description="",
        data=MC + b'{"question": "Which is blue?", "choices": ["sky", "grass"], "answer": 0}',
        uploaded_by=engineer,
    )
    assert created and newer.task_name != first.task_name


def test_a_bad_domain_set_lists_every_bad_line_and_stores_nothing():
    data = (
        b'{"question": "q1", "choices": ["a", "b"], "answer": 0}\n'
        b"not json\n"
        b'{"question": "q3", "choices": ["a", "b", "c"], "answer": 4}\n'
        b'{"choices": ["a", "b"], "answer": 1}\n'
    )
    with pytest.raises(DomainSetError) as excinfo:
        domain_set_upload(name="Bad", description="", data=data, uploaded_by=None)
    joined = " | ".join(excinfo.value.errors)
    assert "line 2" in joined and "line 3" in joined and "line 4" in joined
    assert "line 1" not in joined
    assert not DomainEvalSet.objects.exists()


# ---------------------------------------------------------------- web and API


@pytest.fixture
def engineer_client(client, engineer):
    client.force_login(engineer)
    return client


def test_an_engineer_uploads_result_files_in_the_web(engineer_client, qwen):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    response = engineer_client.post(
        reverse("evaluations:import"),
        {
            "files": [
                SimpleUploadedFile(V04.name, V04.read_bytes()),
                SimpleUploadedFile("broken.json", b'{"results": '),
            ]
        },
    )
    html = response.content.decode()
    assert [o.status for o in response.context["outcomes"]] == ["imported", "error"]
    assert "broken.json: line 1: not valid JSON" in html
    assert EvalRun.objects.count() == 1


def test_a_bad_domain_set_in_the_web_lists_its_lines(engineer_client):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    response = engineer_client.post(
        reverse("evaluations:domain-sets"),
        {"name": "Claims", "file": SimpleUploadedFile("c.jsonl", MC + b"{oops\n")},
    )
    assert "line 4: not valid JSON" in response.content.decode()
    assert not DomainEvalSet.objects.exists()


def test_a_project_manager_cannot_upload(client, project_manager):
    from django.urls import reverse

    client.force_login(project_manager)
    assert client.get(reverse("evaluations:import")).status_code == 403
    assert client.get(reverse("evaluations:domain-sets")).status_code == 200  # read
    response = client.post(reverse("evaluations:domain-sets"), {"name": "x"})
    assert response.status_code == 403


def test_the_api_imports_files_and_domain_sets(client, engineer, qwen):
    from accounts.services import api_token_create

    _, token = api_token_create(user=engineer, name="ci")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    with V04.open("rb") as first, V04.open("rb") as second:
        response = client.post("/api/imports", {"files": [first, second]}, **auth)
    assert response.status_code == 200, response.content
    assert [o["status"] for o in response.json()] == ["imported", "duplicate"]

    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/api/domain-sets", {"name": "Claims", "file": SimpleUploadedFile("c.jsonl", MC)}, **auth
    )
    assert response.status_code == 201, response.content
    assert response.json()["task_name"].startswith("domain_claims_")
    response = client.post(
        "/api/domain-sets",
        {"name": "Bad", "file": SimpleUploadedFile("c.jsonl", b"{oops\n")},
        **auth,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0].startswith("line 1: not valid JSON")
