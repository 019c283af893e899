"""Reading lm-eval result files: real 0.4 and 0.3 files, and the ways a file can be wrong."""

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from evaluations.importers import (
    ImportProblem,
    ParsedRun,
    format_size,
    iter_result_files,
    model_name_candidates,
    parse_result_file,
)

# Real result files: a copy in the repository when there is one, else the shared folder.
_FIXTURE_DIRS = [
    Path(__file__).resolve().parent / "fixtures" / "lm_eval_results",
    Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "lm_eval_results",
]
FIXTURES = next((path for path in _FIXTURE_DIRS if path.is_dir()), _FIXTURE_DIRS[0])
V04_FILE = FIXTURES / "qwen2.5-1.5b_v0.4_results.json"
V03_FILE = FIXTURES / "bloom-560m_xcopa_v0.3_results.json"
MAX_BYTES = 50 * 1024 * 1024
MMLU_GROUPS = ["mmlu", "mmlu_humanities", "mmlu_other", "mmlu_social_sciences", "mmlu_stem"]


def parse(document: dict | bytes, name: str = "x.json", max_bytes: int = MAX_BYTES) -> ParsedRun:
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    return parse_result_file(name, data, max_bytes=max_bytes)


def problem(document: dict | bytes, **kwargs) -> str:
    with pytest.raises(ImportProblem) as caught:
        parse(document, **kwargs)
    return str(caught.value)


def minimal_v04(**task_values) -> dict:
    values = task_values or {"acc,none": 0.5, "acc_stderr,none": 0.1}
    return {
        "results": {"hellaswag": {"alias": "hellaswag", **values}},
        "n-shot": {"hellaswag": 0},
        "n-samples": {"hellaswag": {"original": 10, "effective": 10}},
        "config": {"model": "hf", "model_args": "pretrained=org/model"},
    }


@pytest.fixture(scope="module")
def real_files() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"no lm-eval result fixtures at {FIXTURES}")
    return FIXTURES


@pytest.fixture(scope="module")
def v04_file(real_files) -> dict:
    return json.loads(V04_FILE.read_text())


@pytest.fixture(scope="module")
def v03_file(real_files) -> dict:
    return json.loads(V03_FILE.read_text())


@pytest.fixture(scope="module")
def v04_run(real_files) -> ParsedRun:
    return parse_result_file(V04_FILE.name, V04_FILE.read_bytes(), max_bytes=MAX_BYTES)


@pytest.fixture(scope="module")
def v03_run(real_files) -> ParsedRun:
    return parse_result_file(V03_FILE.name, V03_FILE.read_bytes(), max_bytes=MAX_BYTES)


# -------------------------------------------------------------------- the real 0.4 file
def expected_v04_metrics(document: dict) -> dict[tuple[str, str, str], tuple]:
    """(task, metric, filter) -> (value, stderr), read straight from the file."""
    expected = {}
    for section in ("results", "groups"):
        for task, values in document.get(section, {}).items():
            for key, value in values.items():
                metric, _, filter_name = key.partition(",")
                if metric == "alias" or metric.endswith("_stderr"):
                    continue
                stderr = values.get(f"{metric}_stderr,{filter_name}")
                expected[(task, metric, filter_name)] = (value, stderr)
    return expected


def test_every_metric_of_the_v04_file_is_read_with_its_value_and_stderr(v04_run, v04_file):
    expected = expected_v04_metrics(v04_file)
    parsed = {
        (row.task, row.metric, row.filter): (row.value, row.stderr) for row in v04_run.metrics
    }
    assert len(v04_run.metrics) == len(parsed) == len(expected) == 86
    assert parsed == expected


def test_v04_rows_carry_direction_shots_and_sample_counts_from_the_file(v04_run, v04_file):
    for row in v04_run.metrics:
        assert row.higher_is_better == v04_file["higher_is_better"][row.task][row.metric]
        assert row.shots == v04_file["n-shot"].get(row.task)
        counts = v04_file["n-samples"].get(row.task)
        assert row.n_samples == (counts["effective"] if counts else None)


def test_the_mmlu_subject_groups_are_groups_and_plain_tasks_are_not(v04_run):
    # group_subtasks in this file lists arc_easy, hellaswag... with no subtasks: not groups.
    assert v04_run.groups == MMLU_GROUPS
    assert {row.task for row in v04_run.metrics if row.is_group} == set(MMLU_GROUPS)
    assert not [row for row in v04_run.metrics if row.task == "hellaswag" and row.is_group]
    assert len(v04_run.tasks) == 73 and not set(v04_run.tasks) & set(MMLU_GROUPS)


