"""Domain evaluation sets: an engineer's JSONL questions, checked and turned into an lm-eval task.

A set is either multiple choice, one ``{"question": str, "choices": [str, ...], "answer": int}``
per line, or generation, one ``{"question": str, "answer": str}`` per line. Every line is
checked and every problem reported with its line number, so one upload shows all that is wrong.
Each version of a set (its content hash) becomes its own lm-eval task, written as a YAML and a
JSONL file into a folder that lm-eval reads with ``TaskManager(include_path=folder)``.

Nothing here touches Django or imports ``lm_eval``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from evaluations.importers import describe_value, format_size

MULTIPLE_CHOICE = "multiple_choice"
GENERATION = "generation"
KINDS = (MULTIPLE_CHOICE, GENERATION)
MIN_CHOICES = 2
MAX_CHOICES = 26
MAX_REPORTED_ERRORS = 50
TASK_NAME_PATTERN = re.compile(r"[a-z0-9_]+")
_SLUG_MAX_LENGTH = 40
_KIND_LABELS = {MULTIPLE_CHOICE: "multiple-choice", GENERATION: "generation"}
_PROMPT = "Question: {{question}}\nAnswer:"


class DomainSetInvalid(Exception):
    """An uploaded set that cannot be used; ``errors`` lists every problem found, by line."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__(self.errors)

    def __str__(self) -> str:
        return "; ".join(self.errors)


@dataclass(frozen=True)
class DomainSetContent:
    """A checked set: its kind, its rows (normalised), and a hash that names this version.

    Rows hold only ``question``, ``choices`` (multiple choice) and ``answer``, with text
    stripped of surrounding whitespace; other keys of the upload are dropped.
    """

    kind: str
    rows: list[dict[str, Any]]
    content_hash: str
    n_rows: int


def parse_domain_set(data: bytes, *, max_bytes: int, max_lines: int = 100_000) -> DomainSetContent:
    """Check an uploaded JSONL set line by line; raise :class:`DomainSetInvalid` listing problems.

    Blank lines are skipped. Refused: more than ``max_bytes`` bytes or ``max_lines`` questions,
    text that is not UTF-8, no questions at all, and any line that is not a valid question of
    the set's kind (the kind of its first line). At most :data:`MAX_REPORTED_ERRORS` problems
    are listed, then a count of the rest.
    """
    text = _decode(data, max_bytes=max_bytes)
    reader = _SetReader()
    for number, line in _numbered_lines(text):
        if reader.n_lines >= max_lines:
            raise DomainSetInvalid([f"has more than {max_lines:,} questions, the limit"])
        reader.read(number, line)
    if reader.errors:
        raise DomainSetInvalid(_capped(reader.errors))
    if not reader.rows:
        raise DomainSetInvalid(["the set is empty: no questions found"])
    return DomainSetContent(
        kind=reader.kind or GENERATION,
        rows=reader.rows,
        content_hash=content_hash(reader.rows),
        n_rows=len(reader.rows),
    )


