import json

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import services
from .forms import UseCaseForm
from .markdown import recommendation_markdown
from .models import Recommendation

USE = "advisor.add_recommendation"
CHART_POINTS = 20


def chart_data(result: dict | None) -> dict:
    """Points for the accuracy-against-cost chart (static/js/decision-chart.js)."""
    if not result:
        return {"points": []}
    points = []
    for rank, candidate in enumerate(result["ranking"][:CHART_POINTS]):
        if candidate["accuracy"] is None:
            continue
        points.append(
            {
                "x": max(candidate["monthly_cost_usd"], 0.01),
                "y": candidate["accuracy"],
                "label": f"{candidate['model_name']} ({candidate['deployment']})",
                "small": candidate["verdict_class"] == "small",
                "top": rank == 0,
            }
        )
    return {"points": points}


VIEW = "advisor.view_recommendation"


@permission_required(USE, raise_exception=True)
def advise(request: HttpRequest) -> HttpResponse:
    """The use-case form with a live preview; Save keeps the recommendation under a permalink.

    htmx posts the form on every change and gets only the preview back; without JavaScript,
    the Preview button posts the whole page."""
    if request.method != "POST":
        source = request.GET.get("from")
        initial = {}
        if source:
            saved = get_object_or_404(Recommendation, slug=source)
            initial = UseCaseForm.initial_from(saved.use_case)
        return render(request, "advisor/advise.html", {"form": UseCaseForm(initial=initial)})

    form = UseCaseForm(request.POST)
    advice = None
    preset_applied = False
    if form.is_valid():
        data = form.use_case_data()
        preset_applied = form._preset_changed()
        try:
            if request.POST.get("action") == "save":
                recommendation = services.recommendation_create(owner=request.user, data=data)
                messages.success(request, "Saved. This page's address shows it for good.")
                return redirect("advisor:recommendation", slug=recommendation.slug)
            advice = services.advice_compute(data=data)
        except services.UseCaseError as exc:
            form.add_use_case_errors(exc.errors)
    context = {
        "form": form,
        "advice": advice,
        "result": advice.result if advice else None,
        "evidence": advice.evidence if advice else [],
        "preset_applied": preset_applied,
        "weights": advice.data["weights"] if advice else None,
        "chart": chart_data(advice.result if advice else None),
    }
    if request.htmx:
        return render(request, "advisor/advise.html#preview", context)
    return render(request, "advisor/advise.html", context)


@permission_required(VIEW, raise_exception=True)
def recommendation_detail(request: HttpRequest, slug) -> HttpResponse:
    recommendation = get_object_or_404(
        Recommendation.objects.select_related("owner", "rerun_of"), slug=slug
    )
    changes = None
    if recommendation.rerun_of:
        changes = services.recommendation_changes(recommendation.rerun_of, recommendation)
    return render(
        request,
        "advisor/recommendation.html",
        {
            "recommendation": recommendation,
            "result": recommendation.result,
            "evidence": recommendation.evidence,
            "changes": changes,
            "chart": chart_data(recommendation.result),
            "reruns": recommendation.reruns.order_by("-created_at"),
        },
    )


@permission_required(VIEW, raise_exception=True)
def recommendation_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "advisor/recommendation_list.html",
        {"recommendations": request.user.recommendations.select_related("rerun_of")},
    )


@permission_required(VIEW, raise_exception=True)
def recommendation_export(request: HttpRequest, slug) -> HttpResponse:
    recommendation = get_object_or_404(Recommendation, slug=slug)
    response = HttpResponse(
        recommendation_markdown(recommendation, request.build_absolute_uri(".")),
        content_type="text/markdown; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="recommendation-{slug}.md"'
    return response


@require_POST
@permission_required(USE, raise_exception=True)
def recommendation_rerun(request: HttpRequest, slug) -> HttpResponse:
    recommendation = get_object_or_404(Recommendation, slug=slug)
    try:
        rerun = services.recommendation_rerun(recommendation=recommendation, owner=request.user)
    except services.UseCaseError as exc:
        messages.error(request, "Cannot re-run: " + json.dumps(exc.errors))
        return redirect("advisor:recommendation", slug=slug)
    messages.success(request, "Re-run with today's catalog and evidence.")
    return redirect("advisor:recommendation", slug=rerun.slug)


@require_POST
@permission_required("evaluations.add_evaljob", raise_exception=True)
def proposed_evaluations_queue(request: HttpRequest, slug) -> HttpResponse:
    recommendation = get_object_or_404(Recommendation, slug=slug)
    outcomes = services.proposed_evaluations_queue(
        recommendation=recommendation, requested_by=request.user
    )
    for outcome in outcomes:
        level = messages.success if outcome.job_id else messages.warning
        job = f" (job #{outcome.job_id})" if outcome.job_id else ""
        level(request, f"{outcome.model} on {', '.join(outcome.tasks)}: {outcome.message}{job}")
    return redirect("advisor:recommendation", slug=slug)


def notice_list(request: HttpRequest) -> HttpResponse:
    """The signed-in user's notices; opening the page marks them read."""
    notices = list(request.user.notices.select_related("recommendation")[:100])
    request.user.notices.filter(read_at__isnull=True).update(read_at=timezone.now())
    return render(request, "advisor/notices.html", {"notices": notices})
