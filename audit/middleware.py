"""Makes the current request's user known to the audit receivers.

Signals do not carry the request; a job's cancel, say, names nobody on the row. This middleware
keeps the request in a context variable for the length of the request. It goes after
AuthenticationMiddleware; for the JSON API, the token's user is read when the receiver runs,
after django-ninja has authenticated the request."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse

_current_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


class AuditRequestMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


def current_user() -> AbstractBaseUser | None:
    """The signed-in (or token-authenticated) user of the request being served, if any."""
    request = _current_request.get()
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None and user.is_authenticated else None
