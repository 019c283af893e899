"""The advisor in the JSON API: the same use-case JSON as the form and `recommend`."""

from typing import Any

from django.http import HttpRequest
from ninja import Body, Router, Schema, Status
from ninja.errors import AuthorizationError

from .services import UseCaseError, advice_compute

router = Router(tags=["advisor"])


class UseCaseProblems(Schema):
    detail: str
    errors: dict[str, str]


@router.post("/recommendations", response={200: dict[str, Any], 403: dict, 422: UseCaseProblems})
def recommendation(request: HttpRequest, use_case: Body[dict[str, Any]]):
    """Recommend a small or a large model for a use case: `verdict`, `confidence`, `ranking`,
    `excluded`, `sensitivity`, `proposed_evaluations` (the keys `recommend` prints)."""
    if not request.auth.has_perm("advisor.add_recommendation"):
        raise AuthorizationError(message="Your role may not use the advisor.")
    try:
        return advice_compute(data=use_case).result
    except UseCaseError as exc:
        return Status(422, {"detail": exc.message, "errors": exc.errors})
