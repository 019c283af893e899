import csv
from dataclasses import fields

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from catalog.models import LanguageModel, SizeClass, Weights
from config.errors import ApplicationError

from . import selectors, services, uploads
from .forms import DomainSetForm, EvalJobForm, ResultImportForm
from .models import DomainEvalSet, EvalJob, EvalRun, JobStatus, RequestedVia
from .specs import JobSpecError

VIEW = "evaluations.view_evaljob"
QUEUE = "evaluations.add_evaljob"
MANAGE = "evaluations.change_evaljob"


@permission_required(VIEW, raise_exception=True)
def job_list(request: HttpRequest) -> HttpResponse:
    filters = selectors.JobFilters(
        **{f.name: request.GET.get(f.name, "").strip() for f in fields(selectors.JobFilters)}
    )
    jobs = selectors.eval_job_list(filters=filters)[:200]
    return render(
        request,
        "evaluations/job_list.html",
        {
            "jobs": jobs,
            "filters": filters,
            "statuses": JobStatus.choices,
            "models": LanguageModel.objects.filter(eval_jobs__isnull=False)
            .distinct()
            .order_by("name"),
        },
    )


@permission_required(QUEUE, raise_exception=True)
def job_create(request: HttpRequest) -> HttpResponse:
    form = EvalJobForm(request.POST or None, initial={"model": request.GET.get("model")})
    if request.method == "POST" and form.is_valid():
        try:
            job = services.eval_job_create(
                spec=form.spec(),
                requested_by=request.user,
                requested_via=RequestedVia.WEB,
                force=form.cleaned_data["force"],
            )
        except JobSpecError as exc:
            if not form.errors:
                form.add_spec_error(exc)
        else:
            if job.reused_from_id:
                messages.info(
                    request,
                    f"An identical job (#{job.reused_from_id}) has finished: its results are "
                    "shown. Tick 'Run again' to evaluate anew.",
                )
            else:
                messages.success(request, f"Job #{job.pk} is queued on the {job.queue} queue.")
            return redirect("evaluations:job-detail", pk=job.pk)
    return render(request, "evaluations/job_form.html", {"form": form})


@permission_required(VIEW, raise_exception=True)
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        job = selectors.eval_job_detail(pk=pk)
    except EvalJob.DoesNotExist as exc:
        raise Http404("No such job.") from exc
    context = {"job": job, "run": selectors.job_run(job)}
    if request.htmx and request.htmx.target == f"job-{job.pk}-live":
        response_class = HttpResponseStopPolling if job.is_finished else HttpResponse
        response = render(request, "evaluations/job_detail.html#live", context)
        return response_class(response.content)
    return render(request, "evaluations/job_detail.html", context)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(EvalJob, pk=pk)
    try:
        job = services.eval_job_cancel(job=job)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        note = "cancelled" if job.status == JobStatus.CANCELLED else "asked to stop"
        messages.success(request, f"Job #{job.pk} {note}.")
    return redirect("evaluations:job-detail", pk=pk)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(EvalJob.objects.select_related("model"), pk=pk)
    try:
        retry = services.eval_job_retry(
            job=job, requested_by=request.user, requested_via=RequestedVia.WEB
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("evaluations:job-detail", pk=pk)
    messages.success(request, f"Job #{retry.pk} queued as a retry of #{job.pk}.")
    return redirect("evaluations:job-detail", pk=retry.pk)


@permission_required(VIEW, raise_exception=True)
def job_compare(request: HttpRequest) -> HttpResponse:
    ids = []
    for value in request.GET.getlist("jobs"):
        ids += [int(part) for part in value.replace(" ", ",").split(",") if part.isdigit()]
    jobs, rows = selectors.job_comparison(job_ids=ids)
    if request.GET.get("format") == "csv":
        return _comparison_csv(jobs, rows)
    return render(request, "evaluations/job_compare.html", {"jobs": jobs, "rows": rows})


def _comparison_csv(jobs, rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="rightsize-comparison.csv"'
    writer = csv.writer(response)
    header = ["task", "metric", "filter"]
    for job in jobs:
        header += [f"job {job.pk} {job.model.name}", f"job {job.pk} stderr"]
    writer.writerow(header)
    for row in rows:
        line = [row.task, row.metric, row.filter]
        for cell in row.cells:
            line += (
                ["", ""]
                if cell is None
                else [cell.value, "" if cell.stderr is None else cell.stderr]
            )
        writer.writerow(line)
    return response


@permission_required(VIEW, raise_exception=True)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(
        EvalRun.objects.select_related("model", "job", "imported_by").prefetch_related("metrics"),
        pk=pk,
    )
    if run.job_id:
        return redirect("evaluations:job-detail", pk=run.job_id)
    return render(request, "evaluations/run_detail.html", {"run": run})


@permission_required(VIEW, raise_exception=True)
def model_runs(request: HttpRequest, key: str) -> HttpResponse:
    model = get_object_or_404(LanguageModel, key=key)
    runs = selectors.model_run_history(model_key=key)
    return render(request, "evaluations/model_runs.html", {"model": model, "runs": runs})


@permission_required(VIEW, raise_exception=True)
def results_matrix(request: HttpRequest) -> HttpResponse:
    filters = selectors.MatrixFilters(
        **{f.name: request.GET.get(f.name, "").strip() for f in fields(selectors.MatrixFilters)}
    )
    tasks, rows = selectors.results_matrix(filters=filters)
    return render(
        request,
        "evaluations/matrix.html",
        {
            "tasks": tasks,
            "rows": rows,
            "filters": filters,
            "size_classes": SizeClass.choices,
            "weights_choices": Weights.choices,
        },
    )


@permission_required("evaluations.add_evalrun", raise_exception=True)
def results_import(request: HttpRequest) -> HttpResponse:
    # Bound on every POST, even one with no field at all, so that it says what is missing.
    posted = request.method == "POST"
    form = ResultImportForm(request.POST if posted else None, request.FILES if posted else None)
    outcomes = None
    if request.method == "POST" and form.is_valid():
        outcomes = uploads.result_files_import(
            files=[(f.name, f.read()) for f in form.cleaned_data["files"]],
            imported_by=request.user,
            model=form.cleaned_data["model"],
        )
    return render(request, "evaluations/results_import.html", {"form": form, "outcomes": outcomes})


@permission_required("evaluations.view_domainevalset", raise_exception=True)
def domain_sets(request: HttpRequest) -> HttpResponse:
    can_upload = request.user.has_perm("evaluations.add_domainevalset")
    posted = request.method == "POST"  # bound on every POST, as in results_import
    form = DomainSetForm(request.POST if posted else None, request.FILES if posted else None)
    errors: list[str] = []
    if request.method == "POST":
        if not can_upload:
            raise PermissionDenied
        if form.is_valid():
            try:
                domain_set, created = uploads.domain_set_upload(
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    data=form.cleaned_data["file"].read(),
                    uploaded_by=request.user,
                )
            except uploads.DomainSetError as exc:
                form.add_error("file", exc.message)
                errors = exc.errors
            else:
                note = "stored" if created else "already stored (same content)"
                messages.success(
                    request,
                    f"{domain_set.name}: {domain_set.n_rows} questions {note}; queue it as "
                    f"the task {domain_set.task_name}.",
                )
                return redirect("evaluations:domain-sets")
    return render(
        request,
        "evaluations/domain_sets.html",
        {
            "form": form,
            "errors": errors,
            "can_upload": can_upload,
            "sets": DomainEvalSet.objects.select_related("uploaded_by"),
        },
    )
