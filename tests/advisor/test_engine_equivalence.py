"""The engine's answers, pinned: a fixed corpus of use cases over the article's catalog and a
generated one, each answer compared with the one stored in `golden/` (as `as_dict()` gives it,
floats rounded as it rounds them).

The corpus is generated from fixed seeds, so it never changes; any change to an answer, however
small, fails here. When an answer is meant to change, regenerate the golden file and review the
diff of the summaries:

    .venv/bin/python -m tests.advisor.test_engine_equivalence --regenerate

Answers over the article's catalog are stored whole. Over the generated catalog (200 models,
whose full rankings would make the file large) each is stored as a SHA-256 of its canonical JSON
together with a readable summary (verdict, confidence, sensitivity, proposed evaluations, the top
of the ranking and the counts), so that a failure says what moved. Answers are compared as JSON
text too, where 1 and 1.0 differ.

The golden answers were written by the engine as it was before it was vectorised (one candidate
at a time), so the vectorised engine is held to that engine's answers.
"""

from __future__ import annotations

import gzip
import hashlib
import inspect
import json
import math
import random
import sys
from dataclasses import FrozenInstanceError, fields, replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from advisor.engine import (
    ApiOption,
    CostBreakdown,
    Evidence,
    Figure,
    HardwareOption,
    ModelEntry,
    ModelFacts,
    RankedCandidate,
    digest_catalog,
    recommend,
)
from advisor.engine.types import _ranking_as_dicts, _rounded
from advisor.use_case import (
    DATA_LOCATIONS,
    DATA_SENSITIVITIES,
    MAX_EXAMPLES,
    MAX_REQUESTS,
    ML_EXPERTISE,
    TASK_CATEGORIES,
    WEIGHT_NAMES,
    WEIGHT_PRESETS,
    UseCase,
)

from . import article_models

GOLDEN = Path(__file__).parent / "golden" / "engine_equivalence.json.gz"
ARTICLE_CASES = 300
GENERATED_CASES = 150
GENERATED_MODELS = 200
DOMAIN_SETS = ("support-tickets", "legal-qa")
BENCHMARKS = ("mmlu", "hellaswag", "arc_challenge", "winogrande", "gsm8k", "humaneval", "mbpp")
HARDWARE = (
    ("l4-24gb-x1", "1 x L4", 24, 1, 0.8048, 300, 121),
    ("a10g-24gb-x1", "1 x A10G", 24, 1, 1.006, None, None),
    ("a100-80gb-x1", "1 x A100 80GB", 80, 1, 3.673, 1935, 312),
    ("a100-80gb-x2", "2 x A100 80GB", 80, 2, 7.346, 1935, 312),
    ("a100-80gb-x8", "8 x A100 80GB", 80, 8, 40.96, 2039, 312),
    ("h100-80gb-x8", "8 x H100 80GB", 80, 8, 98.32, 3350, 989),
)
SUMMARY_TOP = 5


# --- the corpus ---------------------------------------------------------------------------------


