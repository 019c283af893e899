"""Every role may use the advisor: describe use cases, save and re-run recommendations."""

from django.db import migrations

from accounts.roles import permissions_ensure, roles_sync


def sync_roles(apps, schema_editor):
    permissions_ensure(apps)
    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_roles_imports"),
        ("advisor", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
