"""htmx, the admin and the API docs keep working under the content security policy, and the
browser reports no violation of it."""

import re

import pytest
from playwright.sync_api import expect

from accounts import roles
from evaluations.models import JobStatus

from ..evaluations.factories import EvalJobFactory
from ..factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def watched_page(page):
    """The page, recording CSP violations (events and console errors) as it goes."""
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.add_init_script(RECORD_VIOLATIONS)

    def violations() -> list[str]:
        return page.evaluate("window.__cspViolations || []") + console

    page.csp_violations = violations
    return page


def test_the_catalog_filter_works_under_the_policy(watched_page, log_in, loaded_catalog):
    page = log_in(UserFactory(role=roles.PROJECT_MANAGERS))
    assert "script-src 'self'" in page.request.get(page.url).headers["content-security-policy"]
    table = page.locator("#catalog-table")
    expect(table.get_by_role("link", name="GPT-4", exact=True)).to_be_visible()

    page.get_by_label("Size class").select_option("small")

    expect(table.get_by_role("link", name="GPT-4", exact=True)).to_have_count(0)
    expect(table.get_by_role("link", name="Phi-2", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"size_class=small"))  # htmx swapped and pushed
    page.locator("input[name=search]").fill("phi")
    expect(table.locator("tbody tr")).to_have_count(
        len([n for n in table.locator("tbody tr a").all_inner_texts() if "phi" in n.lower()])
    )
    assert watched_page.csp_violations() == []


def test_job_polling_and_the_cancel_button_work_under_the_policy(watched_page, log_in, live_server):
    job = EvalJobFactory(status=JobStatus.RUNNING, progress_done=1, progress_total=4)
    page = log_in(UserFactory(role=roles.ENGINEERS))
    page.goto(f"{live_server.url}/evaluations/jobs/{job.pk}/")
    expect(page.locator("#job-progress")).to_have_attribute("value", "25")

    type(job).objects.filter(pk=job.pk).update(progress_done=3)  # the worker moves on

    expect(page.locator("#job-progress")).to_have_attribute("value", "75")  # htmx polled
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("asked to stop")).to_be_visible()
    assert watched_page.csp_violations() == []


def test_the_admin_and_the_api_docs_work_under_the_policy(
    watched_page, log_in, loaded_catalog, live_server
):
    page = log_in(UserFactory(role=roles.CATALOG_ADMINS))
    page.goto(f"{live_server.url}/admin/catalog/languagemodel/?q=phi")
    page.get_by_role("link", name="Phi-2", exact=True).click()
    page.locator("#id_licence + .select2 .select2-selection").click()  # jQuery's autocomplete
    expect(page.locator(".select2-results__option").first).to_be_visible()
    page.keyboard.press("Escape")
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name=re.compile("Change history"))).to_be_visible()

    page.goto(f"{live_server.url}/api/docs")
    expect(page.get_by_text("/api/jobs").first).to_be_visible()  # Swagger UI rendered

    assert watched_page.csp_violations() == []
