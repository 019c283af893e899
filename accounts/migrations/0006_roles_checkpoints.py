"""Engineers (and catalog admins) register finetuned checkpoints; every role reads finetunes,
catalog admins curate them (catalog.Finetune)."""

from django.db import migrations

from accounts.roles import sync_roles_migration


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_roles_advisor"),
        ("catalog", "0003_finetune"),
    ]

    operations = [migrations.RunPython(sync_roles_migration, migrations.RunPython.noop)]
