"""Engineers import result files and upload domain evaluation sets; everyone reads them."""

from django.db import migrations

from accounts.roles import permissions_ensure, roles_sync


def sync_roles(apps, schema_editor):
    permissions_ensure(apps)
    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_api_token"),
        ("evaluations", "0002_imports_and_domain_sets"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
