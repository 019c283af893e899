"""Every role may use the advisor: describe use cases, save and re-run recommendations."""

from django.db import migrations

from accounts.roles import sync_roles_migration


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_roles_imports"),
        ("advisor", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync_roles_migration, migrations.RunPython.noop)]
