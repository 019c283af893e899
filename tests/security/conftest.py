"""Shared fixtures for the security tests: one account and one API token per role, a small
world of objects for URL arguments, and a fresh cache (the login rate limit counts there)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from accounts import roles
from accounts.services import api_token_create
from catalog.models import CatalogSettings, LanguageModel
from evaluations.models import DomainEvalSet, EvalJob, EvalRun, JobStatus

from ..evaluations.factories import EvalJobFactory, EvalRunFactory
from ..factories import (
    ApiDeploymentFactory,
    HardwareProfileFactory,
    LanguageModelFactory,
    ReportedScoreFactory,
    SelfHostedDeploymentFactory,
    UserFactory,
)

ANONYMOUS = "anonymous"
PROJECT_MANAGER = "project manager"
ENGINEER = "engineer"
CATALOG_ADMIN = "catalog admin"
ROLE_NAMES = (ANONYMOUS, PROJECT_MANAGER, ENGINEER, CATALOG_ADMIN)
GROUPS = {
    PROJECT_MANAGER: roles.PROJECT_MANAGERS,
    ENGINEER: roles.ENGINEERS,
    CATALOG_ADMIN: roles.CATALOG_ADMINS,
}
XSS = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@dataclass
class Actor:
    """A role's signed-in browser client, its user and its API token (None: anonymous)."""

    role: str
    client: Client
    user: object | None
    token: str | None

    def api(self, method: str, path: str, body=None, *, multipart: bool = False, **extra):
        """Call the JSON API with this role's token (none for anonymous), without a session;
        `body` goes as JSON, or as a multipart form with `multipart`."""
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}
        if (
            body is not None
            and method.lower() != "get"
            and not multipart
            and ("content_type" not in extra)
        ):
            extra["content_type"] = "application/json"
            body = json.dumps(body)
        return getattr(Client(), method.lower())(path, body, **headers, **extra)


def make_actor(role: str) -> Actor:
    client = Client()
    if role == ANONYMOUS:
        return Actor(role, client, None, None)
    username = role.replace(" ", "-")
    user = User.objects.filter(username=username).first() or UserFactory(
        username=username, role=GROUPS[role]
    )
    client.force_login(user)
    _, raw = api_token_create(user=user, name="tests")
    return Actor(role, client, user, raw)


@pytest.fixture
def actor(db):
    return make_actor


@pytest.fixture
def engineer_actor(db) -> Actor:
    return make_actor(ENGINEER)


@dataclass
class World:
    """One of each object the URLs take an argument for."""

    model: LanguageModel
    queued_job: EvalJob
    failed_job: EvalJob
    job_run: EvalRun
    imported_run: EvalRun
    domain_set: DomainEvalSet
    settings: CatalogSettings
    owner: object


@pytest.fixture
def world(db) -> World:
    model = LanguageModelFactory(key="world-model", name="World Model", hf_repo="org/world")
    ApiDeploymentFactory(model=model)
    SelfHostedDeploymentFactory(model=model, hardware=HardwareProfileFactory())
    ReportedScoreFactory(model=model)
    owner = UserFactory(username="world-owner", role=roles.ENGINEERS)
    succeeded = EvalJobFactory(model=model, status=JobStatus.SUCCEEDED, requested_by=owner)
    return World(
        model=model,
        queued_job=EvalJobFactory(model=model, requested_by=owner),
        failed_job=EvalJobFactory(model=model, status=JobStatus.FAILED, error="boom"),
        job_run=EvalRunFactory(job=succeeded, model=model),
        imported_run=EvalRunFactory(
            job=None, origin="import", model=model, file_name="results.json", file_sha256="a" * 64
        ),
        domain_set=DomainEvalSet.objects.create(
            name="claims",
            kind="generation",
            rows=[{"question": "q", "answer": "a"}],
            n_rows=1,
            content_hash="b" * 64,
            task_name="domain_claims_bbbbbbbb",
        ),
        settings=CatalogSettings.objects.create(),
        owner=owner,
    )
