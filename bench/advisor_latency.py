"""Benchmark: recommendation latency with a large catalog and evaluation store in PostgreSQL.

    .venv/bin/python bench/advisor_latency.py [--models 1000] [--runs 20000] [--repeats 50]

Builds (in the `rightsize_bench` database, replacing what an earlier run of this script made)
1,000 models, 2,000 deployments, 3,000 reported scores and 200,000 metric rows (20,000 runs x
10 rows), then times `advice_compute` (what the form preview, the API and `recommend` call):
warm (the digested catalog cached, one query to see nothing changed) and cold (after a
change), the engine alone, and the SQL queries each issues. Targets: median under 50 ms, the
engine under a tenth of that, a bounded number of queries whatever the catalog size."""

from __future__ import annotations

import argparse
import datetime
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import machine, setup_django

BENCHMARKS = ["mmlu", "hellaswag", "arc_challenge", "winogrande", "gsm8k", "humaneval", "mbpp"]
USE_CASE = {
    "name": "Claims triage", "description": "", "task_categories": ["classification", "reasoning"],
    "domain": "insurance", "languages": ["en"], "data_sensitivity": "internal",
    "data_location": "region", "needs_ownership": False, "labelled_examples": 5000,
    "monthly_requests": 300_000, "input_tokens": 800, "output_tokens": 50,
    "latency_p95_ms": None, "monthly_budget_usd": None, "ml_expertise": "some",
    "distinct_tasks": 1, "min_accuracy": None,
    "weights": {"accuracy": 0.4, "cost": 0.3, "privacy": 0.2, "generality": 0.1},
}  # fmt: skip


