"""Domain sets: every line checked, one hash per content, and a task lm-eval really runs."""

import json
import re

import pytest
import yaml

from evaluations.domain_sets import (
    GENERATION,
    MAX_REPORTED_ERRORS,
    MULTIPLE_CHOICE,
    DomainSetInvalid,
    parse_domain_set,
    task_name_for,
    write_lm_eval_task,
)
from evaluations.lmeval_runner import RunRequest

MAX_BYTES = 1024 * 1024
MC_ROWS = [
    {"question": f"Which is choice {i}?", "choices": ["Paris", "Rome", "Madrid"], "answer": i % 3}
    for i in range(6)
]
GEN_ROWS = [{"question": f"What is {i} plus one?", "answer": str(i + 1)} for i in range(6)]
MC = {"question": "Capital of France?", "choices": ["Paris", "Rome", "Oslo"], "answer": 0}
GEN = {"question": "Capital of France?", "answer": "Paris"}


def jsonl(*records) -> bytes:
    return "\n".join(
        record if isinstance(record, str) else json.dumps(record) for record in records
    ).encode()


def errors_of(data: bytes, **kwargs) -> list[str]:
    with pytest.raises(DomainSetInvalid) as caught:
        parse_domain_set(data, max_bytes=kwargs.pop("max_bytes", MAX_BYTES), **kwargs)
    return caught.value.errors


# -------------------------------------------------------------------- reading sets
def test_a_multiple_choice_set_is_read_and_normalised():
    data = jsonl({**MC, "question": "  Capital of France? ", "id": 7}, "", MC)
    content = parse_domain_set(data, max_bytes=MAX_BYTES)
    assert content.kind == MULTIPLE_CHOICE
    assert content.n_rows == 2
    assert content.rows[0] == MC  # stripped, extra keys dropped
    assert re.fullmatch(r"[0-9a-f]{64}", content.content_hash)


def test_a_generation_set_is_read():
    content = parse_domain_set(
        jsonl(GEN, {"question": "2+2?", "answer": " 4 "}), max_bytes=MAX_BYTES
    )
    assert content.kind == GENERATION
    assert content.rows == [GEN, {"question": "2+2?", "answer": "4"}]


def test_the_hash_ignores_whitespace_key_order_and_blank_lines():
    compact = jsonl(MC, MC)
    spaced = (
        b'\n  {"answer": 0,  "choices": ["Paris", "Rome", "Oslo"],'
        b'   "question": "Capital of France?"}'
        b'\r\n\n{"choices":["Paris","Rome","Oslo"],"question":"Capital of France?","answer":0}\n\n'
    )
    assert (
        parse_domain_set(compact, max_bytes=MAX_BYTES).content_hash
        == parse_domain_set(spaced, max_bytes=MAX_BYTES).content_hash
    )


def test_different_content_gives_a_different_hash():
    first = parse_domain_set(jsonl(MC), max_bytes=MAX_BYTES)
    second = parse_domain_set(jsonl({**MC, "answer": 1}), max_bytes=MAX_BYTES)
    assert first.content_hash != second.content_hash


def test_a_utf8_byte_order_mark_and_non_ascii_text_are_accepted():
    data = "\ufeff" + json.dumps({"question": "Hauptstadt von Österreich?", "answer": "Wien"})
    content = parse_domain_set(data.encode(), max_bytes=MAX_BYTES)
    assert content.rows[0]["question"] == "Hauptstadt von Österreich?"


def test_a_line_separator_inside_a_string_does_not_split_the_line():
    data = '{"question": "a\u2028b", "answer": "c"}'.encode()
    assert parse_domain_set(data, max_bytes=MAX_BYTES).rows[0]["question"] == "a\u2028b"


# -------------------------------------------------------------------- refusing sets
def test_every_bad_line_is_reported_with_its_number():
    data = jsonl(
        MC,
        "{not json",
        {**MC, "answer": 4},
        {"choices": ["a", "b"], "answer": 0},
        {**MC, "choices": ["only one"]},
        {**MC, "choices": ["a", " ", 3]},
        {**MC, "answer": "Paris"},
        {**MC, "answer": True},
        {**MC, "choices": ["Paris", "Rome", "Paris "]},
        [1, 2],
    )
    assert errors_of(data) == [
        "line 2: not valid JSON (Expecting property name enclosed in double quotes, column 2)",
        "line 3: 'answer' 4 is out of range for 3 choices",
        "line 4: missing 'question'",
        "line 5: 'choices' has 1; between 2 and 26 are needed",
        "line 6: choice 2 is empty",
        "line 6: choice 3 must be text, not 3",
        "line 7: 'answer' must be the index of the right choice (0 for the first), not 'Paris'",
        "line 8: 'answer' must be the index of the right choice (0 for the first), not true",
        "line 9: choice 3 repeats choice 1",
        "line 10: expected a JSON object, got a list",
    ]


