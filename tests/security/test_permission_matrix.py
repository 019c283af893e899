"""Every URL and API endpoint against every role, generated from the URL configuration.

`EXPECTED` says what anonymous visitors, project managers, engineers and catalog admins get
from each URL name; admin URLs follow `admin_expectation`. The URL names are collected from
`get_resolver()` when the tests are collected, so a new page without an entry here fails
`test_every_url_name_has_an_expectation`, which names it. To add a page: one line in EXPECTED
(with its URL arguments from the `World` fixture, and `method="post"` for a POST-only view).

Outcomes: an HTTP status, LOGIN (a redirect to the site's login page) or ADMIN_LOGIN (to the
admin's). API endpoints are called with the role's bearer token and no session."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import ApiToken
from accounts.services import api_token_create

from .conftest import (
    ANONYMOUS,
    CATALOG_ADMIN,
    ENGINEER,
    PROJECT_MANAGER,
    ROLE_NAMES,
    World,
    make_actor,
)

LOGIN = "redirect to the login page"
ADMIN_LOGIN = "redirect to the admin's login page"
Outcome = int | str


@dataclass(frozen=True)
class Expect:
    """What each role gets from one URL, and how to call it."""

    anonymous: Outcome
    project_manager: Outcome
    engineer: Outcome
    catalog_admin: Outcome
    method: str = "get"
    # URL arguments from the world: a dict of kwargs or a tuple of positional args.
    args: Callable[[World], dict | tuple] = field(default=lambda w: {})
    query: str = ""
    body: Callable[[World], Any] | None = None  # JSON for the API; form data otherwise
    api: bool = False  # called with the role's bearer token instead of its session

    def outcome(self, role: str) -> Outcome:
        return getattr(self, role.replace(" ", "_"))


def page(pm: Outcome, engineer: Outcome, admin_: Outcome, **kw) -> Expect:
    """A page behind the login: anonymous visitors are sent to log in."""
    return Expect(LOGIN, pm, engineer, admin_, **kw)


def public(status: int = 200, **kw) -> Expect:
    return Expect(status, status, status, status, **kw)


def api(engineer: Outcome, admin_: Outcome | None = None, **kw) -> Expect:
    """An API endpoint: no token 401, a project manager's token 403."""
    return Expect(401, 403, engineer, engineer if admin_ is None else admin_, api=True, **kw)


def _job_body(world: World) -> dict:
    return {
        "model": world.model.key,
        "tasks": ["rightsize_demo_mc"],
        "model_args": {"pretrained": "org/world"},
        "device": "cpu",
        "limit": 2,
    }


def _domain_set_upload(world: World) -> dict:
    line = b'{"question": "2+2?", "answer": "4"}\n'
    return {"name": "matrix", "file": SimpleUploadedFile("set.jsonl", line)}


def _results_upload(world: World) -> dict:
    return {"files": [SimpleUploadedFile("results.json", b'{"results": {}}')]}


def _own_token(world: World) -> dict:
    token, _ = api_token_create(user=world.owner, name="someone's")
    return {"pk": token.pk}


def _recommendation_slug(world: World) -> dict:
    from advisor.services import recommendation_create

    from ..advisor import use_case_data

    return {"slug": recommendation_create(owner=world.owner, data=use_case_data()).slug}


def _key(w: World) -> dict:
    return {"key": w.model.key}


