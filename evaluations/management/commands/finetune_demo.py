from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from config.errors import ApplicationError
from evaluations.finetune_demo import finetune_demo_run


class Command(BaseCommand):
    help = (
        "Finetune the tiny demo model on a synthetic domain dataset (on the CPU, in seconds), "
        "upload the held-out part as a domain evaluation set and register the checkpoint. "
        "Running it again reuses what exists."
    )

    def handle(self, *args, **options):
        try:
            outcome = finetune_demo_run(log=self.stdout.write)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        task = outcome.domain_set.task_name
        compare = reverse("evaluations:domain-set-compare", args=[outcome.domain_set.pk])
        self.stdout.write(
            f"Base:       {outcome.base.key} ({outcome.base.hf_repo})\n"
            f"Finetuned:  {outcome.checkpoint.key} ({outcome.checkpoint.hf_repo})\n"
            f"Held out:   '{outcome.domain_set.name}', {outcome.domain_set.n_rows} questions, "
            f"task {task}\n"
            "Queue both on the held-out set (a CPU worker runs each in seconds), then compare:\n"
            f"  python manage.py queue_eval --model {outcome.base.key} --tasks {task} "
            "--device cpu --wait\n"
            f"  python manage.py queue_eval --model {outcome.checkpoint.key} --tasks {task} "
            "--device cpu --wait\n"
            f"  {compare}"
        )
