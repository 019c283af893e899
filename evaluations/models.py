"""Evaluation jobs and the results they store, with their provenance.

Measured results live here; reported scores (papers, model cards) live in the catalog. Every
page that shows both labels which is which."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from catalog.models import LanguageModel


class Backend(models.TextChoices):
    HF = "hf", "Hugging Face transformers (hf)"
    VLLM = "vllm", "vLLM (GPU)"
    LOCAL_COMPLETIONS = "local-completions", "OpenAI-compatible completions endpoint"
    OPENAI_CHAT = "openai-chat-completions", "OpenAI-compatible chat endpoint"


class Device(models.TextChoices):
    CUDA = "cuda", "GPU (cuda)"
    CPU = "cpu", "CPU"


class Queue(models.TextChoices):
    GPU = "gpu", "GPU nodes"
    CPU = "cpu", "CPU nodes"
    API = "api", "Remote endpoints"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class RequestedVia(models.TextChoices):
    WEB = "web", "Web form"
    API = "api", "JSON API"
    CLI = "cli", "Command line"


class EvalJob(models.Model):
    """One request to evaluate a catalog model on lm-eval tasks, and where it stands."""

    model = models.ForeignKey(LanguageModel, on_delete=models.PROTECT, related_name="eval_jobs")
    backend = models.CharField(max_length=40, choices=Backend.choices)
    model_args = models.JSONField(default=dict, blank=True)
    tasks = models.JSONField(help_text="lm-eval task names.")
    num_fewshot = models.PositiveSmallIntegerField("shots", null=True, blank=True)
    limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Documents per task; empty for all."
    )
    batch_size = models.PositiveSmallIntegerField(default=1)
    seed = models.IntegerField(default=1234)
    apply_chat_template = models.BooleanField(default=False)
    device = models.CharField(max_length=10, choices=Device.choices, blank=True)
    priority = models.PositiveSmallIntegerField(default=5, help_text="0 (first) to 9 (last).")
    queue = models.CharField(max_length=10, choices=Queue.choices)
    spec_hash = models.CharField(max_length=64, db_index=True, editable=False)
    forced = models.BooleanField(
        default=False, help_text="Run again even if an identical finished job exists."
    )

    status = models.CharField(
        max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    reused_from = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reuses"
    )
    retry_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries"
    )

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="eval_jobs",
    )
    requested_via = models.CharField(max_length=10, choices=RequestedVia.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker_host = models.CharField(max_length=200, blank=True)
    # Fault tolerance (services.eval_job_start, reconcile.py): each claim by a worker is an
    # attempt, and only the worker holding the latest attempt may write the job's outcome.
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Times a worker has claimed the job."
    )
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life from the worker running the job."
    )
    last_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When a message for the job was last sent to the broker."
    )
    messages_sent = models.PositiveSmallIntegerField(default=0)
    interrupted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the worker running the job was last seen, if lost."
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "evaluation job"
        constraints = [
            models.CheckConstraint(condition=Q(priority__lte=9), name="evaljob_priority_0_to_9"),
            models.CheckConstraint(
                condition=Q(progress_done__lte=F("progress_total")),
                name="evaljob_progress_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"Job {self.pk}: {self.model} on {', '.join(self.tasks)}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def progress_percent(self) -> int:
        if self.status == JobStatus.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return int(100 * self.progress_done / self.progress_total)

    @property
    def duration_s(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def result_job(self) -> EvalJob:
        """The job whose run holds this job's results: itself, or the one it reused."""
        return self.reused_from or self


class RunOrigin(models.TextChoices):
    JOB = "job", "Run by a Rightsize worker"
    IMPORT = "import", "Imported result file"


class EvalRun(models.Model):
    """The stored output of one lm-eval run, with everything needed to trust or repeat it:
    run by one of our workers (`job`) or imported from a result file made elsewhere."""

    origin = models.CharField(max_length=10, choices=RunOrigin.choices, default=RunOrigin.JOB)
    job = models.OneToOneField(
        EvalJob, on_delete=models.CASCADE, null=True, blank=True, related_name="run"
    )
    model = models.ForeignKey(LanguageModel, on_delete=models.PROTECT, related_name="eval_runs")
    raw = models.JSONField(help_text="lm-eval's results, as it returned them (samples dropped).")
    lm_eval_version = models.CharField(max_length=40, blank=True)
    transformers_version = models.CharField(max_length=40, blank=True)
    torch_version = models.CharField(max_length=40, blank=True)
    backend = models.CharField(max_length=40, blank=True)
    model_args = models.JSONField(default=dict, blank=True)
    model_sha = models.CharField(max_length=100, blank=True)
    model_dtype = models.CharField(max_length=40, blank=True)
    device = models.CharField(max_length=40, blank=True)
    worker_host = models.CharField(max_length=200, blank=True)
    num_fewshot = models.PositiveSmallIntegerField(null=True, blank=True)
    limit = models.PositiveIntegerField(null=True, blank=True)
    task_versions = models.JSONField(default=dict, blank=True)
    task_hashes = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Provenance of an imported run.
    file_name = models.CharField(max_length=500, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_format = models.CharField(max_length=10, blank=True, help_text="lm-eval 0.4 or 0.3")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="imported_runs",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "evaluation run"
        constraints = [
            # The same result file imported twice creates nothing new.
            models.UniqueConstraint(
                fields=["file_sha256"],
                condition=~Q(file_sha256=""),
                name="evalrun_file_imported_once",
            ),
            models.CheckConstraint(
                condition=Q(origin="job", job__isnull=False)
                | Q(origin="import", job__isnull=True, file_sha256__gt=""),
                name="evalrun_origin_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.model}"


class MetricResult(models.Model):
    """One measured value: a task (or group), a metric and lm-eval's filter."""

    run = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="metrics")
    task = models.CharField(max_length=200)
    metric = models.CharField(max_length=100)
    filter = models.CharField(max_length=100, default="none")
    value = models.FloatField()
    stderr = models.FloatField(null=True, blank=True)
    n_samples = models.PositiveIntegerField(null=True, blank=True)
    shots = models.PositiveSmallIntegerField(null=True, blank=True)
    higher_is_better = models.BooleanField(null=True, blank=True)
    is_group = models.BooleanField(default=False)

    class Meta:
        ordering = ["task", "metric", "filter"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "task", "metric", "filter"], name="metric_result_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.metric} ({self.filter}) = {self.value:.4f}"


class DomainSetKind(models.TextChoices):
    MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
    GENERATION = "generation", "Generation (exact match)"


class DomainEvalSet(models.Model):
    """An organisation's own evaluation data, one version per content hash.

    Stored in the database and written out as an lm-eval task on the worker that runs it, so
    worker nodes need no shared file system."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=DomainSetKind.choices)
    rows = models.JSONField()
    n_rows = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    task_name = models.CharField(max_length=120, unique=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="domain_eval_sets",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-created_at"]
        verbose_name = "domain evaluation set"
        constraints = [
            models.UniqueConstraint(fields=["name", "content_hash"], name="domain_set_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.n_rows} questions, {self.content_hash[:8]})"
