"""API tokens: how scripts and other services act as a person on the JSON API.

Only a token's SHA-256 is stored; the token itself is shown once, when it is created."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models

TOKEN_PREFIX = "rs_"
SHOWN_PREFIX_LENGTH = 8


def api_token_digest(raw: str) -> str:
    """The stored form of a token: the hex SHA-256 of the whole token."""
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the JSON API, owned by one user and acting with that user's roles."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'CI nightly'.")
    key_prefix = models.CharField(
        max_length=SHOWN_PREFIX_LENGTH,
        editable=False,
        help_text="The token's first characters, to recognise it; not enough to use it.",
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