def test_generation_lines_are_checked_too():
    data = jsonl(
        GEN,
        {"question": "q"},
        {"question": "", "answer": "a"},
        {"question": "q", "answer": 3},
        {"question": "q", "answer": "two\nlines"},
    )
    assert errors_of(data) == [
        "line 2: missing 'answer'",
        "line 3: 'question' is empty",
        "line 4: 'answer' must be text, not 3 (a generation answer is text; "
        "add 'choices' for multiple choice)",
        "line 5: 'answer' spans several lines; generation stops at the first line break",
    ]


def test_mixing_kinds_is_refused_on_the_line_that_mixes():
    assert errors_of(jsonl(GEN, "", MC)) == [
        "line 3: mixes generation and multiple-choice lines (line 1 is generation)"
    ]


def test_too_many_choices_are_refused():
    row = {**MC, "choices": [f"c{i}" for i in range(27)]}
    assert errors_of(jsonl(row)) == ["line 1: 'choices' has 27; between 2 and 26 are needed"]


def test_errors_are_capped_with_a_count_of_the_rest():
    errors = errors_of(jsonl(*["{"] * (MAX_REPORTED_ERRORS + 7)))
    assert len(errors) == MAX_REPORTED_ERRORS + 1
    assert errors[-1] == "... and 7 more problems"


@pytest.mark.parametrize("data", [b"", b"\n\n  \n"])
def test_an_empty_set_is_refused(data):
    assert errors_of(data) == ["the set is empty: no questions found"]


def test_bytes_that_are_not_utf8_are_refused_with_their_line():
    assert errors_of(jsonl(GEN) + b'\n{"question": "\xff"}') == ["line 2: not UTF-8 text"]


def test_a_file_over_the_size_limit_is_refused():
    assert errors_of(b" " * 4608, max_bytes=2048) == ["the file is 4.5 KB, over the 2 KB limit"]


def test_more_lines_than_allowed_are_refused():
    assert parse_domain_set(jsonl(GEN, GEN), max_bytes=MAX_BYTES, max_lines=2).n_rows == 2
    assert errors_of(jsonl(GEN, GEN, GEN), max_lines=2) == ["has more than 2 questions, the limit"]


def test_the_error_message_lists_every_problem():
    error = DomainSetInvalid(["line 1: a", "line 2: b"])
    assert str(error) == "line 1: a; line 2: b"


# -------------------------------------------------------------------- task names
@pytest.mark.parametrize(
    ("set_name", "expected"),
    [
        ("Customer Support FAQ", "domain_customer_support_faq_0123abcd"),
        ("Ärzte-Fragen (v2)!", "domain_arzte_fragen_v2_0123abcd"),
        ("???", "domain_set_0123abcd"),
        ("x" * 80, "domain_" + "x" * 40 + "_0123abcd"),
    ],
)
def test_task_names_are_lowercase_slugs_with_the_hash_prefix(set_name, expected):
    assert task_name_for(set_name, "0123ABCD" + "e" * 56) == expected


def test_a_task_name_needs_a_hex_hash():
    with pytest.raises(ValueError, match="hex"):
        task_name_for("set", "not-a-hash")


# -------------------------------------------------------------------- writing tasks
def test_the_task_names_its_data_by_an_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yaml_path = write_lm_eval_task(
        "tasks", task_name="domain_x_01234567", kind=MULTIPLE_CHOICE, rows=MC_ROWS
    )
    config = yaml.safe_load(yaml_path.read_text())
    data_path = tmp_path / "tasks" / "domain_x_01234567.jsonl"
    assert yaml_path == tmp_path / "tasks" / "domain_x_01234567.yaml"
    assert config["dataset_kwargs"] == {"data_files": {"test": str(data_path)}}
    assert config["doc_to_text"] == "Question: {{question}}\nAnswer:"
    assert [json.loads(line) for line in data_path.read_text().splitlines()] == MC_ROWS


