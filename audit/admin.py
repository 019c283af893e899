"""The audit log in the admin: read-only, for catalog admins (audit.view_auditentry)."""

from django.contrib import admin
from django.contrib.admin import actions as admin_actions
from django.contrib.contenttypes.models import ContentType

from .models import AuditAction, AuditEntry
from .services import audit_record


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_name", "action", "object_repr", "description")
    list_filter = ("action",)
    search_fields = ("actor_name", "object_repr", "description")
    date_hierarchy = "at"
    list_select_related = ("content_type",)
    fields = (
        "at",
        "actor",
        "actor_name",
        "action",
        "content_type",
        "object_id",
        "object_repr",
        "description",
    )
    readonly_fields = fields

    # Nobody writes the log by hand, changes it or deletes from it.
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.action(permissions=["delete"], description=admin_actions.delete_selected.short_description)
def delete_selected(modeladmin, request, queryset):
    """Django's "Delete selected" action, audited. Django logs a bulk deletion with
    bulk_create, which sends no post_save, so audit.receivers never sees it."""
    confirmed = bool(request.POST.get("post"))
    targets = [(str(obj.pk), str(obj)) for obj in queryset] if confirmed else []
    response = admin_actions.delete_selected(modeladmin, request, queryset)
    if (
        confirmed
        and response is None
        and not queryset.model.objects.filter(pk__in=[pk for pk, _ in targets]).exists()
    ):
        content_type = ContentType.objects.get_for_model(queryset.model, for_concrete_model=False)
        for pk, text in targets:
            audit_record(
                action=AuditAction.ADMIN_DELETE,
                description=f"{AuditAction.ADMIN_DELETE.label}: {content_type.name} “{text}”.",
                actor=request.user,
                content_type=content_type,
                object_id=pk,
                object_repr=text,
            )
    return response


admin.site.add_action(delete_selected, "delete_selected")
