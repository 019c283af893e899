import datetime
import hashlib

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from accounts.models import ApiToken
from accounts.selectors import api_token_authenticate
from accounts.services import api_token_create, api_token_revoke
from config.errors import ApplicationError

from ..factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_created_token_authenticates_as_its_owner(engineer):
    _, raw = api_token_create(user=engineer, name="CI")

    assert raw.startswith("rs_")
    assert api_token_authenticate(raw) == engineer


def test_only_the_hash_of_a_token_is_stored(engineer):
    token, raw = api_token_create(user=engineer, name="CI")

    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert not any(raw in str(value) for value in row.values())
    assert row["key_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert row["key_prefix"] == raw[:8]


def test_each_token_is_different(engineer):
    _, first = api_token_create(user=engineer, name="one")
    _, second = api_token_create(user=engineer, name="two")

    assert first != second
    assert len(first) > 40


def test_a_token_needs_a_name(engineer):
    with pytest.raises(ApplicationError, match="name"):
        api_token_create(user=engineer, name="  ")
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("raw", ["", "rs_not-a-token", "Bearer"])
def test_an_unknown_token_is_refused(engineer, raw):
    api_token_create(user=engineer, name="CI")

    assert api_token_authenticate(raw) is None


def test_a_revoked_token_is_refused(engineer):
    token, raw = api_token_create(user=engineer, name="CI")

    api_token_revoke(token=token, by=engineer)

    assert api_token_authenticate(raw) is None
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_another_user_cannot_revoke_a_token(engineer, catalog_admin):
    token, raw = api_token_create(user=engineer, name="CI")

    with pytest.raises(ApplicationError, match="owner"):
        api_token_revoke(token=token, by=catalog_admin)

    token.refresh_from_db()
    assert token.revoked_at is None
    assert api_token_authenticate(raw) == engineer


def test_a_deactivated_users_token_is_refused(engineer):
    _, raw = api_token_create(user=engineer, name="CI")
    engineer.is_active = False
    engineer.save()

    assert api_token_authenticate(raw) is None


def test_last_use_is_recorded_at_most_once_a_minute(engineer):
    token, raw = api_token_create(user=engineer, name="CI")

    api_token_authenticate(raw)
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None

    api_token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at == first_use

    a_while_ago = timezone.now() - datetime.timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=a_while_ago)
    api_token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at > a_while_ago


# ---------------------------------------------------------------- the page


def test_the_page_shows_a_new_token_once(client, engineer):
    client.force_login(engineer)

    created = client.post(reverse("accounts:token-list"), {"name": "CI nightly"})

    token = ApiToken.objects.get(user=engineer)
    raw = created.context["new_token"]["raw"]
    assert created.status_code == 200
    assert raw in created.content.decode()
    assert "will not be shown again" in created.content.decode()
    assert "no-store" in created["Cache-Control"]
    assert api_token_authenticate(raw) == engineer

    later = client.get(reverse("accounts:token-list"))
    page = later.content.decode()
    assert raw not in page
    assert token.key_prefix in page
    assert "CI nightly" in page


def test_the_page_lists_only_ones_own_tokens(client, engineer, catalog_admin):
    api_token_create(user=catalog_admin, name="admin's script")
    api_token_create(user=engineer, name="my script")
    client.force_login(engineer)

    page = client.get(reverse("accounts:token-list")).content.decode()

    assert "my script" in page
    assert "admin&#x27;s script" not in page and "admin's script" not in page


@pytest.mark.parametrize("role", roles.ROLES)
def test_every_role_may_manage_its_tokens(client, user_with_role, role):
    client.force_login(user_with_role(role))

    response = client.post(reverse("accounts:token-list"), {"name": "mine"})

    assert response.status_code == 200
    assert ApiToken.objects.count() == 1


def test_the_page_needs_an_account(client):
    response = client.get(reverse("accounts:token-list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_owner_revokes_a_token_on_the_page(client, engineer):
    token, raw = api_token_create(user=engineer, name="CI")
    client.force_login(engineer)

    response = client.post(reverse("accounts:token-revoke", args=[token.pk]), follow=True)

    assert response.status_code == 200
    assert "Revoked" in response.content.decode()
    assert api_token_authenticate(raw) is None


def test_another_user_cannot_revoke_a_token_on_the_page(client, engineer):
    token, raw = api_token_create(user=engineer, name="CI")
    client.force_login(UserFactory(role=roles.ENGINEERS))

    response = client.post(reverse("accounts:token-revoke", args=[token.pk]), follow=True)

    assert "Only the owner" in response.content.decode()
    assert api_token_authenticate(raw) == engineer


def test_revoking_needs_a_post(client, engineer):
    token, raw = api_token_create(user=engineer, name="CI")
    client.force_login(engineer)

    response = client.get(reverse("accounts:token-revoke", args=[token.pk]))

    assert response.status_code == 405
    assert api_token_authenticate(raw) == engineer
