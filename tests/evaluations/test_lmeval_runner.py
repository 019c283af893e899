"""The lm-eval runner against real lm-eval on a tiny offline model: no mocks."""

import json
import time

import pytest

from evaluations import lmeval_runner
from evaluations.lmeval_runner import RunCancelled, RunFailed, Runner

MC = "rightsize_demo_mc"
GEN = "rightsize_demo_gen"


def test_metrics_are_the_values_lm_eval_reports(runner, make_request):
    output = runner.run(make_request(tasks=(MC,), limit=8))

    reported = output.raw["results"][MC]
    rows = {(row.task, row.metric, row.filter): row for row in output.metrics}
    assert set(rows) == {(MC, "acc", "none"), (MC, "acc_norm", "none")}
    for (_, metric, _), row in rows.items():
        assert row.value == reported[f"{metric},none"]
        assert row.stderr == reported[f"{metric}_stderr,none"]
        assert (row.n_samples, row.shots, row.higher_is_better, row.is_group) == (8, 0, True, False)
    assert output.n_requests == 8 * 4  # one loglikelihood request per choice


def test_output_records_versions_and_is_json_safe(runner, make_request):
    output = runner.run(make_request(tasks=(MC,), limit=4))

    assert output.lm_eval_version == "0.4.13"
    assert output.transformers_version and output.torch_version
    assert output.task_versions == {MC: 1.0}
    assert set(output.task_hashes) == {MC}
    assert (output.model_dtype, output.device) == ("float32", "cpu")
    assert "samples" not in output.raw
    assert json.loads(json.dumps(output.raw, allow_nan=False))["config"]["model"] == "hf"


def test_progress_counts_every_request_up_to_the_total(runner, make_request, monkeypatch):
    monkeypatch.setattr(lmeval_runner, "PROGRESS_INTERVAL_S", 0)  # report every answer
    reports = []

    output = runner.run(make_request(tasks=(MC, GEN), limit=4), on_progress=_append_to(reports))

    done = [d for d, _ in reports]
    assert done == sorted(done)
    assert {total for _, total in reports} == {output.n_requests}
    assert set(done) == set(range(output.n_requests + 1))
    assert reports[-1] == (output.n_requests, output.n_requests) == (4 * 4 + 4, 4 * 4 + 4)


def test_progress_is_throttled_and_ends_at_the_total(runner, make_request):
    reports = []

    output = runner.run(make_request(tasks=(MC, GEN), limit=None), on_progress=_append_to(reports))

    assert reports[-1] == (output.n_requests, output.n_requests)
    assert output.n_requests == 20 * 4 + 10
    assert len(reports) < output.n_requests


def test_second_run_on_the_same_model_reuses_it(make_request):
    runner = Runner()
    cold_start, cold = _time_to_first_report(runner, make_request())
    warm_start, warm = _time_to_first_report(runner, make_request())

    assert runner.model_loads == 1
    assert warm_start < cold_start
    assert [row.value for row in warm.metrics] == [row.value for row in cold.metrics]


def test_another_model_replaces_the_kept_one(runner, make_request, tiny_model_path):
    runner.run(make_request())
    loads = runner.model_loads

    runner.run(make_request(model_args={"pretrained": str(tiny_model_path), "dtype": "float32"}))

    assert runner.model_loads == loads + 1


def test_cancel_after_the_first_report_stops_the_run(runner, make_request):
    reports = []
    cancelled_at = []

    def should_cancel():
        if reports and not cancelled_at:
            cancelled_at.append(time.monotonic())
        return bool(reports)

    with pytest.raises(RunCancelled):
        runner.run(
            make_request(tasks=(MC, GEN), limit=None),
            on_progress=_append_to(reports),
            should_cancel=should_cancel,
        )

    assert len(reports) == 1
    assert time.monotonic() - cancelled_at[0] < 2


def test_a_cancelled_run_leaves_the_runner_usable(runner, make_request):
    with pytest.raises(RunCancelled):
        runner.run(make_request(), should_cancel=lambda: True)
    loads = runner.model_loads

    output = runner.run(make_request())

    assert output.metrics
    assert runner.model_loads == loads


def test_unknown_task_fails_without_loading_a_model(runner, make_request):
    loads = runner.model_loads

    with pytest.raises(RunFailed, match=r"^Unknown task: no_such_task$"):
        runner.run(make_request(tasks=(MC, "no_such_task")))

    assert runner.model_loads == loads


def test_known_task_names_include_built_in_and_local_tasks(runner):
    names = runner.known_task_names([str(lmeval_runner.local_tasks_dir())])

    assert {"hellaswag", "arc_easy", MC, GEN} <= names


def test_local_task_names_are_the_shipped_demo_tasks(runner):
    assert runner.local_task_names([lmeval_runner.local_tasks_dir()]) == {MC, GEN}


def test_generation_task_yields_exact_match(runner, make_request):
    output = runner.run(make_request(tasks=(GEN,)))

    [row] = output.metrics
    assert (row.task, row.metric, row.filter) == (GEN, "exact_match", "strip")
    assert 0.0 <= row.value <= 1.0
    assert output.n_requests == 8


def test_cached_answers_give_the_same_results_and_full_progress(runner, make_request, tmp_path):
    request = make_request(cache_path=str(tmp_path / "responses"))
    first = runner.run(request)
    reports = []

    second = runner.run(request, on_progress=_append_to(reports))

    assert [row.value for row in second.metrics] == [row.value for row in first.metrics]
    assert reports == [(second.n_requests, second.n_requests)]  # nothing asked of the model


def test_missing_model_folder_fails_readably(runner, make_request, tmp_path):
    missing = tmp_path / "no-such-model"

    with pytest.raises(RunFailed, match=f"^Model folder not found: {missing}$"):
        runner.run(make_request(model_args={"pretrained": str(missing)}))


def test_failure_keeps_lm_eval_error_as_cause(runner, make_request, tiny_model_path):
    model_args = {"pretrained": str(tiny_model_path), "no_such_argument": 1}

    with pytest.raises(RunFailed, match="no_such_argument") as failure:
        runner.run(make_request(model_args=model_args))

    assert isinstance(failure.value.__cause__, TypeError)


def _append_to(reports):
    return lambda done, total: reports.append((done, total))


def _time_to_first_report(runner, request):
    started = time.monotonic()
    first_report = []

    def on_progress(done, total):
        first_report.append(first_report or time.monotonic() - started)

    output = runner.run(request, on_progress=on_progress)
    return first_report[0], output
