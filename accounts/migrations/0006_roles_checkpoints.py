"""Engineers (and catalog admins) register finetuned checkpoints; every role reads finetunes,
catalog admins curate them (catalog.Finetune)."""

from django.db import migrations

from accounts.roles import permissions_ensure, roles_sync


def sync_roles(apps, schema_editor):
    permissions_ensure(apps)
    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_roles_advisor"),
        ("catalog", "0003_finetune"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