def test_the_v04_file_describes_its_run(v04_run, v04_file):
    assert v04_run.format == "0.4"
    assert v04_run.model_name == "Qwen/Qwen2.5-1.5B"
    assert v04_run.model_args == {"pretrained": "Qwen/Qwen2.5-1.5B", "trust_remote_code": True}
    assert v04_run.backend == "hf"
    assert (v04_run.lm_eval_version, v04_run.transformers_version) == (None, "4.47.1")
    assert (v04_run.num_fewshot, v04_run.limit) == (0, None)
    assert v04_run.task_versions == v04_file["versions"]
    assert v04_run.task_hashes == {}
    assert v04_run.n_samples == {
        task: counts["effective"] for task, counts in v04_file["n-samples"].items()
    }
    assert v04_run.raw == v04_file
    assert v04_run.file_name == V04_FILE.name


def test_the_v04_run_times_come_from_date_and_total_evaluation_time(v04_run):
    started = datetime.fromtimestamp(1740959572.2608943, tz=UTC)
    assert v04_run.started == started
    assert v04_run.ended == started + timedelta(seconds=751.7979759406298)


def test_logged_samples_are_dropped_from_raw(v04_file):
    run = parse({**v04_file, "samples": {"hellaswag": [{"doc_id": 0, "acc": float("nan")}]}})
    assert "samples" not in run.raw
    assert len(run.metrics) == 86


# -------------------------------------------------------------------- the real 0.3 file
def test_every_metric_of_the_v03_file_is_read_as_acc_with_its_stderr(v03_run, v03_file):
    document = v03_file
    parsed = {row.task: (row.metric, row.value, row.stderr) for row in v03_run.metrics}
    assert len(v03_run.metrics) == len(parsed) == 11
    assert parsed == {
        task: ("acc", values["acc"], values["acc_stderr"])
        for task, values in document["results"].items()
    }
    for row in v03_run.metrics:
        assert (row.filter, row.shots, row.is_group, row.n_samples) == ("none", 0, False, None)
        assert row.higher_is_better is True


def test_the_v03_file_describes_its_run(v03_run, v03_file):
    document = v03_file
    assert v03_run.format == "0.3"
    assert v03_run.model_name == "bigscience/bloom-560m"
    assert v03_run.model_args == {"pretrained": "bigscience/bloom-560m"}
    assert v03_run.backend == "hf-causal-experimental"
    assert (v03_run.lm_eval_version, v03_run.transformers_version) == (None, None)
    assert (v03_run.num_fewshot, v03_run.limit) == (0, None)
    assert v03_run.groups == []
    assert v03_run.tasks == list(document["results"])
    assert v03_run.task_versions == document["versions"]
    assert (v03_run.started, v03_run.ended, v03_run.n_samples) == (None, None, {})
    assert v03_run.raw == document


def test_a_v03_file_with_an_lm_eval_version_keeps_it():
    document = {"results": {"arc": {"acc": 0.4}}, "lm_eval_version": "0.3.0"}
    assert (parse(document).format, parse(document).lm_eval_version) == ("0.3", "0.3.0")


# -------------------------------------------------------------------- shapes and fields
def test_a_single_task_file_is_0_4_by_its_comma_keys():
    run = parse({"results": {"arc": {"acc,none": 0.4, "acc_stderr,none": 0.01}}})
    assert run.format == "0.4"
    assert [(row.metric, row.filter, row.value) for row in run.metrics] == [("acc", "none", 0.4)]


def test_lm_eval_na_stderr_is_read_as_no_stderr():
    run = parse(minimal_v04(**{"acc,none": 0.5, "acc_stderr,none": "N/A"}))
    assert run.metrics[0].stderr is None


def test_a_group_without_an_aggregate_score_is_still_a_group():
    document = minimal_v04()
    document["results"]["glue"] = {"alias": "glue", " ": " "}  # as some 0.4 versions write it
    document["group_subtasks"] = {"glue": ["hellaswag"], "hellaswag": []}
    run = parse(document)
    assert run.groups == ["glue"]
    assert run.tasks == ["hellaswag"]
    assert [row.task for row in run.metrics] == ["hellaswag"]


def test_num_fewshot_is_none_when_tasks_used_different_shots():
    document = minimal_v04()
    document["results"]["arc"] = {"acc,none": 0.3}
    document["n-shot"] = {"hellaswag": 0, "arc": 25}
    assert parse(document).num_fewshot is None


def test_model_args_may_be_an_object():
    document = minimal_v04()
    document["config"]["model_args"] = {"pretrained": "org/m", "dtype": "bfloat16"}
    run = parse(document)
    assert run.model_args == {"pretrained": "org/m", "dtype": "bfloat16"}
    assert run.model_name == "org/m"


def test_model_args_text_is_typed_as_lm_eval_types_it():
    document = minimal_v04()
    document["config"]["model_args"] = "pretrained=org/m,max_length=2048,scale=0.5,peft=None"
    assert parse(document).model_args == {
        "pretrained": "org/m",
        "max_length": 2048,
        "scale": 0.5,
        "peft": None,
    }


