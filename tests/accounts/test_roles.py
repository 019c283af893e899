import pytest
from django.contrib.auth.models import Group

from accounts.roles import ROLE_PERMISSIONS, ROLES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ROLES)
def test_migrations_give_each_role_exactly_its_permissions(role):
    granted = {
        (p.content_type.app_label, p.codename)
        for p in Group.objects.get(name=role).permissions.select_related("content_type")
    }
    assert granted == set(ROLE_PERMISSIONS[role])


def test_each_role_may_do_what_the_one_before_may():
    pm, engineer, admin = (set(ROLE_PERMISSIONS[role]) for role in ROLES)
    assert pm < engineer < admin
