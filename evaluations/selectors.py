"""Reads for evaluation jobs and their results, in a bounded number of queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

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
