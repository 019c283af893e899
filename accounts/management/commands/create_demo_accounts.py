from django.core.management.base import BaseCommand, CommandError

from accounts.services import demo_accounts_ensure
from config.errors import ApplicationError


class Command(BaseCommand):
    help = "Create one demo account per role (embedded default only)."

    def handle(self, *args, **options):
        try:
            accounts = demo_accounts_ensure()
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write("Demo accounts (embedded default only):")
        for account in accounts:
            self.stdout.write(f"  {account.role:<18} {account.username} / {account.password}")
