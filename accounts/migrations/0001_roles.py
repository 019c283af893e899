"""Create the three roles with their catalog permissions.

The permission lists are written out here (not imported) so the migration keeps meaning what it
meant when it was written; later apps add their permissions in their own migrations."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CATALOG_MODELS = (
    "languagemodel",
    "apideployment",
    "selfhosteddeployment",
    "hardwareprofile",
    "reportedscore",
    "source",
    "licence",
    "catalogsettings",
)
VIEW_CATALOG = [f"view_{name}" for name in CATALOG_MODELS]
EDIT_CATALOG = [
    f"{action}_{name}"
    for name in CATALOG_MODELS
    for action in ("add", "change", "delete")
    if not (name == "catalogsettings" and action == "delete")
]

ROLE_PERMISSIONS = {
    "Project managers": VIEW_CATALOG,
    "Engineers": VIEW_CATALOG,
    "Catalog admins": VIEW_CATALOG + EDIT_CATALOG + ["approve_execution"],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations ran; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = Permission.objects.filter(
            content_type__app_label="catalog", codename__in=codenames
        )
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Permissions missing for {role}: {sorted(missing)}")
        group.permissions.add(*permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
