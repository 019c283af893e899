import re

import pytest
from playwright.sync_api import expect

from accounts import roles

from ..factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_project_manager_gets_a_recommendation_saves_it_and_opens_the_permalink(
    log_in, live_server, loaded_catalog
):
    page = log_in(UserFactory(role=roles.PROJECT_MANAGERS))
    page.get_by_role("link", name="Advisor").click()
    page.locator("#id_name").fill("Discharge letters")
    page.locator("input[value=summarisation]").check()
    preview = page.locator("#preview")
    expect(preview.locator(".verdict")).to_be_visible()
    first_top = preview.locator("#ranking tbody tr").first.inner_text()

    # Health records that must stay in the hospital: the preview follows the change.
    page.locator("#id_data_sensitivity").select_option("regulated")
    page.locator("#id_data_location").select_option("on_premises")
    page.locator("#id_needs_ownership").check()
    page.locator("#id_labelled_examples").fill("20000")
    expect(preview).to_contain_text("Verdict: a small model")
    expect(preview.locator("#ranking tbody tr").first).not_to_have_text(first_top)
    expect(preview.locator("#ranking")).not_to_contain_text("hosted API")
    assert _chart_drawn(page)

    page.get_by_role("button", name="Save recommendation").click()
    expect(page).to_have_url(re.compile(r"/advisor/r/[0-9a-f-]{36}/$"))
    permalink = page.url
    expect(page.get_by_role("heading", name="Discharge letters")).to_be_visible()
    expect(page.locator(".verdict")).to_contain_text("small")
    assert _chart_drawn(page)

    page.goto(f"{live_server.url}/advisor/recommendations/")
    page.get_by_role("link", name="Discharge letters").click()
    expect(page).to_have_url(permalink)


def _chart_drawn(page) -> bool:
    page.wait_for_function(
        "() => { const c = document.querySelector('canvas[data-decision-chart]');"
        " const chart = c && window.Chart && Chart.getChart(c);"
        " return chart && chart.data.datasets[2].data.length > 0; }"
    )
    return True
