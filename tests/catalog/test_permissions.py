"""Each role against each catalog page and admin action; anonymous visitors go to the login."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts import roles

from ..factories import LanguageModelFactory, UserFactory

pytestmark = pytest.mark.django_db

PM, ENG, ADMIN = roles.PROJECT_MANAGERS, roles.ENGINEERS, roles.CATALOG_ADMINS
ANONYMOUS = "anonymous"


@pytest.fixture
def model():
    return LanguageModelFactory(key="mistral-7b", name="Mistral 7B")


def _client_for(client, role):
    if role != ANONYMOUS:
        client.force_login(UserFactory(role=role))
    return client


def _expect(response, expected):
    if expected == "login":
        assert response.status_code == 302
        assert "/login/" in response["Location"]
    else:
        assert response.status_code == expected


@pytest.mark.parametrize(
    ("role", "expected"), [(ANONYMOUS, "login"), (PM, 200), (ENG, 200), (ADMIN, 200)]
)
@pytest.mark.parametrize("page", ["catalog:model-list", "catalog:model-detail"])
def test_catalog_pages(client, model, role, expected, page):
    args = [model.key] if page.endswith("detail") else []
    _expect(_client_for(client, role).get(reverse(page, args=args)), expected)


@pytest.mark.parametrize("page", ["catalog:model-list", "catalog:model-detail"])
def test_an_account_without_a_role_cannot_read_the_catalog(client, model, page):
    client.force_login(UserFactory())
    args = [model.key] if page.endswith("detail") else []
    assert client.get(reverse(page, args=args)).status_code == 403


ADMIN_PAGES = [
    ("admin:index", False),
    ("admin:catalog_languagemodel_changelist", False),
    ("admin:catalog_languagemodel_add", False),
    ("admin:catalog_languagemodel_change", True),
    ("admin:catalog_languagemodel_delete", True),
    ("admin:catalog_languagemodel_history", True),
    ("admin:catalog_reportedscore_changelist", False),
    ("admin:catalog_hardwareprofile_add", False),
    ("admin:catalog_reportedscore_add", False),
    ("admin:catalog_source_add", False),
    ("admin:catalog_licence_add", False),
    ("admin:catalog_catalogsettings_add", False),
]


@pytest.mark.parametrize(
    ("role", "expected"), [(ANONYMOUS, "login"), (PM, "login"), (ENG, "login"), (ADMIN, 200)]
)
@pytest.mark.parametrize(("page", "takes_model"), ADMIN_PAGES)
def test_admin_pages(client, model, role, expected, page, takes_model):
    url = reverse(page, args=[model.pk] if takes_model else [])
    _expect(_client_for(client, role).get(url), expected)


def test_project_managers_and_engineers_cannot_change_the_catalog(client, model):
    for role in (PM, ENG):
        group = Group.objects.get(name=role)
        codenames = set(
            group.permissions.filter(content_type__app_label="catalog").values_list(
                "codename", flat=True
            )
        )
        assert "view_languagemodel" in codenames
        assert not {c for c in codenames if c.startswith(("add_", "change_", "delete_"))}
        assert "approve_execution" not in codenames


def test_only_catalog_admins_approve_what_may_run(client, model):
    admin_user = UserFactory(role=ADMIN)
    assert admin_user.has_perm("catalog.approve_execution")
    client.force_login(admin_user)
    page = client.get(reverse("admin:catalog_languagemodel_change", args=[model.pk]))
    assert 'name="trust_remote_code_approved"' in page.content.decode()


def test_a_staff_member_without_the_approval_permission_sees_it_read_only(client, model):
    editor = UserFactory(is_staff=True)
    editor.user_permissions.add(
        *Group.objects.get(name=ADMIN).permissions.exclude(codename="approve_execution")
    )
    client.force_login(editor)
    page = client.get(reverse("admin:catalog_languagemodel_change", args=[model.pk]))
    assert page.status_code == 200
    assert 'name="trust_remote_code_approved"' not in page.content.decode()


def test_the_login_page_needs_no_account(client):
    assert client.get(reverse("login")).status_code == 200


def test_logout_ends_the_session(client):
    client.force_login(UserFactory(role=PM))
    client.post(reverse("logout"))
    _expect(client.get(reverse("catalog:model-list")), "login")