EXPECTED: dict[str, Expect] = {
    # ---- site and accounts
    "home": page(302, 302, 302),
    "login": public(200),
    "logout": public(LOGIN, method="post"),
    "password_change": page(200, 200, 200),
    "password_change_done": page(200, 200, 200),
    "password_reset": public(200),
    "password_reset_done": public(200),
    "password_reset_confirm": public(200, args=lambda w: {"uidb64": "MQ", "token": "x-y"}),
    "password_reset_complete": public(200),
    "accounts:token-list": page(200, 200, 200),
    # Revoking someone else's token: refused with a message on the token page.
    "accounts:token-revoke": page(302, 302, 302, method="post", args=_own_token),
    # ---- the JSON API (tokens) and its docs (sessions)
    "api:openapi-json": page(403, 200, 200),
    "api:openapi-view": page(403, 200, 200),
    "api:api-root": page(404, 404, 404),
    "api:job_create": api(201, method="post", body=_job_body),
    "api:job_list": api(200),
    "api:job_detail": api(200, args=lambda w: {"job_id": w.queued_job.pk}),
    "api:job_cancel": api(200, method="post", args=lambda w: {"job_id": w.queued_job.pk}),
    "api:job_retry": api(201, method="post", args=lambda w: {"job_id": w.failed_job.pk}),
    "api:results_import": api(200, method="post", body=_results_upload),
    "api:domain_set_create": api(201, method="post", body=_domain_set_upload),
    "api:recommendation": api(422, method="post", body=lambda w: {"name": ""}),
    # ---- catalog
    "catalog:model-list": page(200, 200, 200),
    "catalog:model-detail": page(200, 200, 200, args=_key),
    "catalog:checkpoint-create": page(403, 200, 200),  # catalog.register_checkpoint
    # ---- evaluations
    "evaluations:job-list": page(200, 200, 200),
    "evaluations:job-create": page(403, 200, 200),
    "evaluations:job-compare": page(200, 200, 200, query="jobs=1,2"),
    "evaluations:job-detail": page(200, 200, 200, args=lambda w: {"pk": w.queued_job.pk}),
    "evaluations:job-cancel": page(
        403, 302, 302, method="post", args=lambda w: {"pk": w.queued_job.pk}
    ),
    "evaluations:job-retry": page(
        403, 302, 302, method="post", args=lambda w: {"pk": w.failed_job.pk}
    ),
    "evaluations:run-detail": page(200, 200, 200, args=lambda w: {"pk": w.imported_run.pk}),
    "evaluations:model-runs": page(200, 200, 200, args=_key),
    "evaluations:matrix": page(200, 200, 200),
    "evaluations:import": page(403, 200, 200),
    "evaluations:domain-sets": page(200, 200, 200),
    "evaluations:domain-set-compare": page(200, 200, 200, args=lambda w: {"pk": w.domain_set.pk}),
    # ---- advisor: project managers use it; queueing its proposed evaluations needs an engineer
    "advisor:advise": page(200, 200, 200),
    "advisor:recommendation-list": page(200, 200, 200),
    "advisor:notices": page(200, 200, 200),  # each signed-in person's own notices
    "advisor:recommendation": page(200, 200, 200, args=_recommendation_slug),
    "advisor:recommendation-export": page(200, 200, 200, args=_recommendation_slug),
    "advisor:recommendation-rerun": page(302, 302, 302, method="post", args=_recommendation_slug),
    "advisor:queue-evaluations": page(403, 302, 302, method="post", args=_recommendation_slug),
    # ---- admin pages with their own rule (the rest: admin_expectation)
    "admin:login": Expect(200, 200, 200, 302),
    # Logging out of the admin logs anyone signed in out.
    "admin:logout": Expect(ADMIN_LOGIN, 302, 302, LOGIN, method="post"),
    "admin:autocomplete": Expect(
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        200,
        query="app_label=catalog&model_name=languagemodel&field_name=licence",
    ),
    "admin:app_list": Expect(
        ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200, args=lambda w: {"app_label": "catalog"}
    ),
    "admin:view_on_site": Expect(
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        404,  # catalog records have no page of their own outside the admin to go to
        args=lambda w: {"content_type_id": _content_type_id(w.model), "object_id": w.model.pk},
    ),
    # One settings row at most, never deleted (catalog/admin.py).
    "admin:catalog_catalogsettings_add": Expect(LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403),
    "admin:catalog_catalogsettings_delete": Expect(
        LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, args=lambda w: {"object_id": w.settings.pk}
    ),
}

# What a catalog admin gets from each admin view of a registered model, by app. Project
# managers and engineers are sent to the admin's login page (not staff), anonymous visitors to
# the site's (LoginRequiredMiddleware; the admin's own pages send them to the admin's login).
ADMIN_APP_RULES: dict[str, dict[str, int]] = {
    "catalog": dict.fromkeys(
        ("changelist", "add", "change", "delete", "history", "simple_history"), 200
    ),
    # Users and roles are for superusers.
    "auth": dict.fromkeys(
        ("changelist", "add", "change", "delete", "history", "password_change"), 403
    ),
    # The audit log: read-only.
    "audit": {"changelist": 200, "change": 200, "history": 200, "add": 403, "delete": 403},
}
ADMIN_SITE_PAGES = {"index", "password_change", "password_change_done", "jsi18n"}
_ADMIN_MODEL_VIEW = re.compile(
    r"^admin:(?P<prefix>.+?)_(?P<view>changelist|add|change|delete|history|simple_history"
    r"|password_change)$"
)


