from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction

from config.errors import ApplicationError

from . import roles


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    staff: bool = False


DEMO_ACCOUNTS = (
    DemoAccount("pm", "rightsize-pm", roles.PROJECT_MANAGERS),
    DemoAccount("engineer", "rightsize-engineer", roles.ENGINEERS),
    DemoAccount("admin", "rightsize-admin", roles.CATALOG_ADMINS, staff=True),
)


@transaction.atomic
def demo_accounts_ensure() -> tuple[DemoAccount, ...]:
    """Create (or reset) one demo account per role. Only on the embedded default: the passwords
    are printed on the console and written in the README."""
    if not settings.RIGHTSIZE_EMBEDDED:
        raise ApplicationError(
            "Demo accounts exist only on the embedded default (config.settings.embedded)."
        )
    for account in DEMO_ACCOUNTS:
        user, _ = User.objects.get_or_create(username=account.username)
        user.set_password(account.password)
        user.is_staff = account.staff
        user.save()
        user.groups.set([Group.objects.get(name=account.role)])
    return DEMO_ACCOUNTS
