import datetime
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, Group, User
from django.db import transaction
from django.utils import timezone

from config.errors import ApplicationError

from . import roles
from .models import SHOWN_PREFIX_LENGTH, TOKEN_PREFIX, ApiToken, api_token_digest


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


@transaction.atomic
def api_token_create(*, user: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """Create an API token for `user`. Returns the row and the token itself, which is not
    stored anywhere (only its SHA-256 is): show it once and forget it."""
    name = name.strip()
    if not name:
        raise ApplicationError("Give the token a name, so you can tell it apart later.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name,
        key_prefix=raw[:SHOWN_PREFIX_LENGTH],
        key_hash=api_token_digest(raw),
    )
    token.full_clean()
    token.save()
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by: AbstractBaseUser) -> ApiToken:
    """Revoke `token` for good; only its owner may. Revoking it again changes nothing."""
    if token.user_id != by.pk:
        raise ApplicationError("Only the owner of an API token can revoke it.")
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_record_use(*, token: ApiToken, at: datetime.datetime) -> None:
    """Note that `token` was used at `at`, without touching anything else on the row."""
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=at)
    token.last_used_at = at