def _evidence(rng: random.Random, key: str) -> tuple[Evidence, ...]:
    """General figures (sometimes two for one benchmark), domain-set figures and figures measured
    on finetuned checkpoints, with and without stated stderrs."""
    figures: list[Evidence] = []
    for name in rng.sample(BENCHMARKS, rng.randint(0, 7)):
        for copy in range(1 if rng.random() < 0.85 else 2):
            figures.append(
                Evidence(
                    benchmark=name,
                    value=round(rng.uniform(0.2, 0.97), 3),
                    stderr=round(rng.uniform(0.002, 0.03), 4) if rng.random() < 0.4 else None,
                    kind="measured" if rng.random() < 0.3 else "reported",
                    source=f"https://example.org/{key}/{name}/{copy}",
                    shots=rng.choice((None, 0, 5, 8, 25)),
                )
            )
    for domain_set in DOMAIN_SETS:
        if rng.random() < 0.2:
            figures.append(
                Evidence(
                    benchmark=domain_set,
                    value=round(rng.uniform(0.3, 0.95), 3),
                    stderr=round(rng.uniform(0.005, 0.03), 4) if rng.random() < 0.5 else None,
                    kind=rng.choice(("measured", "reported")),
                    source=f"run-{key}-{domain_set}",
                    is_domain_set=True,
                )
            )
    if rng.random() < 0.15:  # measured on a checkpoint finetuned on the use case's data
        name = rng.choice((*BENCHMARKS, *DOMAIN_SETS))
        figures.append(
            Evidence(
                benchmark=name,
                value=round(rng.uniform(0.4, 0.98), 3),
                stderr=round(rng.uniform(0.005, 0.02), 4) if rng.random() < 0.5 else None,
                kind=rng.choice(("measured", "measured", "reported")),
                source=f"run-{key}-tuned-{name}",
                is_domain_set=name in DOMAIN_SETS,
                finetuned=True,
            )
        )
    return tuple(figures)


def _api(rng: random.Random, key: str, index: int) -> ApiOption:
    price = rng.choice((0.0, 0.1, 0.15, 0.5, 2.5, 10.0, 30.0))
    return ApiOption(
        provider=rng.choice(("OpenAI", "Mistral", "Anthropic", "Together")),
        api_model=f"{key}-api-{index}",
        usd_per_million_input=price,
        usd_per_million_output=price * rng.choice((1, 2, 3, 4)),
        region=rng.choice(("global", "EU", "US", None, "", " any ")),
        provider_retains_data=rng.random() < 0.6,
        provider_trains_on_data=rng.random() < 0.15,
    )


def _hardware(rng: random.Random) -> HardwareOption:
    key, name, memory, count, usd, bandwidth, tflops = rng.choice(HARDWARE)
    return HardwareOption(
        key=key,
        name=name,
        gpu_memory_gb=memory,
        gpu_count=count,
        usd_per_hour=usd,
        memory_bandwidth_gb_s=bandwidth,
        bf16_tflops=tflops,
        precision=rng.choice(("bf16", "bf16", "fp16", "fp32", "int8", "int4")),
        hosting=rng.choice(("on_premises", "private_cloud")),
    )


@cache
def generated_models(count: int = GENERATED_MODELS, seed: int = 20240611) -> tuple[ModelEntry, ...]:
    """A reproducible catalog covering every path: API-only, open and never-released models,
    undisclosed sizes, weights that do not fit, no evidence, domain sets, finetuned figures, free
    APIs and exact duplicates (ties)."""
    rng = random.Random(seed)
    entries: list[ModelEntry] = []
    for index in range(count):
        key = f"gen-{index:03d}"
        kind = rng.choice(("open", "open", "open", "api_only", "api_only", "never_released"))
        size = rng.choice((0.5e9, 1.3e9, 2.7e9, 7e9, 8e9, 13e9, 34e9, 70e9, 180e9, 405e9))
        parameters = None if rng.random() < (0.6 if kind == "api_only" else 0.08) else int(size)
        size_class = (
            rng.choice((None, "small", "large"))
            if parameters is None
            else ("small" if size <= 15e9 else "medium" if size <= 100e9 else "large")
        )
        facts = ModelFacts(
            key=key,
            name=f"Generated {index}",
            parameters=parameters,
            size_class=size_class,
            weights=kind,
            licence_commercial=rng.choice(("allowed", "restricted", "not_allowed", None)),
            context_length=rng.choice((None, 2048, 4096, 8192, 32768, 131072)),
            licence_name=rng.choice(("", "Apache License 2.0", "Custom Licence")),
            licence_conditions=rng.choice(("", "attribution required")),
        )
        apis: list[ApiOption] = []
        hosted: list[HardwareOption] = []
        if kind == "api_only" or (kind == "open" and rng.random() < 0.3):
            apis = [_api(rng, key, i) for i in range(rng.randint(0 if kind == "open" else 1, 3))]
        if kind == "open" and rng.random() < 0.95:
            hosted = [_hardware(rng) for _ in range(rng.randint(1, 4))]
        if kind == "never_released" and rng.random() < 0.5:
            hosted = [_hardware(rng)]
        if apis and rng.random() < 0.05:
            apis.append(apis[0])  # the same option twice: an exact tie
        if hosted and rng.random() < 0.05:
            hosted.append(hosted[-1])
        entries.append(
            ModelEntry(
                facts=facts,
                api_options=tuple(apis),
                self_hosted=tuple(hosted),
                evidence=_evidence(rng, key),
            )
        )
    # Two models with identical facts but their keys: ties broken by the key.
    twin = entries[1]
    for suffix in ("twin-a", "twin-b"):
        entries.append(
            ModelEntry(
                facts=ModelFacts(
                    key=f"{twin.facts.key}-{suffix}",
                    name=f"{twin.facts.name} {suffix}",
                    parameters=twin.facts.parameters,
                    size_class=twin.facts.size_class,
                    weights=twin.facts.weights,
                    licence_commercial=twin.facts.licence_commercial,
                    context_length=twin.facts.context_length,
                ),
                api_options=twin.api_options,
                self_hosted=twin.self_hosted,
                evidence=twin.evidence,
            )
        )
    return tuple(entries)


