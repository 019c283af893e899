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
    "finetune",
)
_VIEW_CATALOG = [("catalog", f"view_{name}") for name in _CATALOG_MODELS]
_EDIT_CATALOG = [
    ("catalog", f"{action}_{name}")
    for name in _CATALOG_MODELS
    for action in ("add", "change", "delete")
    if not (name == "catalogsettings" and action == "delete")
]

_READ_RESULTS = [
    ("evaluations", f"view_{name}")
    for name in ("evaljob", "evalrun", "metricresult", "domainevalset")
]
# Queue jobs (add) and manage them: cancel, retry (change); import result files (add run);
# upload domain evaluation sets.
_RUN_EVALUATIONS = [
    ("evaluations", "add_evaljob"),
    ("evaluations", "change_evaljob"),
    ("evaluations", "add_evalrun"),
    ("evaluations", "add_domainevalset"),
]

# Register the organisation's own finetuned checkpoints (catalog/services.checkpoint_register),
# without the catalog admin's right to edit the rest of the catalog.
_REGISTER_CHECKPOINTS = [("catalog", "register_checkpoint")]

# Describe use cases, get, save and re-run recommendations.
_USE_ADVISOR = [("advisor", "add_recommendation"), ("advisor", "view_recommendation")]

# Each role may do what the one before it may, and more.
_PROJECT_MANAGER = [*_VIEW_CATALOG, *_READ_RESULTS, *_USE_ADVISOR]
_ENGINEER = [*_PROJECT_MANAGER, *_RUN_EVALUATIONS, *_REGISTER_CHECKPOINTS]
_CATALOG_ADMIN = [
    *_ENGINEER,
    *_EDIT_CATALOG,
    ("catalog", "approve_execution"),
    ("audit", "view_auditentry"),  # the audit log, read-only in the admin
]

# role -> (app label, permission codename)
ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    PROJECT_MANAGERS: _PROJECT_MANAGER,
    ENGINEERS: _ENGINEER,
    CATALOG_ADMINS: _CATALOG_ADMIN,
}


def permissions_ensure(apps) -> None:
    """Create every model's permissions now; Django normally does so only after migrating."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def roles_sync(apps) -> None:
    """Create the role groups and give each exactly its permissions.

    `apps` is a migration's historical registry or `django.apps.apps`. The permissions must
    exist already (see the migration, which creates them first)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    # An early migration runs before later apps' and models' permissions exist: it grants what
    # exists by then, and the migration that adds the models calls this again.
    existing = {
        (permission.content_type.app_label, permission.codename): permission
        for permission in Permission.objects.select_related("content_type")
    }
    for role, wanted in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([existing[name] for name in wanted if name in existing])


def sync_roles_migration(apps, schema_editor) -> None:
    """The RunPython step of every migration that gives the roles new permissions."""
    permissions_ensure(apps)
    roles_sync(apps)
