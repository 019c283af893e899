"""The evaluation-job endpoints of the JSON API (mounted at /api/jobs by config/api.py).

Handlers only translate: request schema -> JobSpec -> service, and job -> response schema."""

from datetime import datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.errors import AuthorizationError
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate
from pydantic import ConfigDict

from catalog.models import LanguageModel

from . import selectors, services, uploads
from .models import EvalJob, EvalRun, JobStatus, RequestedVia
from .specs import JobSpec

VIEW = "evaluations.view_evaljob"
QUEUE = "evaluations.add_evaljob"
MANAGE = "evaluations.change_evaljob"

router = Router(tags=["jobs"])


class BoundedPages(PageNumberPagination):
    """Page numbers past any real list are refused (422), not turned into a database error."""

    class Input(PageNumberPagination.Input):
        page: int = Field(1, ge=1, le=1_000_000)


ModelArgValue = bool | int | float | str


class Error(Schema):
    detail: str


class SpecError(Schema):
    detail: str
    field: str = Field(description="The field to fix: model, backend, tasks, model_args, ...")


class JobIn(Schema):
    """What to evaluate. Defaults are JobSpec's, the same as the web form's and queue_eval's."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="A catalog model's key or name.")
    backend: str = Field(
        "hf", description="hf, vllm, local-completions or openai-chat-completions."
    )
    tasks: list[str] = Field(description="lm-eval task names.")
    model_args: dict[str, ModelArgValue] = Field(
        default_factory=dict,
        description='lm-eval model arguments, e.g. {"pretrained": "org/name", '
        '"dtype": "bfloat16"}. Never API keys: workers read those from their environment.',
    )
    num_fewshot: int | None = Field(JobSpec.num_fewshot, description="Shots; empty for the task's.")
    limit: int | None = Field(JobSpec.limit, description="Documents per task; empty for all.")
    batch_size: int = JobSpec.batch_size
    seed: int = JobSpec.seed
    apply_chat_template: bool = JobSpec.apply_chat_template
    device: str = Field(JobSpec.device, description="cuda or cpu (hf); empty for the default.")
    priority: int = Field(JobSpec.priority, description="0 (first) to 9 (last).")
    force: bool = Field(False, description="Run again even if an identical finished job exists.")

    def spec(self) -> JobSpec:
        return JobSpec(
            model_key=self.model,
            backend=self.backend,
            tasks=tuple(self.tasks),
            model_args=dict(self.model_args),
            num_fewshot=self.num_fewshot,
            limit=self.limit,
            batch_size=self.batch_size,
            seed=self.seed,
            apply_chat_template=self.apply_chat_template,
            device=self.device,
            priority=self.priority,
        )


class JobFilterIn(Schema):
    status: JobStatus | None = None
    model: str | None = Field(None, description="A catalog model's key.")
    task: str | None = Field(None, description="Jobs that include this lm-eval task.")

    def filters(self) -> selectors.JobFilters:
        return selectors.JobFilters(
            status=self.status or "", model=self.model or "", task=self.task or ""
        )


class JobSpecOut(Schema):
    model: str = Field(alias="model.key")
    model_name: str = Field(alias="model.name")
    backend: str
    tasks: list[str]
    model_args: dict[str, ModelArgValue]
    num_fewshot: int | None
    limit: int | None
    batch_size: int
    seed: int
    apply_chat_template: bool
    device: str
    priority: int


class JobOut(Schema):
    id: int
    spec: JobSpecOut
    queue: str
    forced: bool
    status: JobStatus
    progress_done: int
    progress_total: int
    progress_percent: int
    cancel_requested: bool
    error: str
    reused_from: int | None = Field(alias="reused_from_id")
    retry_of: int | None = Field(alias="retry_of_id")
    requested_by: str | None
    requested_via: RequestedVia
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @staticmethod
    def resolve_spec(job: EvalJob) -> EvalJob:
        return job

    @staticmethod
    def resolve_requested_by(job: EvalJob) -> str | None:
        return job.requested_by.get_username() if job.requested_by else None


class MetricOut(Schema):
    task: str
    metric: str
    filter: str
    value: float
    stderr: float | None
    n_samples: int | None
    shots: int | None


class RunOut(Schema):
    """Where the results come from: enough to trust them or run them again."""

    id: int
    job: int | None = Field(alias="job_id", description="The job that ran (maybe a reused one).")
    lm_eval_version: str
    transformers_version: str
    torch_version: str
    model_sha: str
    model_dtype: str
    device: str
    worker_host: str
    task_versions: dict
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None


class JobDetailOut(JobOut):
    run: RunOut | None = Field(description="The run holding the results; null until there is one.")
    results: list[MetricOut]

    @staticmethod
    def resolve_run(job: EvalJob) -> EvalRun | None:
        return selectors.job_run(job)

    @staticmethod
    def resolve_results(job: EvalJob) -> list:
        run = selectors.job_run(job)
        return list(run.metrics.all()) if run else []


def _require(request: HttpRequest, permission: str) -> None:
    if not request.auth.has_perm(permission):
        raise AuthorizationError(message="Your role may not do this.")


def _job(pk: int) -> EvalJob:
    return get_object_or_404(selectors.eval_job_list(filters=selectors.JobFilters()), pk=pk)


@router.post("", response={201: JobOut, 403: Error, 409: Error, 422: SpecError})
def job_create(request: HttpRequest, payload: JobIn):
    """Queue a job, or answer at once from an identical finished job (unless `force`)."""
    _require(request, QUEUE)
    job = services.eval_job_create(
        spec=payload.spec(),
        requested_by=request.auth,
        requested_via=RequestedVia.API,
        force=payload.force,
    )
    return Status(201, job)


@router.get("", response={200: list[JobOut], 403: Error})
@paginate(BoundedPages, page_size=50)
def job_list(request: HttpRequest, filters: Query[JobFilterIn]):
    """Jobs, newest first."""
    _require(request, VIEW)
    return selectors.eval_job_list(filters=filters.filters())


@router.get("/{int:job_id}", response={200: JobDetailOut, 403: Error, 404: Error})
def job_detail(request: HttpRequest, job_id: int):
    """One job, with its results and their provenance once it has them."""
    _require(request, VIEW)
    try:
        return selectors.eval_job_detail(pk=job_id)
    except EvalJob.DoesNotExist:
        return Status(404, {"detail": f"No job {job_id}."})


@router.post("/{int:job_id}/cancel", response={200: JobOut, 403: Error, 404: Error, 409: Error})
def job_cancel(request: HttpRequest, job_id: int):
    """A queued job never starts; a running one is asked to stop (`cancel_requested`)."""
    _require(request, MANAGE)
    return services.eval_job_cancel(job=_job(job_id))


@router.post("/{int:job_id}/retry", response={201: JobOut, 403: Error, 404: Error, 409: Error})
def job_retry(request: HttpRequest, job_id: int):
    """Queue a failed or cancelled job again, as a new job linked by `retry_of`."""
    _require(request, MANAGE)
    job = services.eval_job_retry(
        job=_job(job_id), requested_by=request.auth, requested_via=RequestedVia.API
    )
    return Status(201, job)


# ---------------------------------------------------------------- imports and domain sets

uploads_router = Router(tags=["imports"])


class ImportOutcomeOut(Schema):
    file_name: str
    status: str = Field(description="imported, duplicate or error")
    message: str
    run_id: int | None = None


class DomainSetOut(Schema):
    id: int
    name: str
    task_name: str = Field(description="Queue jobs on this lm-eval task name.")
    kind: str
    n_rows: int
    content_hash: str
    created: bool


class DomainSetProblems(Schema):
    detail: str
    errors: list[str]


@uploads_router.post("/imports", response={200: list[ImportOutcomeOut], 403: Error, 422: Error})
def results_import(
    request: HttpRequest, files: File[list[UploadedFile]], model: Form[str | None] = None
):
    """Import lm-eval result files (0.4 or 0.3). Each file stands alone; the answer says per
    file what was imported, what was there already, and why a file was refused."""
    _require(request, "evaluations.add_evalrun")
    catalog_model = None
    if model:
        catalog_model = (
            LanguageModel.objects.filter(key=model).first()
            or LanguageModel.objects.filter(name=model).first()
        )
        if catalog_model is None:
            return Status(422, {"detail": f"No catalog model {model!r}."})
    outcomes = uploads.result_files_import(
        files=[(f.name, f.read()) for f in files], imported_by=request.user, model=catalog_model
    )
    return [
        {
            "file_name": o.file_name,
            "status": o.status,
            "message": o.describe(),
            "run_id": o.run.pk if o.run else None,
        }
        for o in outcomes
    ]


@uploads_router.post(
    "/domain-sets",
    response={201: DomainSetOut, 200: DomainSetOut, 403: Error, 422: DomainSetProblems},
)
def domain_set_create(
    request: HttpRequest,
    file: File[UploadedFile],
    name: Form[str],
    description: Form[str] = "",
):
    """Upload a JSONL domain evaluation set. Every line is checked; on any error nothing is
    stored and `errors` lists the lines."""
    _require(request, "evaluations.add_domainevalset")
    try:
        domain_set, created = uploads.domain_set_upload(
            name=name, description=description, data=file.read(), uploaded_by=request.user
        )
    except uploads.DomainSetError as exc:
        return Status(422, {"detail": exc.message, "errors": exc.errors})
    body = {
        "id": domain_set.pk,
        "name": domain_set.name,
        "task_name": domain_set.task_name,
        "kind": domain_set.kind,
        "n_rows": domain_set.n_rows,
        "content_hash": domain_set.content_hash,
        "created": created,
    }
    return Status(201 if created else 200, body)
