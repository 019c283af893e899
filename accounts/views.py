from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from config.errors import ApplicationError

from . import selectors, services
from .models import ApiToken


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, label="Name", help_text="What the token is for.")


@never_cache  # the page that shows a new token must not be kept by a cache or the back button
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """Any signed-in person's own API tokens; POST creates one and shows it this once."""
    form = ApiTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = services.api_token_create(
                user=request.user, name=form.cleaned_data["name"]
            )
        except ApplicationError as exc:
            form.add_error("name", exc.message)
        else:
            # Rendered, not redirected: the plain token must not go into the session or a URL.
            new_token = {"token": token, "raw": raw}
            form = ApiTokenForm()
    context = {
        "form": form,
        "new_token": new_token,
        "tokens": selectors.api_token_list(user=request.user),
    }
    return render(request, "accounts/tokens.html", context)


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        token = selectors.api_token_get(pk=pk)
    except ApiToken.DoesNotExist as exc:
        raise Http404("No such API token.") from exc
    try:
        services.api_token_revoke(token=token, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Revoked the token “{token.name}”.")
    return redirect("accounts:token-list")
