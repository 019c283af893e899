from dataclasses import fields

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from . import selectors, services
from .forms import CheckpointForm
from .models import CommercialUse, LanguageModel, Licence, SizeClass, Weights

COMPUTE_OPTIMAL_TOKENS_PER_PARAMETER = 20  # Hoffmann et al. 2022 (Chinchilla)


def _filters_from(request: HttpRequest) -> selectors.CatalogFilters:
    values = {f.name: request.GET.get(f.name, "").strip() for f in fields(selectors.CatalogFilters)}
    if values["sort"] not in selectors.SORTS:
        values["sort"] = selectors.CatalogFilters.sort
    return selectors.CatalogFilters(**values)


@permission_required("catalog.view_languagemodel", raise_exception=True)
def model_list(request: HttpRequest) -> HttpResponse:
    filters = _filters_from(request)
    settings = selectors.catalog_settings_get()
    context = {
        "models": selectors.language_model_list(filters=filters, settings=settings),
        "filters": filters,
        "settings": settings,
        "size_classes": SizeClass.choices,
        "weights_choices": Weights.choices,
        "commercial_choices": CommercialUse.choices,
        "licences": Licence.objects.order_by("name"),
        "families": selectors.family_names(),
        "sorts": [
            ("-parameters", "Parameters, largest first"),
            ("parameters", "Parameters, smallest first"),
            ("-mmlu", "Reported MMLU, best first"),
            ("price", "API price, cheapest first"),
            ("-released", "Newest first"),
            ("name", "Name"),
        ],
    }
    template = "catalog/model_list.html"
    if request.htmx and request.htmx.target == "catalog-table":
        template += "#table"
    return render(request, template, context)


@permission_required("catalog.view_languagemodel", raise_exception=True)
def model_detail(request: HttpRequest, key: str) -> HttpResponse:
    try:
        model = selectors.language_model_detail(key=key)
    except LanguageModel.DoesNotExist as exc:
        raise Http404("No model with that key in the catalog.") from exc
    settings = selectors.catalog_settings_get()
    return render(
        request,
        "catalog/model_detail.html",
        {
            "model": model,
            "size_class": model.size_class(settings),
            "settings": settings,
            "compute_optimal_ratio": COMPUTE_OPTIMAL_TOKENS_PER_PARAMETER,
        },
    )


@permission_required("catalog.register_checkpoint", raise_exception=True)
def checkpoint_create(request: HttpRequest) -> HttpResponse:
    form = CheckpointForm(request.POST or None, initial={"base_model": request.GET.get("base")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            model = services.checkpoint_register(
                base_model=data["base_model"],
                name=data["name"],
                key=data["key"],
                method=data["method"],
                data_description=data["data_description"],
                gpu_hours=data["gpu_hours"],
                hardware=data["hardware"],
                hardware_description=data["hardware_description"],
                trained_on=data["trained_on"],
                location=data["location"],
                location_kind=data["location_kind"],
                registered_by=request.user,
            )
        except services.CheckpointError as exc:
            form.add_service_errors(exc.errors)
        else:
            messages.success(
                request,
                f"{model.name} is in the catalog, derived from {model.base_model.name}. "
                "Queue it on your domain evaluation set to compare it with its base.",
            )
            return redirect("catalog:model-detail", key=model.key)
    return render(request, "catalog/checkpoint_form.html", {"form": form})