def _content_type_id(obj) -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(obj).pk


def _admin_models() -> dict[str, type]:
    return {f"{m._meta.app_label}_{m._meta.model_name}": m for m in admin.site._registry}


def _admin_object(world: World, model: type):
    """An object of `model` for the admin's object URLs."""
    from django.contrib.auth.models import Group

    from audit.models import AuditEntry

    obj = model._default_manager.first()
    if obj is None and model is Group:
        obj = Group.objects.create(name="matrix")
    if obj is None and model is AuditEntry:
        from audit.services import audit_record

        obj = audit_record(action="job.queue", description="matrix", actor=world.owner)
    assert obj is not None, f"the world has no {model.__name__} for the admin URLs"
    return obj


def admin_expectation(name: str, pattern: URLPattern) -> Expect | None:
    """The rule for admin URLs; None when no rule covers `name`."""
    if name in EXPECTED:
        return EXPECTED[name]
    if name.removeprefix("admin:") in ADMIN_SITE_PAGES:
        return Expect(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200)
    match = _ADMIN_MODEL_VIEW.match(name)
    model = _admin_models().get(match["prefix"]) if match else None
    if model is None:
        return None
    status = ADMIN_APP_RULES.get(model._meta.app_label, {}).get(match["view"])
    if status is None:
        return None
    regex_args = pattern.pattern.regex.groups if not pattern.pattern.regex.groupindex else 0

    def args(world: World, model=model, view=match["view"]):
        if view in ("changelist", "add"):
            return {}
        obj = _admin_object(world, model)
        if view == "simple_history":
            return (obj.pk, obj.history.latest().history_id)
        if view == "password_change":
            return {"id": obj.pk}
        return {"object_id": obj.pk} if not regex_args else (obj.pk,)

    return Expect(LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, status, args=args)


# ---------------------------------------------------------------- the URL configuration


def _walk(patterns, namespace: str = "", route: str = "") -> Iterator[tuple[str, str, Any]]:
    for item in patterns:
        if isinstance(item, URLResolver):
            inner = item.namespace or ""
            full = f"{namespace}:{inner}" if namespace and inner else namespace or inner
            yield from _walk(item.url_patterns, full, route + str(item.pattern))
        elif isinstance(item, URLPattern):
            name = f"{namespace}:{item.name}" if namespace and item.name else item.name
            yield name, route + str(item.pattern), item


def url_names() -> dict[str, URLPattern]:
    """Every named URL pattern, by its full name (namespace:name)."""
    return {name: pattern for name, _, pattern in _walk(get_resolver().url_patterns) if name}


def unnamed_routes() -> list[str]:
    """Routes without a name, outside the admin (whose unnamed ones redirect to named ones)."""
    return [
        route
        for name, route, _ in _walk(get_resolver().url_patterns)
        if not name and not route.startswith("admin/")
    ]


def expectation(name: str, pattern: URLPattern) -> Expect | None:
    if name.startswith("admin:"):
        return admin_expectation(name, pattern)
    return EXPECTED.get(name)


def test_every_url_name_has_an_expectation():
    missing = [name for name, pattern in url_names().items() if expectation(name, pattern) is None]
    assert not missing, (
        "These URL names have no expectation in tests/security/test_permission_matrix.py "
        f"(add them to EXPECTED, or to ADMIN_APP_RULES for an admin): {', '.join(sorted(missing))}"
    )


def test_every_route_has_a_name():
    assert not unnamed_routes(), (
        f"Name these routes so the permission matrix covers them: {unnamed_routes()}"
    )


def test_the_table_names_only_urls_that_exist():
    stale = sorted(set(EXPECTED) - set(url_names()))
    assert not stale, f"EXPECTED names URLs that no longer exist: {', '.join(stale)}"


# ---------------------------------------------------------------- the matrix

_NAMES = sorted(url_names())


