"""Create the three roles (accounts/roles.py) with their catalog permissions."""

from django.db import migrations

from accounts.roles import ROLES, permissions_ensure, roles_sync


def create_roles(apps, schema_editor):
    permissions_ensure(apps)
    roles_sync(apps)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
