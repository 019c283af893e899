"""The advisor uses a finetuned checkpoint's measured domain-set results instead of estimating
the finetuned candidate, and says so."""

import datetime
import json

import pytest
from django.core.management import call_command

from advisor.services import advice_compute
from catalog.services import checkpoint_register
from evaluations.uploads import domain_set_upload

from ..evaluations.factories import EvalRunFactory, MetricResultFactory
from .test_advisor_web import HOSPITAL

pytestmark = pytest.mark.django_db


@pytest.fixture
def claims_set(engineer):
    call_command("load_catalog", verbosity=0)
    lines = [{"question": f"q{n}", "choices": ["a", "b"], "answer": n % 2} for n in range(10)]
    domain_set, _ = domain_set_upload(
        name="Claims", description="", data="\n".join(map(json.dumps, lines)).encode(),
        uploaded_by=engineer,
    )  # fmt: skip
    return domain_set


def _finetuned_candidate(result, key):
    return next(
        c for c in result["ranking"]
        if c["model"] == key and c["deployment"] == "self_hosted_finetuned"
    )  # fmt: skip


def test_a_measured_finetune_replaces_the_estimate(claims_set, engineer):
    use_case = {**HOSPITAL, "domain_eval_set": "Claims"}
    before = advice_compute(data=use_case).result
    phi = _finetuned_candidate(before, "phi-4")
    assert phi["accuracy_is_estimate"]

    checkpoint = checkpoint_register(
        base_model="phi-4", name="Phi-4 claims", key="phi-4-claims", method="lora",
        data_description="20,000 coded claims", gpu_hours=12, trained_on=datetime.date(2026, 11, 1),
        location="acme/phi-4-claims-lora", location_kind="adapter", registered_by=engineer,
        hardware_description="1 x A100 80GB",
    )  # fmt: skip
    run = EvalRunFactory(job__model=checkpoint, model=checkpoint)
    MetricResultFactory(run=run, task=claims_set.task_name, value=0.91, stderr=0.02)

    after = advice_compute(data=use_case)
    phi = _finetuned_candidate(after.result, "phi-4")
    assert not phi["accuracy_is_estimate"]
    tuned = [f for f in phi["evidence"] if f["benchmark"] == "Claims"]
    assert tuned and tuned[0]["kind"] == "measured" and tuned[0]["value"] == 0.91
    labels = [e["label"] for e in after.evidence]
    assert any("finetuned: Phi-4 claims" in label for label in labels)