def _weights(rng: random.Random) -> dict[str, float]:
    roll = rng.random()
    if roll < 0.25:
        return WEIGHT_PRESETS[rng.choice(sorted(WEIGHT_PRESETS))].weights.as_dict()
    if roll < 0.35:  # one criterion alone: the other weights are all 0
        chosen = rng.choice(WEIGHT_NAMES)
        return {name: (1.0 if name == chosen else 0.0) for name in WEIGHT_NAMES}
    if roll < 0.5:  # some weights 0
        values = {name: rng.choice((0.0, 0.0, 0.1, 0.5, 2.0)) for name in WEIGHT_NAMES}
        if not any(values.values()):
            values["accuracy"] = 1.0
        return values
    if roll < 0.6:  # all equal
        return dict.fromkeys(WEIGHT_NAMES, 0.25)
    return {
        name: round(rng.uniform(0.0, 1.0), rng.choice((1, 2, 6))) + 0.01 for name in WEIGHT_NAMES
    }


def use_case_data(rng: random.Random, domain_sets: tuple[str, ...]) -> dict[str, Any]:
    """A valid use case, drawn across every field's range."""
    examples = rng.choice((0, 0, 0, 1, 50, 1_000, 20_000, 10**6, MAX_EXAMPLES))
    requests = rng.choice((0, 1, 100, 5_000, 100_000, 2_000_000, 10**8, 10**9, MAX_REQUESTS))
    return {
        "name": "Equivalence",
        "description": "",
        "task_categories": rng.sample(TASK_CATEGORIES, rng.randint(1, 4)),
        "domain": "any",
        "languages": ["en"],
        "data_sensitivity": rng.choice(DATA_SENSITIVITIES),
        "data_location": rng.choice(DATA_LOCATIONS),
        "needs_ownership": rng.random() < 0.25,
        "labelled_examples": examples,
        "monthly_requests": requests,
        "input_tokens": rng.choice((1, 10, 400, 800, 1500, 6000, 100_000)),
        "output_tokens": rng.choice((1, 10, 200, 300, 2000)),
        "latency_p95_ms": rng.choice((None, None, 200, 2000, 5000)),
        "monthly_budget_usd": rng.choice((None, None, None, 0.0, 50.0, 1_000.0, 50_000.0, 1e6)),
        "ml_expertise": rng.choice(ML_EXPERTISE),
        "distinct_tasks": rng.choice((1, 1, 2, 5)),
        "min_accuracy": rng.choice((None, None, None, 0.3, 0.5, 0.65, 0.8, 0.95)),
        "weights": _weights(rng),
        "domain_eval_set": rng.choice((None, None, *domain_sets, "no-such-set")),
    }