def build(models: int, runs: int) -> None:
    from catalog.models import (
        ApiDeployment,
        HardwareProfile,
        LanguageModel,
        Licence,
        ReportedScore,
        SelfHostedDeployment,
        Source,
    )  # fmt: skip
    from evaluations.models import EvalRun, MetricResult, RunOrigin

    rng = random.Random(7)
    MetricResult.objects.filter(run__model__key__startswith="bench-").delete()
    EvalRun.objects.filter(model__key__startswith="bench-").delete()
    LanguageModel.objects.filter(key__startswith="bench-").delete()
    source, _ = Source.objects.get_or_create(
        key="bench-source", defaults={"title": "Benchmark data", "url": "https://example.org"}
    )
    licence, _ = Licence.objects.get_or_create(
        key="bench-apache", defaults={"name": "Apache 2.0 (bench)", "commercial_use": "allowed"}
    )
    hardware = []
    for n, (memory, count, price) in enumerate([(24, 1, 0.8), (80, 1, 3.7), (80, 2, 7.3),
                                                (80, 4, 14.7), (80, 8, 98.3)]):  # fmt: skip
        profile, _ = HardwareProfile.objects.get_or_create(
            key=f"bench-hw-{n}",
            defaults=dict(
                name=f"bench {count} x {memory} GB", gpu="bench GPU", gpu_memory_gb=memory,
                gpu_count=count, usd_per_hour=price, price_seen_on=datetime.date(2024, 6, 1),
                price_source=source, memory_bandwidth_gb_s=2000, bf16_tflops=300,
                spec_source=source,
            ),
        )  # fmt: skip
        hardware.append(profile)
    rows = []
    for n in range(models):
        parameters = int(10 ** rng.uniform(9, 11.5))
        open_weights = n % 5 != 0
        rows.append(
            LanguageModel(
                key=f"bench-{n:04d}", name=f"Bench model {n:04d}", family=f"Family {n % 40}",
                organisation="Bench", parameters=parameters, parameters_source=source,
                weights="open" if open_weights else "api_only", weights_source=source,
                licence=licence if open_weights else None,
                licence_source=source if open_weights else None,
                hf_repo=f"bench/model-{n}" if open_weights else "",
            )
        )  # fmt: skip
    created = LanguageModel.objects.bulk_create(rows)
    apis, hosted, scores = [], [], []
    for model in created:
        fits = [h for h in hardware if model.parameters * 2 / 1e9 <= h.total_memory_gb * 0.9]
        if model.weights == "open" and fits:
            hosted += [SelfHostedDeployment(model=model, precision="bf16", hardware=h)
                       for h in fits[:2]]  # fmt: skip
        else:
            apis += [
                ApiDeployment(
                    model=model, provider=provider, api_model=f"{model.key}-{provider}",
                    usd_per_million_input=rng.uniform(0.1, 30),
                    usd_per_million_output=rng.uniform(0.3, 60),
                    price_seen_on=datetime.date(2024, 6, 1), price_source=source,
                    region=region, provider_retains_data=True, provider_trains_on_data=False,
                )
                for provider, region in (("ProviderA", "EU"), ("ProviderB", "global"))
            ]  # fmt: skip
        scores += [
            ReportedScore(model=model, benchmark=b, shots=5, value=round(rng.uniform(0.3, 0.9), 4),
                          source=source, locator="Table 1")
            for b in BENCHMARKS[:3]
        ]  # fmt: skip
    ApiDeployment.objects.bulk_create(apis)
    SelfHostedDeployment.objects.bulk_create(hosted)
    ReportedScore.objects.bulk_create(scores)
    run_rows = [
        EvalRun(origin=RunOrigin.IMPORT, model=rng.choice(created), raw={},
                file_name=f"bench-{n}.json", file_sha256=f"{n:064x}", file_format="0.4")
        for n in range(runs)
    ]  # fmt: skip
    run_rows = EvalRun.objects.bulk_create(run_rows, batch_size=5000)
    metrics = [
        MetricResult(run=run, task=task, metric=metric, filter="none",
                     value=rng.uniform(0.2, 0.9), stderr=rng.uniform(0.005, 0.03))
        for run in run_rows
        for task in rng.sample(BENCHMARKS, 5)
        for metric in ("acc", "acc_norm")
    ]  # fmt: skip
    MetricResult.objects.bulk_create(metrics, batch_size=10000)
    print(
        f"catalog: {len(created)} models, {len(apis) + len(hosted)} deployments, "
        f"{len(scores)} reported scores; store: {len(run_rows)} runs, {len(metrics)} metric rows"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from advisor import selectors
    from advisor.engine import recommend
    from advisor.services import advice_compute
    from advisor.use_case import UseCase
    from catalog.models import LanguageModel

    build(args.models, args.runs)

    def timed(call) -> tuple[float, int]:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            call()
            return (time.perf_counter() - started) * 1000, len(queries)

    cold = []
    for _ in range(5):
        LanguageModel.objects.filter(key="bench-0000").first().save()  # a change: a history row
        cold.append(timed(lambda: advice_compute(data=USE_CASE)))
    warm = [timed(lambda: advice_compute(data=USE_CASE)) for _ in range(args.repeats)]
    _, catalog = selectors.engine_catalog()
    use_case = UseCase.from_dict(USE_CASE)
    limit = settings.ADVISOR_RANKING_LIMIT
    engine, engine_full = [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        recommend(use_case, catalog, ranking_limit=limit)
        engine.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        recommend(use_case, catalog)
        engine_full.append((time.perf_counter() - started) * 1000)

    def line(name, values):
        ms = [v[0] if isinstance(v, tuple) else v for v in values]
        queries = {v[1] for v in values if isinstance(v, tuple)}
        q = f", queries {sorted(queries)}" if queries else ""
        print(f"{name:<36} median {statistics.median(ms):8.1f} ms  (min {min(ms):.1f}, "
              f"max {max(ms):.1f}, n={len(ms)}){q}")  # fmt: skip

    print(f"machine: {machine()}")
    line("advice, warm (cached digest)", warm)
    line("advice, cold (after a catalog change)", cold)
    line(f"engine alone (recommend, top {limit})", engine)
    line("engine alone (recommend, every candidate)", engine_full)


if __name__ == "__main__":
    main()
