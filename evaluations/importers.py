"""Reads lm-evaluation-harness result files into plain data, ready to store.

Two shapes are understood, told apart by their content: harness 0.4 (``"acc,none"`` keys, with
``n-shot``, ``n-samples``, ``groups`` ...) and harness 0.3 (``"acc"``/``"acc_stderr"`` keys and a
``config`` holding ``num_fewshot``). Nothing here touches Django or imports ``lm_eval``: bytes
in, a :class:`ParsedRun` or an :class:`ImportProblem` with a readable message out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from evaluations.lmeval_runner import MetricRow, group_names, metric_rows

FORMAT_V04 = "0.4"
FORMAT_V03 = "0.3"
NOT_AVAILABLE = "N/A"  # lm-eval's placeholder for a stderr it did not compute

_MODEL_NAME_ARGS = ("pretrained", "model", "peft")
_TEXT_KEYS = frozenset({"alias", "name"})
_COUNT_KEYS = frozenset({"sample_len", "samples"})
# Top-level keys only harness 0.4 writes.
_V04_KEYS = frozenset(
    {"n-shot", "n-samples", "configs", "group_subtasks", "higher_is_better", "groups"}
)
# Harness 0.3 files do not say which way a metric points; these standard names always point
# the same way.
_V03_HIGHER_IS_BETTER = {
    "acc": True,
    "acc_norm": True,
    "mc1": True,
    "mc2": True,
    "em": True,
    "exact_match": True,
    "f1": True,
    "mcc": True,
    "bleu": True,
    "ppl": False,
    "perplexity": False,
    "word_perplexity": False,
    "byte_perplexity": False,
    "bits_per_byte": False,
}


class ImportProblem(Exception):
    """A result file that cannot be imported; ``str()`` is a message for the person uploading.

    ``field`` is the dotted path of the offending value (``results.hellaswag.acc,none``) and
    ``line`` the line of a JSON syntax error, where known.
    """

    def __init__(
        self, file: str, message: str, field: str | None = None, line: int | None = None
    ) -> None:
        self.file = file
        self.message = message
        self.field = field
        self.line = line
        super().__init__(file, message, field, line)

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(self.field)
        return ": ".join([*where, self.message])


@dataclass
class ParsedRun:
    """One lm-eval result file, read and checked.

    ``metrics`` has one row per (task or group, metric, filter); ``groups`` names the entries
    that aggregate other tasks (MMLU and its four subject groups), whose rows have
    ``is_group=True``. ``raw`` is the whole file as parsed, less any ``samples``.
    """

    format: str
    model_name: str | None
    model_args: dict[str, Any]
    lm_eval_version: str | None
    transformers_version: str | None
    num_fewshot: int | None
    limit: int | float | None
    metrics: list[MetricRow]
    groups: list[str]
    task_versions: dict[str, Any]
    task_hashes: dict[str, str]
    n_samples: dict[str, int]
    raw: dict[str, Any]
    backend: str | None = None
    started: datetime | None = None
    ended: datetime | None = None
    file_name: str = ""
    tasks: list[str] = field(default_factory=list)  # the evaluated tasks, groups left out


def parse_result_file(name: str, data: bytes, *, max_bytes: int) -> ParsedRun:
    """Read one lm-eval result file (harness 0.4 or 0.3, told apart by shape).

    ``name`` is only used in messages. Raises :class:`ImportProblem` for a file over
    ``max_bytes``, one that is not UTF-8 JSON holding an object with results, and for metric
    values that are not finite numbers or sample counts that are negative.
    """
    document, non_finite_seen = _load_json_object(name, data, max_bytes=max_bytes)
    raw = {key: value for key, value in document.items() if key != "samples"}
    if non_finite_seen:  # walk the document only when the parser met NaN or an infinity
        _reject_non_finite(name, raw, path="")
    _check_structure(name, raw)
    if _detect_format(raw) == FORMAT_V04:
        return _parse_v04(name, raw)
    return _parse_v03(name, raw)


def model_name_candidates(parsed: ParsedRun) -> list[str]:
    """Names to look the run's model up by in a catalog, most specific first.

    From ``Qwen/Qwen2.5-1.5B``: the hub id, its lowercase form, then ``Qwen2.5-1.5B`` and
    ``qwen2.5-1.5b``. Local paths give their last folder name; lm-eval's sanitised names
    (``Qwen__Qwen2.5-1.5B``) and Hugging Face cache folders (``models--Qwen--Qwen2.5-1.5B``)
    give the hub id back.
    """
    sources = [parsed.model_name, *(parsed.model_args.get(key) for key in _MODEL_NAME_ARGS)]
    candidates: list[str] = []
    for source in sources:
        if not isinstance(source, str) or not source.strip():
            continue
        for candidate in _name_variants(source.strip()):
            if candidate not in candidates:
                candidates.append(candidate)
    return candidates


def iter_result_files(path: Path) -> Iterator[Path]:
    """The result files at ``path``: the file itself, or those in a folder tree, sorted.

    A folder is read as ``lm_eval --output_path`` writes it:
    ``<out>/<sanitised model>/results_<timestamp>.json``, beside optional
    ``samples_<task>_<timestamp>.jsonl`` files, which are skipped, as are hidden files and
    JSON files without "results" in their name.
    """
    path = Path(path)
    if path.is_file():
        yield path
        return
    if not path.is_dir():
        raise ImportProblem(str(path), "no such file or folder")
    found = [
        candidate
        for candidate in path.rglob("*")
        if _is_result_file(candidate) and not _is_hidden(candidate.relative_to(path))
    ]
    yield from sorted(found)


def format_size(n_bytes: int) -> str:
    """``n_bytes`` for people: ``"812 bytes"``, ``"3.5 KB"``, ``"61.2 MB"`` (1 MB = 1024² bytes)."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n_bytes} bytes"


