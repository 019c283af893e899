from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts import roles

from ..factories import UserFactory
from .conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)
FIXTURE = (
    Path(__file__).parents[1]
    / "evaluations/fixtures/lm_eval_results/qwen2.5-1.5b_v0.4_results.json"
)


def test_an_engineer_uploads_results_and_a_domain_set_and_a_pm_sees_the_matrix(
    browser, live_server, loaded_catalog, tmp_path
):
    engineer_page = browser.new_page()
    sign_in(engineer_page, live_server.url, UserFactory(role=roles.ENGINEERS))
    engineer_page.goto(f"{live_server.url}/evaluations/import/")
    engineer_page.locator("#id_files").set_input_files(str(FIXTURE))
    engineer_page.get_by_role("button", name="Import").click()
    expect(engineer_page.locator("#outcomes")).to_contain_text("imported as run")
    expect(engineer_page.locator("#outcomes")).to_contain_text("Qwen2.5 1.5B")

    domain_file = tmp_path / "claims.jsonl"
    domain_file.write_text(
        '{"question": "Is a broken window covered?", "choices": ["yes", "no"], "answer": 0}\n'
        '{"question": "Is wear and tear covered?", "choices": ["yes", "no"], "answer": 1}\n'
    )
    engineer_page.goto(f"{live_server.url}/evaluations/domain-sets/")
    engineer_page.locator("#id_name").fill("Claims triage")
    engineer_page.locator("#id_file").set_input_files(str(domain_file))
    engineer_page.get_by_role("button", name="Upload").click()
    expect(engineer_page.locator(".messages")).to_contain_text("2 questions stored")
    expect(engineer_page.locator("#domain-sets")).to_contain_text("domain_claims_triage_")

    pm_page = browser.new_page()
    sign_in(pm_page, live_server.url, UserFactory(role=roles.PROJECT_MANAGERS))
    pm_page.get_by_role("link", name="Results").click()
    matrix = pm_page.locator("#matrix")
    expect(matrix).to_contain_text("Qwen2.5 1.5B")
    qwen_row = matrix.locator("tr", has_text="Qwen2.5 1.5B")
    expect(qwen_row.locator(".tag-measured").first).to_be_visible()
    expect(matrix.locator(".tag-reported").first).to_be_visible()
    pm_page.goto(f"{live_server.url}/evaluations/import/")
    expect(pm_page.get_by_role("heading", name="Not allowed")).to_be_visible()