def _call(expect: Expect, role: str, world: World, name: str, pattern: URLPattern):
    args = expect.args(world)
    path = reverse(name, args=args) if isinstance(args, tuple) else reverse(name, kwargs=args)
    if expect.query:
        path += "?" + expect.query
    body = expect.body(world) if expect.body else None
    actor = make_actor(role)
    if expect.api and isinstance(body, dict) and any(map(_is_upload, body.values())):
        return actor.api(expect.method, path, body, multipart=True)
    if expect.api:
        return actor.api(expect.method, path, body)
    return getattr(actor.client, expect.method)(path, body or {})


def _is_upload(value) -> bool:
    return isinstance(value, SimpleUploadedFile) or (
        isinstance(value, list) and all(isinstance(v, SimpleUploadedFile) for v in value)
    )


def _describe(response) -> Outcome:
    location = response.get("Location", "")
    if response.status_code == 302 and location.startswith(reverse("admin:login")):
        return ADMIN_LOGIN
    if response.status_code == 302 and location.startswith(reverse("login")):
        return LOGIN
    return response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLE_NAMES)
@pytest.mark.parametrize("name", _NAMES)
def test_each_role_gets_what_the_table_says(name, role, world):
    pattern = url_names()[name]
    expect = expectation(name, pattern)
    if expect is None:
        pytest.fail(f"{name} has no expectation (see test_every_url_name_has_an_expectation)")
    response = _call(expect, role, world, name, pattern)
    got = _describe(response)
    wanted = expect.outcome(role)
    assert got == wanted, (
        f"{expect.method.upper()} {name} as {role}: expected {wanted}, got {got} "
        f"{response.content[:300]!r}"
    )


@pytest.mark.django_db
def test_api_tokens_are_the_only_way_into_the_api(world):
    """A signed-in browser session without a token does not open the API."""
    engineer = make_actor(ENGINEER)
    assert engineer.client.get("/api/jobs").status_code == 401
    assert ApiToken.objects.filter(user=engineer.user).exists()


def test_roles_are_what_the_matrix_says():
    assert (ANONYMOUS, PROJECT_MANAGER, ENGINEER, CATALOG_ADMIN) == ROLE_NAMES


# ---------------------------------------------------------------- API tokens follow the role


@pytest.mark.django_db
def test_a_token_acts_with_its_users_role_and_loses_the_api_with_it(world):
    """A token carries no permissions of its own: each request checks its user's roles now, so
    a user moved out of a role loses the API at once, and gets it back with the role."""
    from django.contrib.auth.models import Group

    from accounts import roles

    engineer = make_actor(ENGINEER)
    engineers = Group.objects.get(name=roles.ENGINEERS)
    assert engineer.api("get", "/api/jobs").status_code == 200

    engineer.user.groups.set([Group.objects.get(name=roles.PROJECT_MANAGERS)])
    assert engineer.api("get", "/api/jobs").status_code == 403
    cancel = engineer.api("post", f"/api/jobs/{world.queued_job.pk}/cancel")
    assert cancel.status_code == 403
    world.queued_job.refresh_from_db()
    assert world.queued_job.status == "queued"

    engineer.user.groups.clear()
    assert engineer.api("get", "/api/jobs").status_code == 403

    engineer.user.groups.add(engineers)
    assert engineer.api("get", "/api/jobs").status_code == 200


@pytest.mark.django_db
def test_a_permission_taken_from_the_role_is_taken_from_every_token(world):
    """Roles are groups: changing what the group may do changes every member's tokens."""
    from django.contrib.auth.models import Group, Permission

    from accounts import roles

    engineer = make_actor(ENGINEER)
    group = Group.objects.get(name=roles.ENGINEERS)
    manage = Permission.objects.get(
        content_type__app_label="evaluations", codename="change_evaljob"
    )
    group.permissions.remove(manage)

    response = engineer.api("post", f"/api/jobs/{world.queued_job.pk}/cancel")

    assert response.status_code == 403
    assert engineer.api("get", "/api/jobs").status_code == 200  # still may read and queue


@pytest.mark.django_db
def test_a_deactivated_or_revoked_token_gets_401_not_403():
    from accounts.models import ApiToken
    from accounts.services import api_token_revoke

    engineer = make_actor(ENGINEER)
    api_token_revoke(token=ApiToken.objects.get(user=engineer.user), by=engineer.user)
    assert engineer.api("get", "/api/jobs").status_code == 401

    other = make_actor(CATALOG_ADMIN)
    other.user.is_active = False
    other.user.save()
    assert other.api("get", "/api/jobs").status_code == 401
