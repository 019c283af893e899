"""Catalog admins read the audit log (accounts/roles.py)."""

from django.db import migrations

from accounts.roles import permissions_ensure, roles_sync


def sync_roles(apps, schema_editor):
    permissions_ensure(apps)
    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("accounts", "0004_roles_imports"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