def content_hash(rows: list[dict[str, Any]]) -> str:
    """sha256 of the rows as canonical JSON: sorted keys, no spaces, UTF-8."""
    canonical = json.dumps(rows, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def task_name_for(set_name: str, content_hash: str) -> str:
    """The lm-eval task name of one version of a set: ``domain_<slug>_<first 8 of hash>``.

    The slug is ``set_name`` lowercased, accents dropped, runs of anything but ``a-z0-9``
    made one underscore, at most 40 characters (``set`` when nothing is left).
    """
    digest = content_hash.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{8,}", digest):
        raise ValueError(f"Not a hex content hash: {content_hash!r}")
    return f"domain_{_slug(set_name)}_{digest[:8]}"


def write_lm_eval_task(folder: Path, *, task_name: str, kind: str, rows: list[dict]) -> Path:
    """Write ``<task_name>.jsonl`` and ``<task_name>.yaml`` into ``folder``; return the YAML path.

    The YAML names the JSONL by its absolute path (lm-eval would resolve a relative one against
    the current directory). Each file is written to a temporary file and renamed into place,
    the data first, so lm-eval never reads half a task; a file that already holds the same
    text is left alone.
    """
    if not TASK_NAME_PATTERN.fullmatch(task_name):
        raise ValueError(f"Not a task name (a-z, 0-9 and _ only): {task_name!r}")
    if kind not in KINDS:
        raise ValueError(f"Unknown kind of set: {kind!r}")
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    data_path = folder / f"{task_name}.jsonl"
    yaml_path = folder / f"{task_name}.yaml"
    _write_if_changed(data_path, _jsonl(rows))
    _write_if_changed(yaml_path, _task_yaml(task_name, kind, data_path))
    return yaml_path


# -------------------------------------------------------------------- reading the upload
def _decode(data: bytes, *, max_bytes: int) -> str:
    if len(data) > max_bytes:
        size, limit = format_size(len(data)), format_size(max_bytes)
        raise DomainSetInvalid([f"the file is {size}, over the {limit} limit"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DomainSetInvalid([f"line {line}: not UTF-8 text"]) from exc


def _numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """Non-blank lines with their 1-based numbers. Only ``\\n`` ends a line: JSON strings may
    hold U+2028 and other characters ``str.splitlines`` would break at."""
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            yield number, line


class _SetReader:
    """Collects the rows and the problems of a set, line by line."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.kind: str | None = None
        self.kind_line = 0
        self.n_lines = 0

    def read(self, number: int, line: str) -> None:
        self.n_lines += 1
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            self.errors.append(f"line {number}: not valid JSON ({exc.msg}, column {exc.colno})")
            return
        except RecursionError:
            self.errors.append(f"line {number}: not valid JSON (nested too deeply)")
            return
        if not isinstance(record, dict):
            self.errors.append(
                f"line {number}: expected a JSON object, got {describe_value(record)}"
            )
            return
        kind = MULTIPLE_CHOICE if "choices" in record else GENERATION
        if self.kind is None:
            self.kind, self.kind_line = kind, number
        elif kind != self.kind:
            first = _KIND_LABELS[self.kind]
            self.errors.append(
                f"line {number}: mixes generation and multiple-choice lines "
                f"(line {self.kind_line} is {first})"
            )
            return
        row, problems = _check_record(record, kind)
        self.errors.extend(f"line {number}: {problem}" for problem in problems)
        if not problems:
            self.rows.append(row)


def _check_record(record: Mapping[str, Any], kind: str) -> tuple[dict[str, Any], list[str]]:
    """The normalised row and the problems (without line numbers) of one line."""
    problems: list[str] = []
    question = _required_text(record, "question", problems)
    if kind == MULTIPLE_CHOICE:
        choices = _choices(record.get("choices"), problems)
        answer = _choice_answer(record, choices, problems)
        return {"question": question, "choices": choices, "answer": answer}, problems
    answer = _required_text(record, "answer", problems)
    if answer is not None and "\n" in answer:
        problems.append("'answer' spans several lines; generation stops at the first line break")
    return {"question": question, "answer": answer}, problems


def _required_text(record: Mapping[str, Any], key: str, problems: list[str]) -> str | None:
    if key not in record:
        problems.append(f"missing '{key}'")
        return None
    value = record[key]
    if not isinstance(value, str):
        hint = " (a generation answer is text; add 'choices' for multiple choice)"
        extra = hint if key == "answer" and isinstance(value, int) else ""
        problems.append(f"'{key}' must be text, not {describe_value(value)}{extra}")
        return None
    if not value.strip():
        problems.append(f"'{key}' is empty")
        return None
    return value.strip()


def _choices(value: Any, problems: list[str]) -> list[str] | None:
    if not isinstance(value, list):
        problems.append(f"'choices' must be a list of texts, not {describe_value(value)}")
        return None
    if not MIN_CHOICES <= len(value) <= MAX_CHOICES:
        problems.append(
            f"'choices' has {len(value)}; between {MIN_CHOICES} and {MAX_CHOICES} are needed"
        )
        return None
    choices: list[str] = []
    for position, choice in enumerate(value, start=1):
        if not isinstance(choice, str):
            problems.append(f"choice {position} must be text, not {describe_value(choice)}")
        elif not choice.strip():
            problems.append(f"choice {position} is empty")
        elif choice.strip() in choices:
            first = choices.index(choice.strip()) + 1
            problems.append(f"choice {position} repeats choice {first}")
        choices.append(choice.strip() if isinstance(choice, str) else "")
    return choices


def _choice_answer(
    record: Mapping[str, Any], choices: list[str] | None, problems: list[str]
) -> int | None:
    if "answer" not in record:
        problems.append("missing 'answer'")
        return None
    answer = record["answer"]
    if not isinstance(answer, int) or isinstance(answer, bool):
        problems.append(
            f"'answer' must be the index of the right choice (0 for the first), "
            f"not {describe_value(answer)}"
        )
        return None
    if choices is not None and not 0 <= answer < len(choices):
        problems.append(f"'answer' {answer} is out of range for {len(choices)} choices")
    return answer


def _capped(errors: list[str]) -> list[str]:
    if len(errors) <= MAX_REPORTED_ERRORS:
        return errors
    rest = len(errors) - MAX_REPORTED_ERRORS
    return [*errors[:MAX_REPORTED_ERRORS], f"... and {rest:,} more problems"]


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")
    return slug[:_SLUG_MAX_LENGTH].rstrip("_") or "set"


# -------------------------------------------------------------------- writing the task
def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)


def _task_yaml(task_name: str, kind: str, data_path: Path) -> str:
    # doc_to_choice and doc_to_target name dataset fields rather than Jinja templates: lm-eval
    # reads a field as it is, but re-parses what a template renders (an answer that renders
    # as "[1, 2]" would become a list of two targets, "12" a choice index).
    config: dict[str, Any] = {
        "task": task_name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(data_path)}},
        "test_split": "test",
        "doc_to_text": _PROMPT,
        "doc_to_target": "answer",
        **(_MULTIPLE_CHOICE_CONFIG if kind == MULTIPLE_CHOICE else _GENERATION_CONFIG),
        "metadata": {"version": 1.0},
    }
    header = f"# Rightsize domain set ({_KIND_LABELS[kind]}); written by Rightsize, do not edit.\n"
    text = yaml.dump(config, Dumper=_TaskDumper, sort_keys=False, allow_unicode=True, width=1000)
    return header + text


class _TaskDumper(yaml.SafeDumper):
    """Writes text holding line breaks as one double-quoted line ("Question: ...\\nAnswer:")."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = '"' if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_TaskDumper.add_representer(str, _represent_text)


_MULTIPLE_CHOICE_CONFIG: dict[str, Any] = {
    "output_type": "multiple_choice",
    "doc_to_choice": "choices",
    "metric_list": [
        {"metric": "acc", "aggregation": "mean", "higher_is_better": True},
        {"metric": "acc_norm", "aggregation": "mean", "higher_is_better": True},
    ],
}
_GENERATION_CONFIG: dict[str, Any] = {
    "output_type": "generate_until",
    "generation_kwargs": {"until": ["\n"], "max_gen_toks": 64, "do_sample": False},
    # lm-eval 0.4.13 has no "strip" filter; remove_whitespace strips both ends.
    "filter_list": [
        {
            "name": "strip",
            "filter": [{"function": "remove_whitespace"}, {"function": "take_first"}],
        }
    ],
    "metric_list": [
        {
            "metric": "exact_match",
            "aggregation": "mean",
            "higher_is_better": True,
            "ignore_case": True,
            "ignore_punctuation": True,
        }
    ],
}


def _write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` atomically unless it already holds it; True when written."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(partial, 0o644)  # mkstemp makes it private; workers may run as another user
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return True
