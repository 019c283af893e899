from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts import roles
from catalog.models import LanguageModel
from evaluations.uploads import domain_set_upload

from ..evaluations.factories import EvalRunFactory, MetricResultFactory
from ..factories import (
    HardwareProfileFactory,
    LanguageModelFactory,
    SelfHostedDeploymentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

CLAIMS = (
    b'{"question": "Is a broken window covered?", "choices": ["yes", "no"], "answer": 0}\n'
    b'{"question": "Is wear and tear covered?", "choices": ["yes", "no"], "answer": 1}\n'
)


def test_an_engineer_registers_a_checkpoint_and_compares_it_with_its_base(
    page, live_server, log_in
):
    base = LanguageModelFactory(key="mistral-7b", name="Mistral 7B", hf_repo="mistralai/m7b")
    SelfHostedDeploymentFactory(
        model=base, hardware=HardwareProfileFactory(name="1 x L4", usd_per_hour=Decimal("0.8"))
    )
    HardwareProfileFactory(key="a100", name="1 x A100 80GB", usd_per_hour=Decimal("2.00"))
    log_in(UserFactory(role=roles.ENGINEERS))

    page.get_by_role("link", name="Register a finetuned checkpoint").click()
    page.locator("#id_base_model").select_option("mistral-7b")
    page.locator("#id_name").fill("Mistral 7B claims")
    page.locator("#id_method").select_option("lora")
    page.locator("#id_data_description").fill("40,000 insurance claims, 2021-2023")
    page.locator("#id_gpu_hours").fill("6")
    page.locator("#id_hardware").select_option("a100")
    page.locator("#id_trained_on").fill("2024-03-01")
    page.locator("#id_location_kind").select_option("adapter")
    page.locator("#id_location").fill("acme/mistral-7b-claims-lora")
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", name="Mistral 7B claims")).to_be_visible()
    facts = page.locator("#finetune-facts")
    expect(facts).to_contain_text("Mistral 7B")
    expect(facts).to_contain_text("40,000 insurance claims")
    expect(facts).to_contain_text("$12.00")  # 6 GPU-hours x $2.00
    checkpoint = LanguageModel.objects.get(key="mistral-7b-claims")

    domain_set, _ = domain_set_upload(
        name="Claims triage", description="", data=CLAIMS, uploaded_by=None
    )
    for model, value in ((base, 0.5), (checkpoint, 1.0)):
        MetricResultFactory(
            run=EvalRunFactory(job__model=model),
            task=domain_set.task_name,
            value=value,
            stderr=0.25 if value < 1 else 0.0,
        )

    page.goto(f"{live_server.url}/evaluations/domain-sets/")
    page.locator("#domain-sets tr", has_text="Claims triage").get_by_role(
        "link", name="Compare models"
    ).click()
    table = page.locator("#comparison")
    base_row = table.locator("tr[data-model='mistral-7b']")
    checkpoint_row = table.locator("tr[data-model='mistral-7b-claims']")
    expect(base_row).to_contain_text("base model")
    expect(base_row).to_contain_text("0.500 ± 0.250")
    expect(checkpoint_row).to_contain_text("finetuned from Mistral 7B")
    expect(checkpoint_row).to_contain_text("1.000 ± 0.000")
    expect(checkpoint_row).to_contain_text("$12.00")
    expect(checkpoint_row).to_contain_text("$584.00")  # its base's 1 x L4, $0.80 x 730 hours

    page.locator("#id_requests_per_month").fill("5000")
    page.get_by_role("button", name="Recompute costs").click()
    expect(page.locator("#cost-notes")).to_contain_text("5,000 requests a month")