def test_the_generation_task_stops_at_a_line_break_and_strips_its_answer(tmp_path):
    yaml_path = write_lm_eval_task(
        tmp_path, task_name="domain_g_01234567", kind=GENERATION, rows=GEN_ROWS
    )
    config = yaml.safe_load(yaml_path.read_text())
    assert config["output_type"] == "generate_until"
    assert config["generation_kwargs"] == {"until": ["\n"], "max_gen_toks": 64, "do_sample": False}
    assert [step["function"] for step in config["filter_list"][0]["filter"]] == [
        "remove_whitespace",
        "take_first",
    ]


def test_writing_the_same_task_again_leaves_the_files_alone(tmp_path):
    kwargs = {"task_name": "domain_x_01234567", "kind": GENERATION, "rows": GEN_ROWS}
    yaml_path = write_lm_eval_task(tmp_path, **kwargs)
    data_path = yaml_path.with_suffix(".jsonl")
    stamps = (yaml_path.stat().st_mtime_ns, data_path.stat().st_mtime_ns)
    inodes = (yaml_path.stat().st_ino, data_path.stat().st_ino)
    write_lm_eval_task(tmp_path, **kwargs)
    assert (yaml_path.stat().st_mtime_ns, data_path.stat().st_mtime_ns) == stamps
    assert (yaml_path.stat().st_ino, data_path.stat().st_ino) == inodes
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "domain_x_01234567.jsonl",
        "domain_x_01234567.yaml",
    ]


def test_changed_rows_replace_the_data_file(tmp_path):
    kwargs = {"task_name": "domain_x_01234567", "kind": GENERATION}
    yaml_path = write_lm_eval_task(tmp_path, rows=GEN_ROWS, **kwargs)
    write_lm_eval_task(tmp_path, rows=GEN_ROWS[:2], **kwargs)
    assert len(yaml_path.with_suffix(".jsonl").read_text().splitlines()) == 2


@pytest.mark.parametrize("task_name", ["../escape", "Domain_X", "a b", ""])
def test_a_task_name_outside_a_z_0_9_underscore_is_refused(tmp_path, task_name):
    with pytest.raises(ValueError, match="task name"):
        write_lm_eval_task(tmp_path, task_name=task_name, kind=GENERATION, rows=GEN_ROWS)


def test_an_unknown_kind_is_refused(tmp_path):
    with pytest.raises(ValueError, match="kind"):
        write_lm_eval_task(tmp_path, task_name="domain_x_0", kind="essay", rows=GEN_ROWS)


def test_lm_eval_reads_targets_as_the_stored_text(tmp_path):
    """Targets are dataset fields, not Jinja: an answer like "[1, 2]" stays one string."""
    from lm_eval.tasks import TaskManager

    rows = [{"question": "Which list?", "answer": "[1, 2]"}, {"question": "Year?", "answer": "12"}]
    write_lm_eval_task(tmp_path, task_name="domain_t_01234567", kind=GENERATION, rows=rows)
    manager = TaskManager(include_path=str(tmp_path), include_defaults=False)
    task = manager.load(["domain_t_01234567"])["tasks"]["domain_t_01234567"]
    assert [task.doc_to_target(doc) for doc in task.test_docs()] == ["[1, 2]", "12"]


# -------------------------------------------------------------------- running tasks
@pytest.mark.parametrize(
    ("kind", "rows", "metrics"),
    [
        (MULTIPLE_CHOICE, MC_ROWS, {("acc", "none"), ("acc_norm", "none")}),
        (GENERATION, GEN_ROWS, {("exact_match", "strip")}),
    ],
)
def test_a_written_task_runs_in_lm_eval_from_any_directory(
    tmp_path, monkeypatch, runner, tiny_model_path, kind, rows, metrics
):
    content = parse_domain_set(jsonl(*rows), max_bytes=MAX_BYTES)
    name = task_name_for(f"smoke {kind}", content.content_hash)
    folder = tmp_path / "tasks"
    write_lm_eval_task(folder, task_name=name, kind=content.kind, rows=content.rows)
    monkeypatch.chdir(tmp_path / "..")  # lm-eval would resolve a relative data file from here
    output = runner.run(
        RunRequest(
            backend="hf",
            model_args={"pretrained": str(tiny_model_path)},
            tasks=(name,),
            device="cpu",
            include_paths=(str(folder),),
            limit=5,
        )
    )
    assert {(row.metric, row.filter) for row in output.metrics} == metrics
    for row in output.metrics:
        assert (row.task, row.n_samples, row.shots) == (name, 5, 0)
        assert 0.0 <= row.value <= 1.0
