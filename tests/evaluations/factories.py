import factory

from evaluations.models import EvalJob, EvalRun, JobStatus, MetricResult

from ..factories import LanguageModelFactory


class EvalJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvalJob

    model = factory.SubFactory(LanguageModelFactory)
    backend = "hf"
    model_args = factory.LazyFunction(lambda: {"pretrained": "org/model"})
    tasks = factory.LazyFunction(lambda: ["rightsize_demo_mc"])
    device = "cpu"
    queue = "cpu"
    spec_hash = factory.Sequence(lambda n: f"{n:064d}")
    status = JobStatus.QUEUED
    requested_via = "web"


class EvalRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvalRun

    job = factory.SubFactory(EvalJobFactory, status=JobStatus.SUCCEEDED)
    model = factory.SelfAttribute("job.model")
    raw = factory.LazyFunction(dict)
    lm_eval_version = "0.4.13"


class MetricResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MetricResult

    run = factory.SubFactory(EvalRunFactory)
    task = "rightsize_demo_mc"
    metric = "acc"
    filter = "none"
    value = 0.5
    stderr = 0.1