@pytest.mark.parametrize(
    ("document_fields", "model_name"),
    [
        ({"model_name": "Org/Named"}, "Org/Named"),
        ({"config": {"model": "vllm", "model_args": "model=org/served,tp=2"}}, "org/served"),
        ({"config": {"model": "hf", "model_args": "peft=org/adapter"}}, "org/adapter"),
        ({"config": {"model": "gpt2"}}, "gpt2"),
        ({"config": {}}, None),
    ],
)
def test_the_model_name_comes_from_model_name_then_model_args_then_config(
    document_fields, model_name
):
    document = {**minimal_v04(), **document_fields}
    assert parse(document).model_name == model_name


def test_model_name_candidates_go_from_hub_id_to_lowercase_short_name(v04_run):
    assert model_name_candidates(v04_run) == [
        "Qwen/Qwen2.5-1.5B",
        "qwen/qwen2.5-1.5b",
        "Qwen2.5-1.5B",
        "qwen2.5-1.5b",
    ]


@pytest.mark.parametrize(
    ("model_args", "first_candidates"),
    [
        (
            "pretrained=/srv/models/Llama-3-8B/",
            ["/srv/models/Llama-3-8B", "/srv/models/llama-3-8b"],
        ),
        (
            "pretrained=/hf/hub/models--Qwen--Qwen2.5-1.5B/snapshots/8faed76",
            ["Qwen/Qwen2.5-1.5B", "qwen/qwen2.5-1.5b"],
        ),
    ],
)
def test_model_name_candidates_of_local_paths(model_args, first_candidates):
    document = minimal_v04()
    document["config"]["model_args"] = model_args
    candidates = model_name_candidates(parse(document))
    assert candidates[:2] == first_candidates
    assert "llama-3-8b" in candidates or "qwen2.5-1.5b" in candidates
    assert "8faed76" not in candidates


def test_model_name_candidates_turn_a_sanitised_name_back_into_a_hub_id():
    document = {**minimal_v04(), "model_name": "Qwen__Qwen2.5-1.5B"}
    assert model_name_candidates(parse(document))[:2] == ["Qwen/Qwen2.5-1.5B", "qwen/qwen2.5-1.5b"]


# -------------------------------------------------------------------- problems
def test_a_file_over_the_limit_is_refused_with_its_size():
    data = b" " * (61 * 1024 * 1024 + 200 * 1024)
    message = problem(data, name="big.json")
    assert message == "big.json: is 61.2 MB, over the 50 MB limit"


def test_bytes_that_are_not_utf8_are_refused_with_their_line():
    message = problem(b'{"results":\n {"a": "\xff"}}', name="r.json")
    assert message == "r.json: line 2: not UTF-8 text"


def test_a_truncated_file_is_refused_with_the_line_where_it_stops(v04_file):
    text = json.dumps(v04_file, indent=2)
    lines = text.splitlines()[:12]
    with pytest.raises(ImportProblem) as caught:
        parse("\n".join(lines).encode(), name="results_2024.json")
    assert str(caught.value) == "results_2024.json: line 12: not valid JSON (truncated?)"
    assert caught.value.line == 12


def test_invalid_json_in_the_middle_names_its_line_and_column():
    message = problem(b'{\n  "results": {\n    "a": {"acc": 1,,}\n  }\n}', name="r.json")
    assert message.startswith("r.json: line 3: not valid JSON (")
    assert "column 20" in message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[1, 2]", "x.json: the top level is a list, not a JSON object"),
        (b'"results"', "x.json: the top level is 'results', not a JSON object"),
        (b"{}", "x.json: has no results"),
        (b'{"results": {}}', "x.json: has no results"),
        (b'{"results": [1]}', "x.json: 'results' is not a JSON object"),
        (b'{"results": {"a": 0.5}}', "x.json: results.a: is 0.5, not a JSON object"),
    ],
)
def test_documents_without_results_are_refused(data, message):
    assert problem(data) == message


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"acc,none": "abc"}, "x.json: results.hellaswag.acc,none: 'abc' is not a number"),
        ({"acc,none": "0.5"}, "x.json: results.hellaswag.acc,none: '0.5' is not a number"),
        ({"acc,none": True}, "x.json: results.hellaswag.acc,none: true is not a number"),
        ({"acc,none": None}, "x.json: results.hellaswag.acc,none: null is not a number"),
        ({"acc,none": [0.5]}, "x.json: results.hellaswag.acc,none: a list is not a number"),
        ({"acc,none": "N/A"}, "x.json: results.hellaswag.acc,none: 'N/A' is not a number"),
        (
            {"acc,none": 0.5, "acc_stderr,none": "n/a"},
            "x.json: results.hellaswag.acc_stderr,none: 'n/a' is not a number",
        ),
        (
            {"acc,none": 0.5, "acc_stderr,none": False},
            "x.json: results.hellaswag.acc_stderr,none: false is not a number",
        ),
        (
            {"acc,none": 0.5, "sample_len": -3},
            "x.json: results.hellaswag.sample_len: -3 is a negative sample count",
        ),
    ],
)
def test_metric_values_that_are_not_numbers_are_refused_with_their_path(values, message):
    assert problem(minimal_v04(**values)) == message


