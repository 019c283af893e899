"""The audit log: who did what, when, to which object, for catalog edits in the admin, the
trust_remote_code approval, and job actions by every door (web, API); read-only for admins."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts import roles
from audit.models import AuditAction, AuditEntry
from catalog.models import LanguageModel, Source
from evaluations.models import EvalJob, JobStatus

from ..evaluations.factories import EvalJobFactory
from ..factories import LanguageModelFactory, SourceFactory, UserFactory
from .conftest import CATALOG_ADMIN, ENGINEER, PROJECT_MANAGER, make_actor

pytestmark = pytest.mark.django_db

V04 = (
    Path(__file__).parents[1]
    / "evaluations/fixtures/lm_eval_results/qwen2.5-1.5b_v0.4_results.json"
)


def entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("pk"))


def _change_form(model: LanguageModel, **changes) -> dict:
    """The admin change form of `model` as posted, with `changes`."""
    data = {
        "name": model.name,
        "key": model.key,
        "family": model.family,
        "organisation": model.organisation,
        "hf_repo": model.hf_repo,
        "parameters": model.parameters or "",
        "parameters_source": model.parameters_source_id or "",
        "training_tokens": model.training_tokens or "",
        "training_tokens_source": model.training_tokens_source_id or "",
        "licence": model.licence_id or "",
        "licence_source": model.licence_source_id or "",
        "weights": model.weights,
        "weights_source": model.weights_source_id,
        "_save": "Save",
    }
    for prefix in ("api_deployments", "self_hosted_deployments", "reported_scores"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    data.update(changes)
    return data


@pytest.fixture
def admin_actor():
    return make_actor(CATALOG_ADMIN)


def test_a_catalog_edit_in_the_admin_is_audited_with_who_and_what(admin_actor):
    model = LanguageModelFactory(name="Phi-2")
    url = reverse("admin:catalog_languagemodel_change", args=[model.pk])

    response = admin_actor.client.post(url, _change_form(model, organisation="Microsoft"))

    assert response.status_code == 302, response.content[:2000]
    [entry] = entries(AuditAction.ADMIN_CHANGE)
    assert entry.actor == admin_actor.user
    assert entry.actor_name == admin_actor.user.username
    assert (entry.object_id, entry.object_repr) == (str(model.pk), "Phi-2")
    assert entry.content_type.model_class() is LanguageModel
    assert "Organisation" in entry.description and "Phi-2" in entry.description
    assert entry.at is not None


def test_adding_and_deleting_in_the_admin_are_audited(admin_actor):
    add = admin_actor.client.post(
        reverse("admin:catalog_source_add"),
        {"key": "new-paper", "title": "A new paper", "url": "https://example.org/p"},
    )
    assert add.status_code == 302
    source = Source.objects.get(key="new-paper")
    delete = admin_actor.client.post(
        reverse("admin:catalog_source_delete", args=[source.pk]), {"post": "yes"}
    )
    assert delete.status_code == 302

    [added] = entries(AuditAction.ADMIN_ADD)
    [deleted] = entries(AuditAction.ADMIN_DELETE)
    assert added.object_repr == deleted.object_repr == "A new paper"
    assert added.actor == deleted.actor == admin_actor.user


def test_a_bulk_delete_in_the_admin_is_audited_per_object(admin_actor):
    sources = SourceFactory.create_batch(3)

    response = admin_actor.client.post(
        reverse("admin:catalog_source_changelist"),
        {"action": "delete_selected", "_selected_action": [s.pk for s in sources], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Source.objects.filter(pk__in=[s.pk for s in sources]).exists()
    deleted = entries(AuditAction.ADMIN_DELETE)
    assert sorted(e.object_repr for e in deleted) == sorted(s.title for s in sources)
    assert {e.actor for e in deleted} == {admin_actor.user}


def test_the_bulk_delete_confirmation_page_records_nothing(admin_actor):
    sources = SourceFactory.create_batch(2)

    response = admin_actor.client.post(
        reverse("admin:catalog_source_changelist"),
        {"action": "delete_selected", "_selected_action": [s.pk for s in sources]},
    )

    assert response.status_code == 200  # "Are you sure?"
    assert not entries(AuditAction.ADMIN_DELETE)


def test_approving_trust_remote_code_is_audited(admin_actor):
    model = LanguageModelFactory(name="Custom Code LM")
    url = reverse("admin:catalog_languagemodel_change", args=[model.pk])

    admin_actor.client.post(url, _change_form(model, trust_remote_code_approved="on"))
    model.refresh_from_db()
    assert model.trust_remote_code_approved
    admin_actor.client.post(url, _change_form(model))  # unticked: withdrawn

    [approved] = entries(AuditAction.APPROVE_REMOTE_CODE)
    [withdrawn] = entries(AuditAction.WITHDRAW_REMOTE_CODE)
    assert approved.actor == withdrawn.actor == admin_actor.user
    assert approved.object_repr == "Custom Code LM"
    assert "Approved trust_remote_code for Custom Code LM" in approved.description


def test_staff_without_the_approval_permission_cannot_approve_remote_code():
    """Only catalog admins (catalog.approve_execution) approve what may run: for other staff
    with catalog edit rights the field is read-only, and nothing is approved or logged."""
    curator = UserFactory(username="curator", is_staff=True)
    curator.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="catalog",
            codename__in=["view_languagemodel", "change_languagemodel"],
        )
    )
    model = LanguageModelFactory()
    from django.test import Client

    client = Client()
    client.force_login(curator)
    response = client.post(
        reverse("admin:catalog_languagemodel_change", args=[model.pk]),
        _change_form(model, trust_remote_code_approved="on"),
    )

    assert response.status_code == 302
    model.refresh_from_db()
    assert not model.trust_remote_code_approved
    assert not entries(AuditAction.APPROVE_REMOTE_CODE)


def test_loading_the_catalog_approves_nothing_and_logs_no_approval():
    LanguageModelFactory(trust_remote_code_approved=False)
    assert not AuditEntry.objects.exists()


# ---------------------------------------------------------------- job actions


@pytest.fixture
def model():
    return LanguageModelFactory(key="audited", name="Audited LM")


def _job_form(model) -> dict:
    return {
        "model": model.key,
        "backend": "hf",
        "model_args": "pretrained=org/audited",
        "tasks": "rightsize_demo_mc",
        "device": "cpu",
        "batch_size": 1,
        "seed": 1234,
        "priority": 5,
        "limit": 2,
    }


def test_queueing_a_job_on_the_web_is_audited(model):
    engineer = make_actor(ENGINEER)

    response = engineer.client.post(reverse("evaluations:job-create"), _job_form(model))

    assert response.status_code == 302
    job = EvalJob.objects.get()
    [entry] = entries(AuditAction.JOB_QUEUE)
    assert entry.actor == engineer.user
    assert entry.object_id == str(job.pk)
    assert "Audited LM on rightsize_demo_mc" in entry.description
    assert "Web form" in entry.description


def test_queueing_a_job_through_the_api_is_audited(model):
    engineer = make_actor(ENGINEER)

    response = engineer.api(
        "post",
        "/api/jobs",
        {
            "model": model.key,
            "tasks": ["rightsize_demo_mc"],
            "device": "cpu",
            "model_args": {"pretrained": "org/audited"},
        },
    )

    assert response.status_code == 201, response.content
    [entry] = entries(AuditAction.JOB_QUEUE)
    assert entry.actor == engineer.user
    assert "JSON API" in entry.description


def test_a_refused_job_leaves_no_entry(model):
    engineer = make_actor(ENGINEER)

    response = engineer.client.post(
        reverse("evaluations:job-create"), {**_job_form(model), "tasks": "no_such_task_xyz"}
    )

    assert response.status_code == 200
    assert not EvalJob.objects.exists()
    assert not AuditEntry.objects.exists()


def test_cancelling_records_who_cancelled_not_who_queued(model):
    requester = UserFactory(role=roles.ENGINEERS)
    job = EvalJobFactory(model=model, requested_by=requester)
    colleague = make_actor(ENGINEER)

    colleague.client.post(reverse("evaluations:job-cancel", args=[job.pk]))

    [entry] = entries(AuditAction.JOB_CANCEL)
    assert entry.actor == colleague.user
    assert entry.description.startswith(f"Cancelled job #{job.pk}")


def test_cancelling_through_the_api_records_the_tokens_owner(model):
    job = EvalJobFactory(model=model, status=JobStatus.RUNNING)
    admin = make_actor(CATALOG_ADMIN)

    response = admin.api("post", f"/api/jobs/{job.pk}/cancel")

    assert response.status_code == 200
    [entry] = entries(AuditAction.JOB_CANCEL)
    assert entry.actor == admin.user
    assert entry.description.startswith(f"Asked to stop job #{job.pk}")


def test_retrying_is_audited(model):
    failed = EvalJobFactory(model=model, status=JobStatus.FAILED)
    engineer = make_actor(ENGINEER)

    engineer.client.post(reverse("evaluations:job-retry", args=[failed.pk]))

    [entry] = entries(AuditAction.JOB_RETRY)
    retry = EvalJob.objects.get(retry_of=failed)
    assert entry.actor == engineer.user
    assert entry.description.startswith(f"Retried job #{failed.pk} as job #{retry.pk}")


def test_the_worker_starting_a_job_is_not_a_person_s_action(model):
    from evaluations.services import eval_job_start

    job = EvalJobFactory(model=model)
    before = AuditEntry.objects.count()

    eval_job_start(job_id=job.pk, worker_host="worker-1")

    assert AuditEntry.objects.count() == before


def test_importing_results_on_the_web_is_audited():
    LanguageModelFactory(key="qwen2.5-1.5b", name="Qwen2.5 1.5B", hf_repo="Qwen/Qwen2.5-1.5B")
    engineer = make_actor(ENGINEER)

    response = engineer.client.post(
        reverse("evaluations:import"),
        {"files": [SimpleUploadedFile(V04.name, V04.read_bytes(), "application/json")]},
    )

    assert response.status_code == 200
    [entry] = entries(AuditAction.RESULTS_IMPORT)
    assert entry.actor == engineer.user
    assert V04.name in entry.description and "Qwen2.5 1.5B" in entry.description


def test_uploading_a_domain_set_is_audited():
    engineer = make_actor(ENGINEER)
    data = b'{"question": "2+2?", "answer": "4"}\n'

    engineer.client.post(
        reverse("evaluations:domain-sets"),
        {"name": "claims", "file": SimpleUploadedFile("claims.jsonl", data)},
    )
    # The same content again stores nothing new, and logs nothing new.
    engineer.client.post(
        reverse("evaluations:domain-sets"),
        {"name": "claims", "file": SimpleUploadedFile("claims.jsonl", data)},
    )

    [entry] = entries(AuditAction.DOMAIN_SET_UPLOAD)
    assert entry.actor == engineer.user
    assert "“claims” (1 questions)" in entry.description


# ---------------------------------------------------------------- who sees it


def test_catalog_admins_read_the_log_in_the_admin(admin_actor, model):
    EvalJobFactory(model=model)  # a factory job is saved: one "queued" entry, actor unknown
    entry = AuditEntry.objects.get()

    listing = admin_actor.client.get(reverse("admin:audit_auditentry_changelist"))
    detail = admin_actor.client.get(reverse("admin:audit_auditentry_change", args=[entry.pk]))

    assert listing.status_code == 200
    assert entry.description in listing.content.decode()
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content  # read-only


def test_nobody_adds_changes_or_deletes_audit_entries(admin_actor, model):
    EvalJobFactory(model=model)
    entry = AuditEntry.objects.get()
    client = admin_actor.client

    assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    client.post(
        reverse("admin:audit_auditentry_change", args=[entry.pk]), {"description": "rewritten"}
    )
    client.post(
        reverse("admin:audit_auditentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    entry.refresh_from_db()
    assert entry.description != "rewritten"


@pytest.mark.parametrize("role", [PROJECT_MANAGER, ENGINEER])
def test_other_roles_do_not_see_the_log(role):
    actor = make_actor(role)

    response = actor.client.get(reverse("admin:audit_auditentry_changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
