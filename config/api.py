"""The JSON API (django-ninja): bearer tokens, errors as {"detail": ...}, docs at /api/docs."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from accounts.selectors import api_token_authenticate
from config.errors import ApplicationError
from evaluations.specs import JobSpecError

# Who may use the API at all: those who may queue evaluation jobs (engineers, catalog admins).
API_PERMISSION = "evaluations.add_evaljob"

DESCRIPTION = """\
Queue and follow lm-evaluation-harness jobs on Rightsize's workers.

**Authentication.** Send an API token as `Authorization: Bearer <token>`; create one on the
*API tokens* page (/account/tokens/). The API acts as the token's owner, with their role.

**Who may use it.** Engineers and catalog admins (the roles that may queue evaluation jobs).
Every endpoint answers **403** to a valid token whose owner lacks that permission (project
managers), and **401** to a missing, unknown or revoked token. Cancelling and retrying also need
the permission to manage jobs.

**Errors** are JSON: `{"detail": "..."}`. A job spec that cannot run answers **422** with
`{"detail": "...", "field": "..."}` naming the field (and the model argument or task) to fix; an
action the job's state refuses (cancelling a finished job, say) answers **409**.

API keys for remote endpoints are never sent here: workers read them from their environment,
and model arguments that look like secrets are refused."""


class ApiTokenAuth(HttpBearer):
    """A Rightsize API token (accounts.ApiToken) whose owner may use the API."""

    def authenticate(self, request: HttpRequest, token: str):
        user = api_token_authenticate(token)
        if user is None:
            return None  # ninja answers 401
        if not user.has_perm(API_PERMISSION):
            raise AuthorizationError(
                message="The API is for engineers and catalog admins; your role may not use it."
            )
        request.user = user
        return user


class RightsizeAPI(NinjaAPI):
    @property
    def urls(self):
        """The endpoints authenticate by token themselves, so the site-wide login redirect
        (LoginRequiredMiddleware) must not apply to them; the docs stay behind the login."""
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            if pattern.name not in {"openapi-json", "openapi-view", "api-root"}:
                login_not_required(pattern.callback)
        return patterns, app_name, namespace


api = RightsizeAPI(
    title="Rightsize API",
    version="1",
    description=DESCRIPTION,
    auth=ApiTokenAuth(),
    urls_namespace="api",
    # The docs and schema are for signed-in people who may use the API.
    docs_decorator=permission_required(API_PERMISSION, raise_exception=True),
)


@api.exception_handler(JobSpecError)
def job_spec_error(request: HttpRequest, exc: JobSpecError) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message, "field": exc.field}, status=422)


@api.exception_handler(ApplicationError)
def application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message}, status=409)


api.add_router("/jobs", "evaluations.api.router")
api.add_router("/", "evaluations.api.uploads_router")
api.add_router("/", "advisor.api.router")
