import re

import pytest
from playwright.sync_api import expect

from accounts import roles
from evaluations.demo import demo_model_ensure
from evaluations.models import EvalJob, JobStatus

from ..factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def test_an_engineer_queues_a_job_and_watches_it_finish(log_in, live_server, eval_worker):
    demo_model_ensure()
    page = log_in(UserFactory(role=roles.ENGINEERS))
    page.get_by_role("link", name="Evaluations").click()
    page.get_by_role("link", name="Queue a job").click()

    page.locator("#id_model").select_option("rightsize-tiny-demo")
    page.locator("#id_tasks").fill("rightsize_demo_mc, rightsize_demo_gen")
    page.locator("#id_device").select_option("cpu")
    page.locator("#id_limit").fill("10")
    page.get_by_role("button", name="Queue job").click()

    expect(page).to_have_url(re.compile(r"/evaluations/jobs/\d+/$"))
    expect(page.get_by_text("is queued on the cpu queue")).to_be_visible()
    progress = page.locator("#job-progress")
    expect(progress).to_have_attribute("value", "100", timeout=90_000)
    expect(page.locator(".status").first).to_have_text("Succeeded")
    expect(page.locator("#results")).to_contain_text("rightsize_demo_mc")
    expect(page.locator("#results")).to_contain_text("exact_match")
    job = EvalJob.objects.get()
    assert job.status == JobStatus.SUCCEEDED
    assert job.requested_via == "web"


def test_a_project_manager_cannot_reach_the_queue_form_or_the_api(log_in, live_server):
    page = log_in(UserFactory(role=roles.PROJECT_MANAGERS))
    expect(page.get_by_role("link", name="Queue a job")).to_have_count(0)
    response = page.goto(f"{live_server.url}/evaluations/jobs/new/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    api = page.goto(f"{live_server.url}/api/jobs")
    assert api.status == 401  # no token: the API answers only to engineers' tokens
    docs = page.goto(f"{live_server.url}/api/docs")
    assert docs.status == 403
