"""Writes for results made elsewhere: lm-eval result files and domain evaluation sets.

Parsing is pure (importers.py, domain_sets.py); this module matches catalog models, records
provenance and writes each file's run in one transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from catalog.models import LanguageModel
from config.errors import ApplicationError

from .domain_sets import DomainSetInvalid, parse_domain_set, task_name_for
from .importers import ImportProblem, ParsedRun, model_name_candidates, parse_result_file
from .models import DomainEvalSet, EvalRun, RunOrigin
from .services import metric_rows_store


@dataclass(frozen=True)
class ImportOutcome:
    """What happened to one file: imported, already there, or refused (and why)."""

    file_name: str
    status: str  # "imported" | "duplicate" | "error"
    message: str
    run: EvalRun | None = None

    @property
    def ok(self) -> bool:
        return self.status != "error"

    def describe(self) -> str:
        """The message, naming the file once."""
        if self.message.startswith(self.file_name):
            return self.message
        return f"{self.file_name}: {self.message}"


class _CatalogMatcher:
    """Finds the catalog model a result file names (hub id, then key, then name), remembering
    answers so a batch of files of one model asks the database once."""

    def __init__(self) -> None:
        self._known: dict[str, LanguageModel | None] = {}

    def match(self, parsed: ParsedRun) -> LanguageModel | None:
        for candidate in model_name_candidates(parsed):
            if candidate not in self._known:
                self._known[candidate] = (
                    LanguageModel.objects.filter(hf_repo__iexact=candidate).first()
                    or LanguageModel.objects.filter(key__iexact=candidate).first()
                    or LanguageModel.objects.filter(name__iexact=candidate).first()
                )
            if self._known[candidate] is not None:
                return self._known[candidate]
        return None


def result_file_import(
    *,
    file_name: str,
    data: bytes,
    imported_by: AbstractBaseUser | None,
    model: LanguageModel | None = None,
) -> ImportOutcome:
    """Import one lm-eval result file (harness 0.4 or 0.3), all or nothing.

    The same bytes twice create nothing new. `model` overrides the match by model name."""
    [outcome] = result_files_import(files=[(file_name, data)], imported_by=imported_by, model=model)
    return outcome


def result_files_import(
    *,
    files: Iterable[tuple[str, bytes]],
    imported_by: AbstractBaseUser | None,
    model: LanguageModel | None = None,
) -> list[ImportOutcome]:
    """Import several files; each stands or falls alone, and the batch's runs and metric rows
    are written together in one transaction (a thousand files cost a few statements, not a
    thousand commits)."""
    files = [(name, data, hashlib.sha256(data).hexdigest()) for name, data in files]
    known = dict(
        EvalRun.objects.filter(file_sha256__in={sha for _, _, sha in files}).values_list(
            "file_sha256", "pk"
        )
    )
    matcher = _CatalogMatcher()
    outcomes: list[ImportOutcome | None] = []
    pending: list[tuple[int, str, str, ParsedRun, LanguageModel]] = []
    for name, data, sha256 in files:
        if sha256 in known:
            outcomes.append(_duplicate(name, known[sha256]) if known[sha256] else None)
            continue
        outcome, parsed, matched = _parse_and_match(name, data, model, matcher)
        outcomes.append(outcome)
        if outcome is None:
            known[sha256] = 0  # a second copy in this batch is a duplicate of this one
            pending.append((len(outcomes) - 1, name, sha256, parsed, matched))
    try:
        runs = _store_all(pending, by=imported_by)
    except IntegrityError:  # someone imported one of these files at this very moment
        return _import_one_by_one(files, imported_by=imported_by, model=model)
    for (index, name, _, parsed, matched), run in zip(pending, runs, strict=True):
        outcomes[index] = _imported(name, parsed, matched, run)
    by_sha = {run.file_sha256: run.pk for run in runs}
    return [
        outcome if outcome is not None else _duplicate(files[i][0], by_sha[files[i][2]])
        for i, outcome in enumerate(outcomes)
    ]


def _import_one_by_one(files, *, imported_by, model) -> list[ImportOutcome]:
    outcomes = []
    for name, data, _ in files:
        try:
            outcomes += result_files_import(
                files=[(name, data)], imported_by=imported_by, model=model
            )
        except IntegrityError:
            existing = EvalRun.objects.get(file_sha256=hashlib.sha256(data).hexdigest())
            outcomes.append(_duplicate(name, existing.pk))
    return outcomes


def _duplicate(name: str, run_pk: int) -> ImportOutcome:
    return ImportOutcome(
        name, "duplicate", f"already imported as run {run_pk}; nothing new", EvalRun(pk=run_pk)
    )


def _imported(name: str, parsed: ParsedRun, model: LanguageModel, run: EvalRun) -> ImportOutcome:
    groups = sum(1 for m in parsed.metrics if m.is_group)
    return ImportOutcome(
        name,
        "imported",
        f"imported as run {run.pk} of {model.name}: {len(parsed.metrics)} metric rows "
        f"({groups} for groups), lm-eval {parsed.lm_eval_version or parsed.format}",
        run,
    )


def _parse_and_match(name, data, model, matcher):
    """(an error outcome, or None with the parsed run and its catalog model)."""
    try:
        parsed = parse_result_file(name, data, max_bytes=settings.IMPORT_MAX_BYTES)
    except ImportProblem as problem:
        return ImportOutcome(name, "error", str(problem)), None, None
    matched = model or matcher.match(parsed)
    if matched is None:
        names = ", ".join(model_name_candidates(parsed)[:3]) or "no model name"
        message = (
            f"no catalog model matches {names}; choose the model it belongs to "
            "(--model NAME on the command line)."
        )
        return ImportOutcome(name, "error", message), None, None
    return None, parsed, matched


@transaction.atomic
def _store_all(pending, *, by) -> list[EvalRun]:
    # One INSERT per run: a bulk insert would send the large raw JSON through PostgreSQL's
    # array literal quoting, which costs more than the round trips it saves.
    runs = []
    for _, name, sha256, parsed, model in pending:
        run = _run_for(parsed, file_name=name, sha256=sha256, model=model, by=by)
        run.save(force_insert=True)
        runs.append(run)
    metric_rows_store(
        (run.pk, row)
        for (_, _, _, parsed, _), run in zip(pending, runs, strict=True)
        for row in parsed.metrics
    )
    return runs


def _run_for(parsed: ParsedRun, *, file_name: str, sha256: str, model, by) -> EvalRun:
    limit = parsed.limit if isinstance(parsed.limit, int) and parsed.limit >= 1 else None
    return EvalRun(
        origin=RunOrigin.IMPORT,
        model=model,
        raw=parsed.raw,
        lm_eval_version=parsed.lm_eval_version or "",
        transformers_version=parsed.transformers_version or "",
        backend=(parsed.backend or "")[:40],
        model_args=parsed.model_args,
        num_fewshot=parsed.num_fewshot,
        limit=limit,
        task_versions=parsed.task_versions,
        task_hashes=parsed.task_hashes,
        file_name=file_name[:500],
        file_sha256=sha256,
        file_format=parsed.format,
        imported_by=by,
    )


# ---------------------------------------------------------------- domain evaluation sets


class DomainSetError(ApplicationError):
    """An evaluation set that cannot be stored; `errors` lists each line's problem."""

    def __init__(self, message: str, errors: list[str]):
        super().__init__(message, extra={"errors": errors})
        self.errors = errors


