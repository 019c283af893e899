"""Signal receivers that write the audit log.

Why signals and not the views: the actions to audit reach the database through several doors
(web views, the JSON API, management commands, the admin), and the services that write them
belong to evaluations/. A receiver on the row that each action creates or changes sees every
door at once, and writes its entry in the same transaction as the action. Who acted comes from
the row where the row says it (`requested_by`, `imported_by`, `uploaded_by`, LogEntry.user) and
otherwise from the request being served (audit.middleware)."""

from __future__ import annotations

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from catalog.models import LanguageModel
from evaluations.models import DomainEvalSet, EvalJob, EvalRun, JobStatus, RunOrigin

from .middleware import current_user
from .models import AuditAction
from .services import audit_record

_ADMIN_ACTIONS = {
    ADDITION: AuditAction.ADMIN_ADD,
    CHANGE: AuditAction.ADMIN_CHANGE,
    DELETION: AuditAction.ADMIN_DELETE,
}


@receiver(post_save, sender=LogEntry, dispatch_uid="audit-admin-log-entry")
def admin_action_logged(sender, instance: LogEntry, created: bool, raw: bool = False, **kwargs):
    """Every single-object add, change and delete in the admin (Django writes a LogEntry).

    Bulk deletions are written with bulk_create, which sends no signal: audit/admin.py wraps
    the "Delete selected" action for those."""
    action = _ADMIN_ACTIONS.get(instance.action_flag)
    if raw or not created or action is None:
        return
    kind = instance.content_type.name if instance.content_type_id else "object"
    changes = instance.get_change_message()
    description = f"{action.label}: {kind} “{instance.object_repr}”."
    if instance.action_flag == CHANGE:
        description += f" {changes or 'No fields changed.'}"
    audit_record(
        action=action,
        description=description,
        actor=instance.user,
        content_type=instance.content_type,
        object_id=str(instance.object_id or ""),
        object_repr=instance.object_repr,
    )


# ---------------------------------------------------------------- trust_remote_code


@receiver(pre_save, sender=LanguageModel, dispatch_uid="audit-trust-before")
def remember_remote_code_approval(sender, instance: LanguageModel, raw: bool = False, **kwargs):
    update_fields = kwargs.get("update_fields")
    if raw or (update_fields is not None and "trust_remote_code_approved" not in update_fields):
        instance._audit_trust_before = None  # not being written: nothing to compare
        return
    if instance._state.adding:
        instance._audit_trust_before = False
        return
    instance._audit_trust_before = (
        LanguageModel.objects.filter(pk=instance.pk)
        .values_list("trust_remote_code_approved", flat=True)
        .first()
    )


@receiver(post_save, sender=LanguageModel, dispatch_uid="audit-trust-after")
def remote_code_approval_changed(sender, instance: LanguageModel, raw: bool = False, **kwargs):
    before = getattr(instance, "_audit_trust_before", None)
    instance._audit_trust_before = None
    if raw or before is None or before == instance.trust_remote_code_approved:
        return
    if instance.trust_remote_code_approved:
        action = AuditAction.APPROVE_REMOTE_CODE
        description = f"Approved trust_remote_code for {instance.name}: jobs may run its code."
    else:
        action = AuditAction.WITHDRAW_REMOTE_CODE
        description = f"Withdrew the trust_remote_code approval of {instance.name}."
    audit_record(action=action, description=description, actor=current_user(), target=instance)


# ---------------------------------------------------------------- evaluation jobs and data


@receiver(post_save, sender=EvalJob, dispatch_uid="audit-eval-job")
def eval_job_saved(sender, instance: EvalJob, created: bool, raw: bool = False, **kwargs):
    if raw:
        return
    what = f"{instance.model.name} on {', '.join(instance.tasks)}"
    if created:
        if instance.retry_of_id:
            action = AuditAction.JOB_RETRY
            description = f"Retried job #{instance.retry_of_id} as job #{instance.pk} ({what})."
        elif instance.reused_from_id:
            action = AuditAction.JOB_REUSE
            description = (
                f"Asked for job #{instance.pk} ({what}); answered from finished job "
                f"#{instance.reused_from_id}."
            )
        else:
            action = AuditAction.JOB_QUEUE
            description = (
                f"Queued job #{instance.pk} ({what}) on the {instance.queue} queue "
                f"via {instance.get_requested_via_display()}."
            )
        audit_record(
            action=action, description=description, actor=instance.requested_by, target=instance
        )
        return
    # evaluations.services.eval_job_cancel is the one writer of cancel_requested.
    update_fields = kwargs.get("update_fields") or ()
    if "cancel_requested" in update_fields and (
        instance.status == JobStatus.CANCELLED or instance.cancel_requested
    ):
        note = "Cancelled" if instance.status == JobStatus.CANCELLED else "Asked to stop"
        audit_record(
            action=AuditAction.JOB_CANCEL,
            description=f"{note} job #{instance.pk} ({what}).",
            actor=current_user(),
            target=instance,
        )


@receiver(post_save, sender=EvalRun, dispatch_uid="audit-eval-run")
def eval_run_saved(sender, instance: EvalRun, created: bool, raw: bool = False, **kwargs):
    if raw or not created or instance.origin != RunOrigin.IMPORT:
        return
    audit_record(
        action=AuditAction.RESULTS_IMPORT,
        description=f"Imported {instance.file_name} as run #{instance.pk} of {instance.model}.",
        actor=instance.imported_by,
        target=instance,
    )


@receiver(post_save, sender=DomainEvalSet, dispatch_uid="audit-domain-set")
def domain_set_saved(sender, instance: DomainEvalSet, created: bool, raw: bool = False, **kwargs):
    if raw or not created:
        return
    audit_record(
        action=AuditAction.DOMAIN_SET_UPLOAD,
        description=(
            f"Uploaded the domain evaluation set “{instance.name}” ({instance.n_rows} "
            f"questions), task {instance.task_name}."
        ),
        actor=instance.uploaded_by,
        target=instance,
    )
