"""Give the roles their evaluation permissions (read results; engineers queue and manage jobs)."""

from django.db import migrations

from accounts.roles import permissions_ensure, roles_sync


def sync_roles(apps, schema_editor):
    permissions_ensure(apps)
    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_roles"),
        ("evaluations", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
