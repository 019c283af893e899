"""Login rate limit: too many failed logins for one username from one address, and that pair
must wait.

Failures are counted in Django's cache per (username, client address), for the site's login
and the admin's alike (both call `authenticate`, which sends `user_login_failed`). After
LOGIN_RATE_LIMIT_FAILURES failures, each within LOGIN_RATE_LIMIT_WINDOW_S of the one before,
a login POST for that pair is answered 429 with the login form and a message, without checking
the password, until the window has passed. A successful login clears the count.

The client address is REMOTE_ADDR: behind a proxy that is the proxy's, and the limit becomes
one per username."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

# The views whose POST checks a password (URL names, as resolved).
LOGIN_VIEW_NAMES = frozenset({"login", "admin:login"})


def _key(username: str, request: HttpRequest | None) -> str:
    address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    pair = f"{username.strip().casefold()}\n{address}"
    return "login-failures:" + hashlib.sha256(pair.encode()).hexdigest()


def login_failures(username: str, request: HttpRequest | None) -> int:
    return cache.get(_key(username, request), 0)


def login_locked(username: str, request: HttpRequest | None) -> bool:
    return login_failures(username, request) >= settings.LOGIN_RATE_LIMIT_FAILURES


def locked_message() -> str:
    minutes = max(1, round(settings.LOGIN_RATE_LIMIT_WINDOW_S / 60))
    return (
        f"Too many failed logins for this username from your address. Wait {minutes} "
        "minutes, then try again (or ask a catalog admin to reset your password)."
    )


@receiver(user_login_failed, dispatch_uid="accounts-count-login-failure")
def count_login_failure(sender, credentials: dict, request: HttpRequest | None = None, **kwargs):
    key = _key(str(credentials.get("username") or ""), request)
    window = settings.LOGIN_RATE_LIMIT_WINDOW_S
    cache.add(key, 0, window)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
    cache.touch(key, window)


@receiver(user_logged_in, dispatch_uid="accounts-clear-login-failures")
def clear_login_failures(sender, request: HttpRequest | None, user, **kwargs):
    cache.delete(_key(user.get_username(), request))


class LoginRateLimitMiddleware:
    """Answers a login POST for a locked (username, address) pair with the login page, 429.

    Goes after MessageMiddleware (the page says why through a message) and after
    CsrfViewMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if request.method != "POST" or match is None or match.view_name not in LOGIN_VIEW_NAMES:
            return None
        if not login_locked(request.POST.get("username", ""), request):
            return None
        messages.error(request, locked_message())
        # Show the login form again as a GET would, so no password is checked.
        request.method = "GET"
        response = view_func(request, *view_args, **view_kwargs)
        response.status_code = 429
        return response
