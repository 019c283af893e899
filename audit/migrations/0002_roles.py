"""Catalog admins read the audit log (accounts/roles.py)."""

from django.db import migrations

from accounts.roles import sync_roles_migration


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("accounts", "0004_roles_imports"),
    ]

    operations = [migrations.RunPython(sync_roles_migration, migrations.RunPython.noop)]