def test_a_v03_metric_that_is_not_a_number_is_refused():
    message = problem({"results": {"hellaswag": {"acc": "abc"}}, "config": {"num_fewshot": 0}})
    assert message == "x.json: results.hellaswag.acc: 'abc' is not a number"


@pytest.mark.parametrize(
    ("literal", "shown"), [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity")]
)
def test_nan_and_infinite_values_are_refused_with_their_path(literal, shown):
    data = (
        b'{"results": {"hellaswag": {"acc,none": 0.5, "acc_stderr,none": %s}}}' % literal.encode()
    )
    assert (
        problem(data)
        == f"x.json: results.hellaswag.acc_stderr,none: {shown} is not a finite number"
    )


def test_an_overflowing_number_is_refused_as_infinite():
    data = b'{"results": {"a": {"acc": 1e999}}}'
    assert problem(data) == "x.json: results.a.acc: Infinity is not a finite number"


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ({"original": 10, "effective": -1}, "n-samples.hellaswag.effective: -1 is a negative"),
        ({"original": -10, "effective": 5}, "n-samples.hellaswag.original: -10 is a negative"),
        ({"original": 10, "effective": 2.5}, "n-samples.hellaswag.effective: 2.5 is not a whole"),
    ],
)
def test_negative_or_fractional_sample_counts_are_refused(counts, message):
    document = minimal_v04()
    document["n-samples"]["hellaswag"] = counts
    assert problem(document).startswith(f"x.json: {message}")


def test_model_args_that_are_not_name_value_pairs_are_refused():
    document = minimal_v04()
    document["config"]["model_args"] = "pretrained=org/m,oops"
    assert problem(document) == "x.json: config.model_args: 'oops' is not name=value"


def test_an_import_problem_keeps_its_parts():
    error = ImportProblem("x.json", "is wrong", field="results.a", line=3)
    assert (error.file, error.message, error.field, error.line) == (
        "x.json",
        "is wrong",
        "results.a",
        3,
    )
    assert str(error) == "x.json: line 3: results.a: is wrong"


@pytest.mark.parametrize(
    ("n_bytes", "text"),
    [(812, "812 bytes"), (3584, "3.5 KB"), (50 * 1024 * 1024, "50 MB"), (2 * 1024**3, "2 GB")],
)
def test_format_size(n_bytes, text):
    assert format_size(n_bytes) == text


# -------------------------------------------------------------------- finding files
def test_iter_result_files_reads_an_output_path_tree_and_skips_samples(tmp_path):
    model_dir = tmp_path / "out" / "Qwen__Qwen2.5-1.5B"
    other_dir = tmp_path / "out" / "org__other"
    for folder in (model_dir, other_dir, tmp_path / "out" / ".cache"):
        folder.mkdir(parents=True)
    wanted = [
        model_dir / "results_2025-03-02T23-52-52.261181.json",
        model_dir / "results_2025-03-03T10-00-00.000000.json",
        other_dir / "results_2025-01-01T00-00-00.json",
    ]
    for path in wanted:
        path.write_text("{}")
    (model_dir / "samples_hellaswag_2025-03-02T23-52-52.261181.jsonl").write_text("{}\n")
    (model_dir / "config.json").write_text("{}")
    (tmp_path / "out" / ".cache" / "results_x.json").write_text("{}")
    assert list(iter_result_files(tmp_path / "out")) == sorted(wanted)


def test_iter_result_files_yields_a_single_file_as_it_is(tmp_path):
    path = tmp_path / "bloom-560m_xcopa.json"
    path.write_text("{}")
    assert list(iter_result_files(path)) == [path]


def test_iter_result_files_on_a_missing_path_says_so(tmp_path):
    with pytest.raises(ImportProblem, match="no such file or folder"):
        list(iter_result_files(tmp_path / "missing"))


def test_every_fixture_file_is_found_and_parses(real_files):
    runs = [
        parse_result_file(path.name, path.read_bytes(), max_bytes=MAX_BYTES)
        for path in iter_result_files(real_files)
    ]
    assert [run.format for run in runs] == ["0.3", "0.4"]
    assert all(math.isfinite(row.value) for run in runs for row in run.metrics)
