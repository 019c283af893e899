"""The three roles, as Django groups, and the permissions each holds.

This module is the one place that says what a role may do. Migrations call `roles_sync` with
their historical app registry (accounts/migrations); a later app that adds permissions extends
ROLE_PERMISSIONS and adds a migration that calls `roles_sync` again."""

PROJECT_MANAGERS = "Project managers"
ENGINEERS = "Engineers"
CATALOG_ADMINS = "Catalog admins"

ROLES = (PROJECT_MANAGERS, ENGINEERS, CATALOG_ADMINS)

_CATALOG_MODELS = (
    "languagemodel",
    "apideployment",
    "selfhosteddeployment",
    "hardwareprofile",
    "reportedscore",
    "source",
    "licence",
    "catalogsettings",
)
_VIEW_CATALOG = [("catalog", f"view_{name}") for name in _CATALOG_MODELS]
_EDIT_CATALOG = [
    ("catalog", f"{action}_{name}")
    for name in _CATALOG_MODELS
    for action in ("add", "change", "delete")
    if not (name == "catalogsettings" and action == "delete")
]

# role -> (app label, permission codename)
ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    PROJECT_MANAGERS: _VIEW_CATALOG,
    ENGINEERS: _VIEW_CATALOG,
    CATALOG_ADMINS: [*_VIEW_CATALOG, *_EDIT_CATALOG, ("catalog", "approve_execution")],
}


def roles_sync(apps) -> None:
    """Create the role groups and give each exactly its permissions.

    `apps` is a migration's historical registry or `django.apps.apps`. The permissions must
    exist already (see the migration, which creates them first)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, wanted in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in wanted
        ]
        group.permissions.set(permissions)
