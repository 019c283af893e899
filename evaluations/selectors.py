"""Reads for evaluation jobs and their results, in a bounded number of queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Prefetch, QuerySet, Value, When

from .models import EvalJob, EvalRun, MetricResult


@dataclass(frozen=True)
class JobFilters:
    model: str = ""  # catalog key
    status: str = ""
    task: str = ""
    engineer: str = ""  # username


def eval_job_list(*, filters: JobFilters) -> QuerySet[EvalJob]:
    jobs = EvalJob.objects.select_related("model", "requested_by")
    if filters.model:
        jobs = jobs.filter(model__key=filters.model)
    if filters.status:
        jobs = jobs.filter(status=filters.status)
    if filters.task:
        # The JSON text of the task list holds the name in quotes (works on SQLite too).
        jobs = jobs.filter(tasks__icontains=f'"{filters.task}"')
    if filters.engineer:
        jobs = jobs.filter(requested_by__username=filters.engineer)
    return jobs


def _with_results() -> list:
    metrics = MetricResult.objects.order_by("is_group", "task", "metric", "filter")
    runs = EvalRun.objects.prefetch_related(Prefetch("metrics", queryset=metrics))
    return [
        Prefetch("run", queryset=runs),
        Prefetch("reused_from__run", queryset=runs),
    ]


def eval_job_detail(*, pk: int) -> EvalJob:
    """One job with its model, its results (or those of the job it reused) and its links."""
    return (
        EvalJob.objects.select_related("model", "requested_by", "reused_from", "retry_of")
        .prefetch_related(*_with_results(), "retries")
        .get(pk=pk)
    )


def job_run(job: EvalJob) -> EvalRun | None:
    """The run holding `job`'s results: its own, or the reused job's."""
    source = job.result_job
    try:
        return source.run
    except EvalRun.DoesNotExist:
        return None


@dataclass
class ComparisonRow:
    task: str
    metric: str
    filter: str
    cells: list[MetricResult | None]


def job_comparison(*, job_ids: Sequence[int]) -> tuple[list[EvalJob], list[ComparisonRow]]:
    """The jobs side by side: one row per (task, metric, filter), one cell per job."""
    jobs_by_id = {
        job.pk: job
        for job in EvalJob.objects.select_related("model", "reused_from")
        .prefetch_related(*_with_results())
        .filter(pk__in=job_ids)
    }
    jobs = [jobs_by_id[pk] for pk in dict.fromkeys(job_ids) if pk in jobs_by_id]
    by_key: dict[tuple[str, str, str], list[MetricResult | None]] = {}
    for column, job in enumerate(jobs):
        run = job_run(job)
        for metric in run.metrics.all() if run else []:
            key = (metric.task, metric.metric, metric.filter)
            by_key.setdefault(key, [None] * len(jobs))[column] = metric
    rows = [ComparisonRow(*key, cells=cells) for key, cells in sorted(by_key.items())]
    return jobs, rows


# ---------------------------------------------------------------- evidence and the matrix

# The headline metric of a task, in order of preference (lm-eval's filter "none" first).
PRIMARY_METRICS = ("acc", "exact_match", "acc_norm", "pass@1", "pass_at_1", "f1", "mc2", "bleu")


@dataclass(frozen=True)
class EvidenceItem:
    """One score for a model on a task: measured by a run, or reported by a source."""

    model_id: int
    task: str
    value: float
    stderr: float | None
    kind: str  # "measured" | "reported"
    metric: str
    shots: int | None
    source_label: str  # "run 12 (job 7)" or the source's title and locator
    source_url: str  # a page in Rightsize for a run; the source's URL for a report
    run_id: int | None = None
    reported_score_id: int | None = None

    @property
    def measured(self) -> bool:
        return self.kind == "measured"


def measured_evidence(*, model_ids: Sequence[int], tasks: Sequence[str] | None = None) -> dict:
    """The latest run's headline metric per (model, task). One query: on PostgreSQL the
    database picks the row (DISTINCT ON), elsewhere Python does."""
    from django.db import connection
    from django.urls import reverse

    metrics = MetricResult.objects.filter(run__model_id__in=model_ids)
    if tasks:
        metrics = metrics.filter(task__in=tasks)
    metrics = metrics.annotate(
        metric_rank=Case(
            *(When(metric=name, then=Value(rank)) for rank, name in enumerate(PRIMARY_METRICS)),
            default=Value(len(PRIMARY_METRICS)),
            output_field=IntegerField(),
        ),
        filter_rank=Case(
            When(filter__in=("none", "strip"), then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
    ).order_by("run__model_id", "task", "-run__created_at", "-run_id", "metric_rank", "filter_rank")
    if connection.vendor == "postgresql":
        metrics = metrics.distinct("run__model_id", "task")
    rows = metrics.values(
        "run_id", "run__model_id", "run__job_id", "run__file_name", "task", "metric",
        "value", "stderr", "shots",
    )  # fmt: skip
    evidence = {}
    for row in rows:
        key = (row["run__model_id"], row["task"])
        if key in evidence:  # not PostgreSQL: the first row per key is the one
            continue
        if row["run__job_id"]:
            label = f"run {row['run_id']} (job #{row['run__job_id']})"
            url = reverse("evaluations:job-detail", args=[row["run__job_id"]])
        else:
            label = f"run {row['run_id']} (imported {row['run__file_name']})"
            url = reverse("evaluations:run-detail", args=[row["run_id"]])
        evidence[key] = EvidenceItem(
            model_id=key[0], task=key[1], value=row["value"], stderr=row["stderr"],
            kind="measured", metric=row["metric"], shots=row["shots"], source_label=label,
            source_url=url, run_id=row["run_id"],
        )  # fmt: skip
    return evidence


def reported_evidence(*, model_ids: Sequence[int], tasks: Sequence[str] | None = None) -> dict:
    """The best reported score per (model, benchmark), with its source, in one query."""
    from catalog.models import ReportedScore

    scores = ReportedScore.objects.filter(model_id__in=model_ids).select_related("source")
    if tasks:
        scores = scores.filter(benchmark__in=tasks)
    evidence: dict[tuple[int, str], EvidenceItem] = {}
    for score in scores.order_by("model_id", "benchmark", "-value", "pk"):
        key = (score.model_id, score.benchmark)
        if key in evidence:
            continue
        evidence[key] = EvidenceItem(
            model_id=score.model_id, task=score.benchmark, value=float(score.value),
            stderr=None, kind="reported", metric=score.metric, shots=score.shots,
            source_label=f"{score.source.title}, {score.locator}", source_url=score.source.url,
            reported_score_id=score.pk,
        )  # fmt: skip
    return evidence


def best_evidence(*, model_ids: Sequence[int], tasks: Sequence[str] | None = None) -> dict:
    """Per (model, task): measured when there is a run, else reported. Two queries."""
    return {
        **reported_evidence(model_ids=model_ids, tasks=tasks),
        **measured_evidence(model_ids=model_ids, tasks=tasks),
    }


@dataclass(frozen=True)
class MatrixFilters:
    size_class: str = ""
    weights: str = ""
    task: str = ""  # show only this task's column
    sort: str = ""  # "name", "-parameters", or a task name (best first)


@dataclass
class MatrixRow:
    model: object  # catalog LanguageModel with size_class annotated
    cells: list[EvidenceItem | None]


def results_matrix(*, filters: MatrixFilters) -> tuple[list[str], list[MatrixRow]]:
    """Models by tasks, each cell the best evidence; a fixed number of queries."""
    from catalog.models import LanguageModel
    from catalog.selectors import catalog_settings_get, with_size_class

    models = with_size_class(LanguageModel.objects.all(), catalog_settings_get())
    if filters.size_class:
        models = models.filter(size_class=filters.size_class)
    if filters.weights:
        models = models.filter(weights=filters.weights)
    models = list(models.order_by("name"))
    ids = [m.pk for m in models]
    tasks_filter = [filters.task] if filters.task else None
    evidence = best_evidence(model_ids=ids, tasks=tasks_filter)
    tasks = sorted({task for _, task in evidence})
    rows = [
        MatrixRow(model=m, cells=[evidence.get((m.pk, task)) for task in tasks])
        for m in models
        if any((m.pk, task) in evidence for task in tasks) or not filters.task
    ]
    if filters.sort in tasks:
        column = tasks.index(filters.sort)
        rows.sort(
            key=lambda r: (
                r.cells[column] is None,
                -(r.cells[column].value if r.cells[column] else 0),
            )
        )
    elif filters.sort == "-parameters":
        rows.sort(key=lambda r: (r.model.parameters is None, -(r.model.parameters or 0)))
    return tasks, rows


def model_run_history(*, model_key: str):
    """Every run of a model, newest first, with its metrics."""
    metrics = MetricResult.objects.order_by("is_group", "task", "metric", "filter")
    return (
        EvalRun.objects.filter(model__key=model_key)
        .select_related("job", "imported_by")
        .prefetch_related(Prefetch("metrics", queryset=metrics))
        .order_by("-created_at", "-pk")
    )
