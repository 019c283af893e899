"""Failed logins are rate-limited per username and client address (accounts/ratelimit.py)."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from accounts import roles

from ..factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"


@pytest.fixture
def user():
    return UserFactory(username="alice", role=roles.ENGINEERS)


def _login(client: Client, username: str, password: str, *, url: str = "login", address=None):
    extra = {"REMOTE_ADDR": address} if address else {}
    return client.post(reverse(url), {"username": username, "password": password}, **extra)


def _fail(client: Client, username: str, times: int, **kw) -> None:
    for _ in range(times):
        response = _login(client, username, "wrong-password", **kw)
        assert response.status_code == 200  # the form again, "didn't match"


def test_the_sixth_attempt_after_five_failures_is_refused_with_a_clear_message(client, user):
    _fail(client, "alice", 5)

    response = _login(client, "alice", PASSWORD)  # even the right password

    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed logins for this username from your address" in page
    assert "Wait 15 minutes" in page
    assert "_auth_user_id" not in client.session


def test_four_failures_do_not_lock_and_a_success_clears_the_count(client, user):
    _fail(client, "alice", 4)
    assert _login(client, "alice", PASSWORD).status_code == 302
    client.post(reverse("logout"))

    _fail(client, "alice", 4)

    assert _login(client, "alice", PASSWORD).status_code == 302


def test_the_lock_is_per_username_and_address(client, user):
    UserFactory(username="bob", role=roles.ENGINEERS)
    _fail(client, "alice", 5, address="10.0.0.1")

    assert _login(Client(), "alice", PASSWORD, address="10.0.0.2").status_code == 302
    assert _login(Client(), "bob", PASSWORD, address="10.0.0.1").status_code == 302
    assert _login(Client(), "alice", PASSWORD, address="10.0.0.1").status_code == 429


def test_case_does_not_buy_more_attempts(client, user):
    _fail(client, "alice", 3)
    _fail(client, "ALICE", 2)

    assert _login(client, "alice", PASSWORD).status_code == 429


def test_unknown_usernames_are_limited_too(client):
    _fail(client, "nobody", 5)

    assert _login(client, "nobody", "whatever").status_code == 429


def test_the_admin_login_counts_and_is_limited_alike(client, user):
    user.is_staff = True
    user.save()
    _fail(client, "alice", 5, url="admin:login")

    site = _login(client, "alice", PASSWORD)
    admin_page = _login(client, "alice", PASSWORD, url="admin:login")

    assert site.status_code == admin_page.status_code == 429
    assert "Too many failed logins" in admin_page.content.decode()


def test_the_lock_ends_when_the_window_has_passed(client, user, settings):
    settings.LOGIN_RATE_LIMIT_WINDOW_S = 1
    _fail(client, "alice", 5)
    assert _login(client, "alice", PASSWORD).status_code == 429

    time.sleep(1.2)

    assert _login(client, "alice", PASSWORD).status_code == 302


def test_the_limit_is_a_setting(client, user, settings):
    settings.LOGIN_RATE_LIMIT_FAILURES = 2
    _fail(client, "alice", 2)

    assert _login(client, "alice", PASSWORD).status_code == 429
