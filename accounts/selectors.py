"""Reads for accounts: API tokens."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.utils import timezone

from .models import ApiToken, api_token_digest
from .services import api_token_record_use

# last_used_at is for people ("used 3 days ago"); one write a minute per token is plenty.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def api_token_list(*, user: AbstractBaseUser) -> QuerySet[ApiToken]:
    """The user's tokens, revoked ones included, newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def api_token_get(*, pk: int) -> ApiToken:
    """One token by id (raises ApiToken.DoesNotExist); whether the caller may act on it is the
    service's decision."""
    return ApiToken.objects.select_related("user").get(pk=pk)


def api_token_authenticate(raw: str) -> AbstractBaseUser | None:
    """The active user a token belongs to, or None for an unknown, revoked or empty token, or one
    whose user is deactivated.

    Looks the token up by its hash; records the use (at most once a minute per token)."""
    if not raw:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=api_token_digest(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        api_token_record_use(token=token, at=now)
    return token.user
