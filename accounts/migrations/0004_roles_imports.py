"""Engineers import result files and upload domain evaluation sets; everyone reads them."""

from django.db import migrations

from accounts.roles import sync_roles_migration


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_api_token"),
        ("evaluations", "0002_imports_and_domain_sets"),
    ]

    operations = [migrations.RunPython(sync_roles_migration, migrations.RunPython.noop)]
