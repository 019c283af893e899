"""The decision watch: proposed evaluations queued, their results arrive, the owner is told."""

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from advisor.models import DecisionWatch, Notice, Recommendation
from advisor.services import proposed_evaluations_queue, recommendation_create
from advisor.watch import decision_watches_check
from catalog.models import LanguageModel
from evaluations.models import EvalJob, JobStatus

from ..evaluations.factories import EvalRunFactory, MetricResultFactory
from .test_advisor_web import HOSPITAL

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def catalog():
    call_command("load_catalog", verbosity=0)


@pytest.fixture
def watched(engineer):
    engineer.email = "engineer@example.org"
    engineer.save()
    recommendation = recommendation_create(owner=engineer, data=HOSPITAL)
    proposed_evaluations_queue(recommendation=recommendation, requested_by=engineer)
    return recommendation


def _finish_jobs(**measured):
    """End every job; give models measured MMLU figures (model key -> value)."""
    for job in EvalJob.objects.all():
        job.status = JobStatus.SUCCEEDED
        job.save()
    for key, value in measured.items():
        model = LanguageModel.objects.get(key=key)
        run = EvalRunFactory(job__model=model, model=model)
        for task in ("mmlu", "hellaswag", "arc_challenge", "winogrande"):
            MetricResultFactory(run=run, task=task, value=value, stderr=0.01)


def test_queueing_the_proposals_starts_a_watch(watched):
    watch = DecisionWatch.objects.get(recommendation=watched)
    assert watch.jobs.count() == EvalJob.objects.count() >= 1
    assert decision_watches_check() == []  # the jobs have not ended
    assert watch.result is None


def test_when_the_evidence_moves_the_answer_the_owner_is_told(
    watched, engineer, django_capture_on_commit_callbacks
):
    top = watched.top_model
    _finish_jobs(**{top: 0.05})  # the leader measures far worse than reported

    with django_capture_on_commit_callbacks(execute=True):  # the email goes after the commit
        [watch] = decision_watches_check()

    rerun = watch.result
    assert rerun.rerun_of == watched
    assert rerun.top_model != top
    notice = Notice.objects.get(user=engineer)
    assert notice.recommendation == rerun
    assert f"from {top}" in notice.body
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["engineer@example.org"]
    assert decision_watches_check() == []  # checked once


def test_when_nothing_moves_no_one_is_disturbed_but_the_history_is_kept(watched):
    _finish_jobs()
    [watch] = decision_watches_check()
    assert watch.result.rerun_of == watched
    assert not Notice.objects.exists() and not mail.outbox
    assert Recommendation.objects.filter(rerun_of=watched).count() == 1


def test_the_notice_shows_in_the_app(client, watched, engineer):
    _finish_jobs(**{watched.top_model: 0.05})
    decision_watches_check()
    client.force_login(engineer)
    page = client.get(reverse("advisor:advise")).content.decode()
    assert 'Notices <strong class="badge">1</strong>' in page
    page = client.get(reverse("advisor:notices")).content.decode()
    assert "the recommendation changed" in page
    assert "badge" not in client.get(reverse("advisor:notices")).content.decode()
