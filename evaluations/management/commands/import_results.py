from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from catalog.models import LanguageModel
from evaluations.uploads import read_result_path, result_files_import


class Command(BaseCommand):
    help = (
        "Import lm-eval result files (harness 0.4 or 0.3): files, or folders as --output_path "
        "writes them. Prints per file what was imported or why not."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument(
            "--model", help="Catalog model (key or name) the results belong to, if not matched."
        )
        parser.add_argument("--user", help="Username to record as the importer.")

    def handle(self, *args, paths: list[Path], model: str | None, user: str | None, **options):
        catalog_model = None
        if model:
            catalog_model = (
                LanguageModel.objects.filter(key=model).first()
                or LanguageModel.objects.filter(name=model).first()
            )
            if catalog_model is None:
                raise CommandError(f"No catalog model {model!r}.")
        importer = None
        if user:
            importer = get_user_model().objects.filter(username=user).first()
            if importer is None:
                raise CommandError(f"No user {user!r}.")
        files = []
        for path in paths:
            if not path.exists():
                raise CommandError(f"{path}: no such file or folder.")
            found = read_result_path(path)
            if not found:
                self.stderr.write(f"{path}: no lm-eval result file found")
            files += found
        outcomes = result_files_import(files=files, imported_by=importer, model=catalog_model)
        for outcome in outcomes:
            stream = self.stdout if outcome.ok else self.stderr
            stream.write(f"{outcome.status:>9}  {outcome.describe()}")
        failed = sum(1 for o in outcomes if not o.ok)
        self.stdout.write(
            f"{len(outcomes) - failed} of {len(outcomes)} file(s) imported or already there."
        )
        if failed:
            raise CommandError(f"{failed} file(s) could not be imported (see above).")