def describe_value(value: Any) -> str:
    """A JSON value as a message shows it: 'abc', true, null, NaN, a list, an object."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37] + "...")
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return str(value)


# -------------------------------------------------------------------- reading the bytes
def _load_json_object(name: str, data: bytes, *, max_bytes: int) -> tuple[dict[str, Any], bool]:
    """The parsed object, and whether it holds NaN or an infinity anywhere."""
    if len(data) > max_bytes:
        raise ImportProblem(
            name, f"is {format_size(len(data))}, over the {format_size(max_bytes)} limit"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportProblem(name, "not UTF-8 text", line=line) from exc
    non_finite: list[str] = []

    def constant(literal: str) -> float:  # NaN, Infinity, -Infinity
        non_finite.append(literal)
        return float(literal.replace("Infinity", "inf"))

    def number(literal: str) -> float:  # 1e999 reads as infinity
        value = float(literal)
        if math.isinf(value):
            non_finite.append(literal)
        return value

    try:
        document = json.loads(text, parse_constant=constant, parse_float=number)
    except json.JSONDecodeError as exc:
        raise ImportProblem(name, _describe_json_error(exc, text), line=exc.lineno) from exc
    except RecursionError as exc:
        raise ImportProblem(name, "not valid JSON (nested too deeply)") from exc
    if not isinstance(document, dict):
        raise ImportProblem(name, f"the top level is {describe_value(document)}, not a JSON object")
    return document, bool(non_finite)


def _describe_json_error(exc: json.JSONDecodeError, text: str) -> str:
    if exc.pos >= len(text.rstrip()):
        return "not valid JSON (truncated?)"
    return f"not valid JSON ({exc.msg}, column {exc.colno})"


def _reject_non_finite(name: str, value: Any, *, path: str) -> None:
    """Python's json reads NaN and Infinity; stored JSON cannot hold them, nor can a score."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ImportProblem(name, f"{describe_value(value)} is not a finite number", field=path)
    if isinstance(value, dict):
        for key, item in value.items():
            _reject_non_finite(name, item, path=f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _reject_non_finite(name, item, path=f"{path}[{index}]")


# -------------------------------------------------------------------- checking the shape
def _check_structure(name: str, raw: dict[str, Any]) -> None:
    results = raw.get("results")
    if not isinstance(results, dict) or not results:
        problem = "has no results" if not results else "'results' is not a JSON object"
        raise ImportProblem(name, problem)
    for section in ("results", "groups"):
        for task, values in _objects_in(name, raw, section).items():
            _check_metric_values(name, f"{section}.{task}", values)
    for section in ("config", "versions", "task_hashes"):
        _mapping(name, raw, section)
    _check_counts(name, raw)
    _check_groups_and_directions(name, raw)


def _check_counts(name: str, raw: Mapping[str, Any]) -> None:
    for task, counts in _objects_in(name, raw, "n-samples").items():
        for key, count in counts.items():
            _check_count(name, f"n-samples.{task}.{key}", count)
    for task, shots in _mapping(name, raw, "n-shot").items():
        if shots is not None:
            _check_count(name, f"n-shot.{task}", shots, noun="number of shots")


def _check_groups_and_directions(name: str, raw: Mapping[str, Any]) -> None:
    for task, directions in _objects_in(name, raw, "higher_is_better").items():
        for metric, direction in directions.items():
            if direction is not None and not isinstance(direction, bool):
                message = f"{describe_value(direction)} is not true or false"
                raise ImportProblem(name, message, f"higher_is_better.{task}.{metric}")
    for group, subtasks in _mapping(name, raw, "group_subtasks").items():
        if not isinstance(subtasks, list):
            raise ImportProblem(name, "is not a list of tasks", f"group_subtasks.{group}")


def _mapping(name: str, raw: Mapping[str, Any], key: str) -> dict[str, Any]:
    """``raw[key]`` when it is an object, ``{}`` when absent or null; anything else fails."""
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ImportProblem(name, f"is {describe_value(value)}, not a JSON object", field=key)
    return value


def _objects_in(name: str, raw: Mapping[str, Any], key: str) -> dict[str, dict[str, Any]]:
    """``raw[key]`` checked to be an object of objects (results, groups, n-samples...)."""
    section = _mapping(name, raw, key)
    for entry, value in section.items():
        if not isinstance(value, dict):
            message = f"is {describe_value(value)}, not a JSON object"
            raise ImportProblem(name, message, field=f"{key}.{entry}")
    return section


def _check_metric_values(name: str, path: str, values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        metric = key.partition(",")[0]
        field_path = f"{path}.{key}"
        if metric in _COUNT_KEYS:
            _check_count(name, field_path, value)
        elif not _is_metric_key(key):  # labels; some 0.4 versions write {" ": " "} for groups
            continue
        elif metric.endswith("_stderr"):
            if value is not None and value != NOT_AVAILABLE and not _is_number(value):
                raise ImportProblem(name, f"{describe_value(value)} is not a number", field_path)
        elif not _is_number(value):
            raise ImportProblem(name, f"{describe_value(value)} is not a number", field_path)


def _check_count(name: str, path: str, value: Any, *, noun: str = "sample count") -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ImportProblem(name, f"{describe_value(value)} is not a whole number", field=path)
    if value < 0:
        raise ImportProblem(name, f"{value} is a negative {noun}", field=path)


def _detect_format(raw: Mapping[str, Any]) -> str:
    """0.4 writes ``metric,filter`` keys and sections 0.3 never had; 0.3 is what is left."""
    keys = (key for values in raw["results"].values() for key in values)
    if any("," in key for key in keys) or _V04_KEYS & raw.keys():
        return FORMAT_V04
    return FORMAT_V03


# -------------------------------------------------------------------- building the run
def _parse_v04(name: str, raw: dict[str, Any]) -> ParsedRun:
    groups = group_names(raw)
    # Sections may be null in hand-edited files; metric_rows expects objects.
    sections = {key: raw.get(key) or {} for key in ("groups", "group_subtasks", "n-shot")}
    rows = metric_rows({**raw, **sections, "higher_is_better": raw.get("higher_is_better") or {}})
    tasks = [task for task in raw["results"] if task not in groups]
    n_shots = {sections["n-shot"][task] for task in tasks if task in sections["n-shot"]}
    return ParsedRun(
        format=FORMAT_V04,
        metrics=rows,
        groups=groups,
        tasks=tasks,
        num_fewshot=n_shots.pop() if len(n_shots) == 1 else None,
        n_samples=_effective_sample_counts(raw),
        task_hashes={
            task: str(digest) for task, digest in _mapping(name, raw, "task_hashes").items()
        },
        **_common_fields(name, raw),
    )


def _parse_v03(name: str, raw: dict[str, Any]) -> ParsedRun:
    config = raw.get("config") or {}
    shots = config.get("num_fewshot")
    if shots is not None:
        _check_count(name, "config.num_fewshot", shots, noun="number of shots")
    rows = [
        _v03_row(task, metric, values, shots)
        for task, values in raw["results"].items()
        for metric in values
        if _is_metric_key(metric) and not metric.endswith("_stderr")
    ]
    return ParsedRun(
        format=FORMAT_V03,
        metrics=rows,
        groups=[],
        tasks=list(raw["results"]),
        num_fewshot=shots,
        n_samples={},
        task_hashes={},
        **_common_fields(name, raw),
    )


def _v03_row(task: str, metric: str, values: Mapping[str, Any], shots: int | None) -> MetricRow:
    stderr = values.get(f"{metric}_stderr")
    return MetricRow(
        task=task,
        metric=metric,
        filter="none",
        value=float(values[metric]),
        stderr=float(stderr) if _is_number(stderr) else None,
        higher_is_better=_V03_HIGHER_IS_BETTER.get(metric),
        n_samples=None,
        shots=shots,
        is_group=False,
    )


def _common_fields(name: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """What both formats keep in the same places."""
    config = raw.get("config") or {}
    model_args = _model_args(name, config.get("model_args"))
    limit = config.get("limit")
    if limit is not None and not _is_number(limit):
        raise ImportProblem(name, f"{describe_value(limit)} is not a number", field="config.limit")
    started = _timestamp(raw.get("date"))
    return {
        "model_name": _model_name(raw, model_args, config),
        "model_args": model_args,
        "backend": _text(config.get("model")),
        "lm_eval_version": _text(raw.get("lm_eval_version")),
        "transformers_version": _text(raw.get("transformers_version")),
        "limit": limit,
        "task_versions": dict(raw.get("versions") or {}),
        "raw": dict(raw),
        "started": started,
        "ended": _ended(started, raw.get("total_evaluation_time_seconds")),
        "file_name": name,
    }


def _effective_sample_counts(raw: Mapping[str, Any]) -> dict[str, int]:
    counts = {}
    for task, sizes in (raw.get("n-samples") or {}).items():
        effective = sizes.get("effective", sizes.get("original"))
        if effective is not None:
            counts[task] = effective
    return counts


def _model_args(name: str, value: Any) -> dict[str, Any]:
    """``"pretrained=org/m,trust_remote_code=True"`` or a dict -> a dict, values typed as lm-eval
    would type them (booleans, numbers, None), everything else left as text."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    if not isinstance(value, str):
        message = f"is {describe_value(value)}, not text or an object"
        raise ImportProblem(name, message, field="config.model_args")
    args = {}
    for part in filter(None, (piece.strip() for piece in value.split(","))):
        key, sep, text = part.partition("=")
        if not sep or not key.strip():
            message = f"{part!r} is not name=value"
            raise ImportProblem(name, message, field="config.model_args")
        args[key.strip()] = _scalar(text.strip())
    return args


def _scalar(text: str) -> Any:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text.lower() in {"true", "false"}:
        return text.lower() == "true"
    if text.lower() == "none":
        return None
    if text.lstrip("+-").isdigit():
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def _model_name(
    raw: Mapping[str, Any], model_args: Mapping[str, Any], config: Mapping
) -> str | None:
    for value in (raw.get("model_name"), *(model_args.get(key) for key in _MODEL_NAME_ARGS)):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return _text(config.get("model"))


def _name_variants(name: str) -> list[str]:
    name = name.rstrip("/\\")
    parts = [part for part in name.replace("\\", "/").split("/") if part]
    if not parts:
        return []
    hub_ids = []
    cached = [part for part in parts if part.startswith("models--")]
    if cached:  # a Hugging Face cache folder: .../models--Qwen--Qwen2.5-1.5B/snapshots/<sha>
        hub_ids.append(cached[-1].removeprefix("models--").replace("--", "/", 1))
    elif len(parts) == 1 and "__" in parts[0]:  # lm-eval's sanitised model name
        hub_ids.append(parts[0].replace("__", "/", 1))
    names = [*hub_ids, name, *(hub_id.rsplit("/", 1)[-1] for hub_id in hub_ids)]
    if not cached:
        names.append(parts[-1])
    return list(dict.fromkeys(variant for each in names for variant in (each, each.lower())))


def _timestamp(value: Any) -> datetime | None:
    """lm-eval's ``date``: seconds since the epoch (0.4) or, in some exports, ISO text."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if not _is_number(value):
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _ended(started: datetime | None, duration: Any) -> datetime | None:
    """``started`` plus ``total_evaluation_time_seconds`` (which lm-eval writes as text)."""
    try:
        seconds = float(duration)
    except (TypeError, ValueError):
        return None
    if started is None or not math.isfinite(seconds) or seconds < 0:
        return None
    return started + timedelta(seconds=seconds)


# -------------------------------------------------------------------- small helpers
def _is_result_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".json" and "results" in path.name.lower()


def _is_hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _is_metric_key(key: str) -> bool:
    metric = key.partition(",")[0]
    return bool(metric.strip()) and metric not in _TEXT_KEYS | _COUNT_KEYS


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
