"""Writes to the audit log."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import AuditEntry


def audit_record(
    *,
    action: str,
    description: str,
    actor: AbstractBaseUser | None,
    target: models.Model | None = None,
    content_type: ContentType | None = None,
    object_id: str = "",
    object_repr: str = "",
) -> AuditEntry:
    """Record that `actor` (None: a command or the system) did `action` to `target`.

    Pass either the target itself or, for one already deleted, its content type, id and repr.
    The entry is written in the caller's transaction: an action rolled back leaves no entry."""
    if target is not None:
        content_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
        object_id = str(target.pk)
        object_repr = str(target)
    if actor is not None and not actor.is_authenticated:
        actor = None
    return AuditEntry.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        action=action,
        content_type=content_type,
        object_id=str(object_id)[:64],
        object_repr=object_repr[:200],
        description=description[:500],
    )