def _options(rng: random.Random) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.1:
        return {"with_sensitivity": False}
    if roll < 0.2:
        return {"ranking_limit": rng.choice((0, 1, 5))}
    return {}


def corpus() -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(case id, catalog name, use case, recommend's keyword arguments) for every case."""
    cases = []
    rng = random.Random(7)
    for index in range(ARTICLE_CASES):
        cases.append((f"article-{index:03d}", "article", use_case_data(rng, ()), _options(rng)))
    rng = random.Random(11)
    for index in range(GENERATED_CASES):
        data = use_case_data(rng, DOMAIN_SETS)
        cases.append((f"generated-{index:03d}", "generated", data, _options(rng)))
    return cases


@cache
def catalogs() -> dict[str, Any]:
    return {
        "article": digest_catalog(article_models()),
        "generated": digest_catalog(generated_models()),
    }


# --- answers ------------------------------------------------------------------------------------


def canonical(answer: dict[str, Any]) -> str:
    return json.dumps(answer, sort_keys=True, separators=(",", ":"))


def summary(answer: dict[str, Any]) -> dict[str, Any]:
    """What a reader checks first when an answer moved."""
    return {
        "verdict": answer["verdict"],
        "confidence": answer["confidence"],
        "sensitivity": answer["sensitivity"],
        "proposed_evaluations": answer["proposed_evaluations"],
        "ranking_top": answer["ranking"][:SUMMARY_TOP],
        "ranked": len(answer["ranking"]),
        "excluded": len(answer["excluded"]),
        "excluded_constraints": sorted(
            {",".join(item["constraints"]) for item in answer["excluded"]}
        ),
    }


def answer(catalog_name: str, data: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    return recommend(UseCase.from_dict(data), catalogs()[catalog_name], **options).as_dict()


def stored(catalog_name: str, result: dict[str, Any]) -> dict[str, Any]:
    """What the golden file keeps of one answer."""
    if catalog_name == "article":
        return {"answer": result}
    return {
        "sha256": hashlib.sha256(canonical(result).encode()).hexdigest(),
        "summary": summary(result),
    }


def compute_golden() -> dict[str, Any]:
    golden = {}
    for case_id, name, data, options in corpus():
        result = answer(name, data, options)
        golden[case_id] = {"catalog": name, "use_case": data, "options": options}
        golden[case_id].update(stored(name, result))
    return golden


@cache
def golden() -> dict[str, Any]:
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as handle:
        return json.load(handle)


# --- tests --------------------------------------------------------------------------------------

CASES = corpus()


def test_the_golden_file_holds_exactly_this_corpus():
    stored_cases = golden()
    assert sorted(stored_cases) == sorted(case_id for case_id, *_ in CASES)
    for case_id, name, data, options in CASES:
        assert stored_cases[case_id]["catalog"] == name
        assert stored_cases[case_id]["use_case"] == data
        assert stored_cases[case_id]["options"] == options


@pytest.mark.parametrize(
    ("case_id", "catalog_name", "data", "options"),
    [pytest.param(*case, id=case[0]) for case in CASES],
)
def test_the_answer_is_unchanged(case_id, catalog_name, data, options):
    expected = golden()[case_id]
    result = answer(catalog_name, data, options)

    if "answer" in expected:
        assert result == expected["answer"]
        assert canonical(result) == canonical(expected["answer"])  # 1 and 1.0 differ here
    else:
        assert summary(result) == expected["summary"]
        assert hashlib.sha256(canonical(result).encode()).hexdigest() == expected["sha256"]


def test_a_digested_catalog_and_the_plain_models_give_the_same_answers():
    rng = random.Random(3)
    for _ in range(20):
        case = UseCase.from_dict(use_case_data(rng, DOMAIN_SETS))
        models = generated_models(40, seed=5)
        assert recommend(case, models) == recommend(case, digest_catalog(models))


def test_the_generated_catalog_covers_every_path():
    """The corpus reaches the paths it is meant to pin (not an answer, a guard on the corpus)."""
    seen_constraints: set[str] = set()
    deployments: set[str] = set()
    flips = verdicts_flipped = estimates = 0
    for case_id, name, *_ in CASES:
        if name != "generated":
            continue
        entry = golden()[case_id]["summary"]
        for constraints in entry["excluded_constraints"]:
            seen_constraints.update(constraints.split(","))
        for candidate in entry["ranking_top"]:
            deployments.add(candidate["deployment"])
            estimates += candidate["accuracy_is_estimate"]
        weights = entry["sensitivity"]["weights"].values()
        flips += any(item["flips_at"] is not None for item in weights)
        verdicts_flipped += bool(entry["sensitivity"]["verdict_flipped_by"])
    assert seen_constraints >= {
        "context_length",
        "data_location",
        "data_sensitivity",
        "memory",
        "min_accuracy",
        "monthly_budget_usd",
        "needs_ownership",
        "never_released",
        "no_deployment",
        "parameters_unknown",
    }
    assert deployments == {"api", "self_hosted", "self_hosted_finetuned"}
    assert flips and verdicts_flipped and estimates


def test_a_long_ranking_converts_as_each_candidate_converts_itself():
    rng = random.Random(17)
    for _ in range(5):
        case = UseCase.from_dict(use_case_data(rng, DOMAIN_SETS) | {"monthly_budget_usd": None})
        ranking = recommend(case, catalogs()["generated"]).ranking
        one_by_one = [candidate.as_dict() for candidate in ranking]

        assert canonical(_ranking_as_dicts(ranking)) == canonical(one_by_one)


def test_numbers_are_rounded_as_python_rounds_them():
    rng = random.Random(5)
    values: list[Any] = [None, 0, 1, True, 0.0, -0.0, math.inf, -math.inf, math.nan, 2.0**60]
    for _ in range(20_000):
        digits = rng.choice((0, 2, 4, 6))
        tie = (rng.randint(-(10**9), 10**9) + 0.5) / 10**digits  # exactly or nearly a tie
        values += [
            tie,
            math.nextafter(tie, math.inf),
            math.nextafter(tie, -math.inf),
            rng.random(),
            rng.uniform(-1e9, 1e9),
            rng.random() * 10.0 ** rng.randint(-12, 15),
        ]
    for digits in (0, 2, 4, 6):
        expected = [None if v is None else round(v, digits) for v in values]
        assert json.dumps(_rounded(values, digits)) == json.dumps(expected)


def test_the_quick_constructors_keep_the_dataclass_signature():
    for cls in (RankedCandidate, CostBreakdown, Figure):
        parameters = list(inspect.signature(cls).parameters.values())
        assert [p.name for p in parameters] == [f.name for f in fields(cls)]
    cost = CostBreakdown(1.0, 1.0, 0.0, "basis")
    assert cost.deployments == 1 and cost.replicas is None
    assert replace(cost, replicas=2) == CostBreakdown(1.0, 1.0, 0.0, "basis", replicas=2)
    assert hash(cost) == hash(CostBreakdown(1.0, 1.0, 0.0, "basis"))
    with pytest.raises(FrozenInstanceError):
        cost.basis = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        CostBreakdown(1.0, 1.0, 0.0)  # type: ignore[call-arg]


def _regenerate() -> None:
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(compute_golden(), sort_keys=True, indent=None, separators=(",", ":"))
    with gzip.GzipFile(GOLDEN, "wb", compresslevel=9, mtime=0) as handle:
        handle.write(text.encode("utf-8"))
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size:,} bytes)")


if __name__ == "__main__":
    if sys.argv[1:] != ["--regenerate"]:
        raise SystemExit(__doc__)
    _regenerate()
