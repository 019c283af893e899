from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catalog.services import CatalogDataError, catalog_load_file


class Command(BaseCommand):
    help = (
        "Load the shipped catalog data file. Loading twice changes nothing; records a catalog "
        "admin edited are kept unless named with --overwrite."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=settings.CATALOG_DATA_FILE)
        parser.add_argument(
            "--overwrite",
            nargs="+",
            default=[],
            metavar="KEY",
            help="Take the data file's version of these records even if an admin edited them.",
        )

    def handle(self, *args, file: Path, overwrite: list[str], **options):
        try:
            report = catalog_load_file(path=file, overwrite=overwrite)
        except CatalogDataError as exc:
            raise CommandError(f"{exc.message} Nothing was written.") from exc
        if options["verbosity"] > 0:
            detail = options["verbosity"] > 1
            self.stdout.write(f"Catalog loaded from {file}: {report.summary(detail=detail)}")
