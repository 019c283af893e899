"""Writes for the advisor: computing a recommendation for a use case and saving its snapshot."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from config.errors import ApplicationError

from . import selectors
from .engine import recommend
from .models import Recommendation
from .use_case import UseCase, UseCaseInvalid


class UseCaseError(ApplicationError):
    """The use case has invalid fields; `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("Some fields need attention.", extra={"errors": errors})
        self.errors = errors


@dataclass(frozen=True)
class Advice:
    use_case: UseCase
    data: dict[str, Any]  # the use case, validated (weights normalised)
    result: dict[str, Any]  # the engine's answer as JSON (the keys of the advisor's API)
    evidence: list[dict[str, Any]]  # every run and source the answer used


def advice_compute(*, data: Mapping[str, Any]) -> Advice:
    """Validate the use case and ask the engine, with today's catalog and evidence."""
    try:
        use_case = UseCase.from_dict(data)
    except UseCaseInvalid as invalid:
        raise UseCaseError(dict(invalid.errors)) from invalid
    if use_case.domain_eval_set and not selectors.domain_eval_set_task(use_case.domain_eval_set):
        raise UseCaseError(
            {"domain_eval_set": f"No domain evaluation set named {use_case.domain_eval_set!r}."}
        )
    engine_input, catalog = selectors.engine_catalog()
    # The whole ranking is computed; the answer keeps its head (thousands of candidates with a
    # large catalog would cost more to serialise than to rank). Exclusions stay complete.
    result = recommend(use_case, catalog, ranking_limit=settings.ADVISOR_RANKING_LIMIT).as_dict()
    return Advice(
        use_case=use_case,
        data=use_case.as_dict(),
        result=result,
        evidence=_evidence_used(result, engine_input.sources),
    )


def _evidence_used(result: dict[str, Any], sources: dict[str, dict]) -> list[dict[str, Any]]:
    used: dict[str, dict] = {}
    for candidate in result["ranking"]:
        for figure in candidate.get("evidence", []):
            source = figure.get("source")
            if source in sources and source not in used:
                used[source] = {"source": source, **sources[source]}
    return list(used.values())


@transaction.atomic
def recommendation_create(
    *,
    owner: AbstractBaseUser,
    data: Mapping[str, Any],
    rerun_of: Recommendation | None = None,
) -> Recommendation:
    """Compute and save a recommendation; its permalink shows this snapshot for good."""
    advice = advice_compute(data=data)
    top = advice.result["ranking"][0] if advice.result["ranking"] else {}
    recommendation = Recommendation(
        owner=owner,
        name=advice.use_case.name,
        use_case=advice.data,
        result=advice.result,
        evidence=advice.evidence,
        verdict=advice.result["verdict"] or "",
        top_model=top.get("model", ""),
        top_deployment=top.get("deployment", ""),
        rerun_of=rerun_of,
    )
    recommendation.full_clean()
    recommendation.save()
    return recommendation


def recommendation_rerun(*, recommendation: Recommendation, owner: AbstractBaseUser):
    """The same use case with today's catalog and evidence, saved as a new recommendation."""
    return recommendation_create(owner=owner, data=recommendation.use_case, rerun_of=recommendation)


def recommendation_changes(old: Recommendation, new: Recommendation) -> list[str]:
    """What moved between two recommendations of the same use case, in sentences."""
    changes = []
    if old.verdict != new.verdict:
        changes.append(f"The verdict changed from {old.verdict} to {new.verdict}.")
    if (old.top_model, old.top_deployment) != (new.top_model, new.top_deployment):
        changes.append(
            f"The top candidate changed from {old.top_model} ({old.top_deployment}) to "
            f"{new.top_model} ({new.top_deployment})."
        )
    before = {(c["model"], c["deployment"], c["option"]): c for c in old.result["ranking"]}
    for rank, candidate in enumerate(new.result["ranking"][:5], start=1):
        key = (candidate["model"], candidate["deployment"], candidate["option"])
        previous = before.get(key)
        if previous is None:
            changes.append(f"New among the top five: {key[0]} ({key[1]}, {key[2]}) at {rank}.")
            continue
        if abs(previous["monthly_cost_usd"] - candidate["monthly_cost_usd"]) > 0.005:
            changes.append(
                f"{key[0]} ({key[1]}): monthly cost {previous['monthly_cost_usd']:,.2f} → "
                f"{candidate['monthly_cost_usd']:,.2f} USD."
            )
        if abs(previous["total"] - candidate["total"]) > 1e-4:
            changes.append(
                f"{key[0]} ({key[1]}): total score {previous['total']:.3f} → "
                f"{candidate['total']:.3f}."
            )
    old_sources = {e["source"] for e in old.evidence}
    new_sources = [e for e in new.evidence if e["source"] not in old_sources]
    if new_sources:
        changes.append(
            "New evidence: "
            + "; ".join(e["label"] for e in new_sources[:5])
            + ("…" if len(new_sources) > 5 else "")
        )
    return changes or ["Nothing changed: same verdict, ranking, costs and evidence."]


@dataclass(frozen=True)
class QueuedProposal:
    model: str
    tasks: list[str]
    job_id: int | None
    message: str


def proposed_evaluations_queue(
    *, recommendation: Recommendation, requested_by: AbstractBaseUser
) -> list[QueuedProposal]:
    """Queue the evaluation jobs the recommendation proposes (one click for an engineer).

    Open models run on `hf` from their hub id; API-only models through the provider's
    OpenAI-compatible endpoint (its key comes from the worker's environment). A proposal that
    cannot run says why and queues nothing."""
    from catalog.models import LanguageModel, Weights
    from evaluations.models import RequestedVia
    from evaluations.services import eval_job_create
    from evaluations.specs import JobSpec, JobSpecError

    domain_task = selectors.domain_eval_set_task(recommendation.use_case.get("domain_eval_set"))
    domain_name = recommendation.use_case.get("domain_eval_set")
    outcomes = []
    for proposal in recommendation.result.get("proposed_evaluations", []):
        tasks = [domain_task if t == domain_name else t for t in proposal["tasks"] if t]
        model = LanguageModel.objects.filter(key=proposal["model"]).first()
        if model is None:
            outcomes.append(QueuedProposal(proposal["model"], tasks, None, "not in the catalog"))
            continue
        api = model.api_deployments.order_by("usd_per_million_input").first()
        if model.weights == Weights.OPEN and model.hf_repo:
            spec = JobSpec(model_key=model.key, backend="hf", tasks=tuple(tasks))
        elif api is not None:
            spec = JobSpec(
                model_key=model.key,
                backend="openai-chat-completions",
                tasks=tuple(tasks),
                model_args={"model": api.api_model},
                apply_chat_template=True,
            )
        else:
            outcomes.append(QueuedProposal(model.key, tasks, None, "no way to run it"))
            continue
        try:
            job = eval_job_create(
                spec=spec, requested_by=requested_by, requested_via=RequestedVia.WEB
            )
        except JobSpecError as exc:
            outcomes.append(QueuedProposal(model.key, tasks, None, exc.message))
            continue
        note = f"reused job #{job.reused_from_id}" if job.reused_from_id else "queued"
        outcomes.append(QueuedProposal(model.key, tasks, job.pk, note))
    jobs = [o.job_id for o in outcomes if o.job_id]
    if jobs:
        from evaluations.models import EvalJob

        from .watch import decision_watch_start

        decision_watch_start(
            recommendation=recommendation, jobs=list(EvalJob.objects.filter(pk__in=jobs))
        )
    return outcomes