def domain_set_upload(
    *, name: str, description: str, data: bytes, uploaded_by: AbstractBaseUser | None
) -> tuple[DomainEvalSet, bool]:
    """Validate every line and store the set as a new version; (set, created).

    Uploading the same content under the same name again returns the existing version."""
    name = name.strip()
    if not name:
        raise DomainSetError("Give the evaluation set a name.", [])
    if "\x00" in name or "\x00" in description:
        raise DomainSetError("The name and description cannot contain NUL characters.", [])
    try:
        content = parse_domain_set(data, max_bytes=settings.IMPORT_MAX_BYTES)
    except DomainSetInvalid as invalid:
        raise DomainSetError(
            f"The set has {len(invalid.errors)} problem(s); nothing was stored.", invalid.errors
        ) from invalid
    existing = DomainEvalSet.objects.filter(name=name, content_hash=content.content_hash).first()
    if existing is not None:
        return existing, False
    domain_set = DomainEvalSet(
        name=name,
        description=description.strip(),
        kind=content.kind,
        rows=content.rows,
        n_rows=content.n_rows,
        content_hash=content.content_hash,
        task_name=task_name_for(name, content.content_hash),
        uploaded_by=uploaded_by,
    )
    domain_set.full_clean()
    domain_set.save()
    return domain_set, True


def read_result_path(path: Path) -> list[tuple[str, bytes]]:
    """The result files under `path` (a file or an --output_path folder tree), read."""
    from .importers import iter_result_files

    return [(str(file), file.read_bytes()) for file in iter_result_files(path)]
