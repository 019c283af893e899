"""Queue an evaluation job from the shell, and optionally wait for its results."""

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.errors import ApplicationError
from evaluations import selectors, services
from evaluations.models import Device, EvalJob, JobStatus, RequestedVia
from evaluations.specs import JobSpec, parse_model_args

POLL_INTERVAL_S = 1.0


class Command(BaseCommand):
    help = (
        "Queue an lm-eval job for a catalog model. Prints the job id, its queue and whether an "
        "identical finished job answered it; with --wait, follows it and prints its metrics."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", required=True, help="Catalog model key or name.")
        parser.add_argument("--tasks", required=True, help="lm-eval task names, comma-separated.")
        parser.add_argument(
            "--backend",
            default="hf",
            help="hf, vllm, local-completions or openai-chat-completions.",
        )
        parser.add_argument(
            "--model-args",
            default="",
            help="lm-eval's form: pretrained=org/name,dtype=bfloat16. Never API keys.",
        )
        parser.add_argument("--device", choices=Device.values, default=JobSpec.device)
        parser.add_argument("--shots", type=int, default=JobSpec.num_fewshot)
        parser.add_argument("--limit", type=int, default=JobSpec.limit, help="Documents per task.")
        parser.add_argument("--batch-size", type=int, default=JobSpec.batch_size)
        parser.add_argument("--seed", type=int, default=JobSpec.seed)
        parser.add_argument(
            "--chat-template", action="store_true", help="Apply the model's chat template."
        )
        parser.add_argument(
            "--priority", type=int, default=JobSpec.priority, help="0 (first) to 9 (last)."
        )
        parser.add_argument(
            "--force", action="store_true", help="Run even if an identical finished job exists."
        )
        parser.add_argument("--user", help="Username to record as the requester.")
        parser.add_argument(
            "--wait", action="store_true", help="Follow the job until it ends; print its metrics."
        )
        parser.add_argument(
            "--timeout", type=float, help="With --wait: give up after this many seconds."
        )

    def handle(self, *args, **options):
        requested_by = self._requester(options["user"])
        try:
            spec = JobSpec(
                model_key=options["model"],
                backend=options["backend"],
                tasks=tuple(options["tasks"].split(",")),
                model_args=parse_model_args(options["model_args"]),
                num_fewshot=options["shots"],
                limit=options["limit"],
                batch_size=options["batch_size"],
                seed=options["seed"],
                apply_chat_template=options["chat_template"],
                device=options["device"],
                priority=options["priority"],
            )
            job = services.eval_job_create(
                spec=spec,
                requested_by=requested_by,
                requested_via=RequestedVia.CLI,
                force=options["force"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc

        if job.reused_from_id:
            self.stdout.write(
                f"Job {job.pk}: reused the results of job {job.reused_from_id} (identical spec); "
                "use --force to run it again."
            )
        else:
            self.stdout.write(
                f"Job {job.pk} queued on queue '{job.queue}' (priority {job.priority}); not reused."
            )
        if options["wait"]:
            self._wait(job, timeout=options["timeout"])

    def _requester(self, username: str | None):
        if not username:
            return None
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {username!r}.")
        if not user.has_perm("evaluations.add_evaljob"):
            raise CommandError(f"User {username!r} may not queue evaluation jobs (role).")
        return user

    def _wait(self, job: EvalJob, *, timeout: float | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        last = None
        while True:
            job.refresh_from_db()
            line = f"{job.get_status_display()} {job.progress_percent}%"
            if job.progress_total:
                line += f" ({job.progress_done}/{job.progress_total} requests)"
            if line != last:
                self.stdout.write(line)
                last = line
            if job.is_finished:
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise CommandError(
                    f"Timed out after {timeout:g} s; job {job.pk} is still "
                    f"{job.get_status_display().lower()} (it goes on without this command)."
                )
            time.sleep(POLL_INTERVAL_S)

        if job.status != JobStatus.SUCCEEDED:
            detail = f": {job.error}" if job.error else "."
            raise CommandError(f"Job {job.pk} {job.get_status_display().lower()}{detail}")
        self._print_metrics(selectors.eval_job_detail(pk=job.pk))

    def _print_metrics(self, job: EvalJob) -> None:
        run = selectors.job_run(job)
        metrics = list(run.metrics.all()) if run else []
        if not metrics:
            self.stdout.write("No metrics were stored.")
            return
        rows = [("task", "metric", "filter", "value ± stderr")]
        for m in metrics:
            value = f"{m.value:.4f}" + (f" ± {m.stderr:.4f}" if m.stderr is not None else "")
            rows.append((m.task, m.metric, m.filter, value))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for task, metric, filter_, value in rows:
            self.stdout.write(
                f"{task:<{widths[0]}}  {metric:<{widths[1]}}  {filter_:<{widths[2]}}  {value}"
            )
        self.stdout.write(
            f"lm-eval {run.lm_eval_version or '?'}, run {run.pk} on "
            f"{run.worker_host or '?'} ({run.device or '?'})."
        )
