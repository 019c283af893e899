from django.core.management.base import BaseCommand

from evaluations.demo import DEMO_TASKS, demo_model_ensure


class Command(BaseCommand):
    help = "Build the tiny offline demo model (once) and register it in the catalog."

    def handle(self, *args, **options):
        model = demo_model_ensure()
        self.stdout.write(
            f"Demo model {model.key!r} ({model.parameters:,} parameters) at {model.hf_repo}.\n"
            f"Queue a job: python manage.py queue_eval --model {model.key} "
            f"--tasks {','.join(DEMO_TASKS)} --device cpu "
            f"--model-args pretrained={model.hf_repo} --wait"
        )
