import re

import pytest
from playwright.sync_api import expect

from accounts import roles
from catalog.models import LanguageModel

from ..factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_anonymous_visitor_is_sent_to_the_login(page, live_server):
    page.goto(f"{live_server.url}/catalog/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/catalog/"))
    expect(page.get_by_role("heading", name="Log in to Rightsize")).to_be_visible()


def test_a_wrong_password_is_refused(page, live_server, transactional_db):
    user = UserFactory(role=roles.PROJECT_MANAGERS)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("didn't match")).to_be_visible()


@pytest.mark.parametrize("role", roles.ROLES)
def test_each_role_browses_filters_and_opens_a_model(role, log_in, loaded_catalog):
    page = log_in(UserFactory(role=role))
    expect(page.get_by_role("heading", name="Model catalog")).to_be_visible()
    table = page.locator("#catalog-table")
    expect(table.get_by_role("link", name="GPT-4", exact=True)).to_be_visible()

    page.get_by_label("Size class").select_option("small")
    expect(table.get_by_role("link", name="GPT-4", exact=True)).to_have_count(0)
    expect(table.get_by_role("link", name="Phi-2", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"size_class=small"))  # htmx pushed the filter

    page.get_by_label("Weights").select_option("open")
    page.get_by_label("Sort").select_option("-mmlu")
    first_row = table.locator("tbody tr").first
    expect(first_row).to_be_visible()

    table.get_by_role("link", name="Phi-2", exact=True).click()
    expect(page.get_by_role("heading", name="Phi-2")).to_be_visible()
    expect(page.get_by_role("heading", name="Reported scores")).to_be_visible()
    expect(page.get_by_text("compute-optimal ~20")).to_be_visible()


def test_the_catalog_admin_adds_a_model_in_the_admin(page, log_in, loaded_catalog, live_server):
    log_in(UserFactory(role=roles.CATALOG_ADMINS))
    page.goto(f"{live_server.url}/admin/catalog/languagemodel/add/")
    page.locator("#id_name").press_sequentially("Acme Tiny 1B")
    expect(page.locator("#id_key")).to_have_value("acme-tiny-1b")  # prepopulated from the name
    page.locator("#id_family").fill("Acme")
    page.locator("#id_organisation").fill("Acme Labs")
    page.locator("#id_parameters").fill("1100000000")
    _choose(page, "parameters_source", "Phi-2")
    page.locator("#id_weights").select_option("api_only")
    _choose(page, "weights_source", "Phi-2")
    page.locator("input[name=_save]").click()

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert LanguageModel.objects.get(key="acme-tiny-1b").parameters == 1_100_000_000
    page.goto(f"{live_server.url}/catalog/?search=acme")
    expect(page.locator("#catalog-table").get_by_role("link", name="Acme Tiny 1B")).to_be_visible()


def test_a_project_manager_cannot_open_the_admin(page, log_in, live_server, transactional_db):
    log_in(UserFactory(role=roles.PROJECT_MANAGERS))
    page.goto(f"{live_server.url}/admin/catalog/languagemodel/add/")
    expect(page).to_have_url(re.compile(r"/admin/login/"))


def _choose(page, field: str, text: str) -> None:
    """Pick `text` in one of the admin's autocomplete (select2) widgets."""
    page.locator(f"#id_{field} + .select2 .select2-selection").click()
    page.locator(".select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).first.click()
