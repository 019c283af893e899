"""Refuse requests that carry a NUL character, before any view sees them.

PostgreSQL text cannot hold NUL (0x00): a filter such as `/catalog/?search=%00`, a key in the
path (`/catalog/models/%00/`) or an API body naming the model `"\\u0000"` would otherwise
reach a query and fail with a server error. Checked here
once for every view: the path, the query string and JSON bodies. Not form posts: Django forms
already refuse NUL with a message on the field, and reading a multipart body here would keep
the view from reading it. (Kept beside the other request guard, the login rate limit; it
belongs to the project as a whole rather than to accounts.)"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.datastructures import MultiValueDict

MESSAGE = "The request holds a NUL character (U+0000), which Rightsize does not accept."
# "\u0000" in JSON, not preceded by an escaped backslash ("\\u0000" is the text \u0000).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _any_nul(values: MultiValueDict) -> bool:
    return any("\x00" in key or any("\x00" in v for v in vs) for key, vs in values.lists())


def holds_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path_info or _any_nul(request.GET):
        return True
    if request.method not in ("POST", "PUT", "PATCH"):
        return False
    content_type = request.content_type or ""
    try:
        if content_type == "application/json" or content_type.endswith("+json"):
            return b"\x00" in request.body or bool(_JSON_NUL.search(request.body))
    except Exception:  # a malformed or oversized body: the view answers it as before
        return False
    return False


class RejectNulCharactersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if holds_nul(request):
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": MESSAGE}, status=400)
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
