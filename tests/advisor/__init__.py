"""Plain-data catalogs and use cases for the advisor's tests.

`article_models()` holds the models the article argues about, with API prices, hardware and
benchmark figures as published (sources in each figure); `use_case_data()` is a valid use case
to change one field at a time.
"""

from __future__ import annotations

from typing import Any

from advisor.engine import ApiOption, Evidence, HardwareOption, ModelEntry, ModelFacts

GPT4_REPORT = "https://arxiv.org/abs/2303.08774"
SIMPLE_EVALS = "https://github.com/openai/simple-evals"
LLAMA2_PAPER = "https://arxiv.org/abs/2307.09288"
LLAMA31_CARD = "https://github.com/meta-llama/llama-models/blob/main/models/llama3_1/MODEL_CARD.md"
MISTRAL_PAPER = "https://arxiv.org/abs/2310.06825"
PHI2_BLOG = "https://www.microsoft.com/en-us/research/blog/phi-2-the-surprising-power-of-small-language-models/"
CHINCHILLA_PAPER = "https://arxiv.org/abs/2203.15556"
LLAMA2_CONDITIONS = "needs a licence from Meta above 700M monthly active users"


def hardware(key: str, precision: str = "bf16", hosting: str = "on_premises") -> HardwareOption:
    """A catalog hardware profile (on-demand prices of 2024-06) at a precision."""
    profiles = {
        "l4-24gb-x1": ("1 x NVIDIA L4 24GB", 24, 1, 0.8048, 300, 121),
        "a100-80gb-x1": ("1 x NVIDIA A100 80GB PCIe", 80, 1, 3.673, 1935, 312),
        "a100-80gb-x2": ("2 x NVIDIA A100 80GB PCIe", 80, 2, 7.346, 1935, 312),
        "a100-80gb-x4": ("4 x NVIDIA A100 80GB PCIe", 80, 4, 14.692, 1935, 312),
        "a10g-24gb-x1": ("1 x NVIDIA A10G 24GB", 24, 1, 1.006, None, None),
    }
    name, memory, count, price, bandwidth, tflops = profiles[key]
    return HardwareOption(
        key=key,
        name=name,
        gpu_memory_gb=memory,
        gpu_count=count,
        usd_per_hour=price,
        memory_bandwidth_gb_s=bandwidth,
        bf16_tflops=tflops,
        precision=precision,
        hosting=hosting,
    )


def reported(benchmark: str, value: float, source: str, shots: int | None = None) -> Evidence:
    """A figure reported in a paper or model card (no stderr stated)."""
    return Evidence(benchmark, value, None, "reported", source, shots=shots)


def openai(model: str, price_in: float, price_out: float) -> ApiOption:
    """OpenAI's API: global processing, 30-day retention, no training on API data."""
    return ApiOption(
        provider="OpenAI",
        api_model=model,
        usd_per_million_input=price_in,
        usd_per_million_output=price_out,
        region="global",
        provider_retains_data=True,
        provider_trains_on_data=False,
        source="https://openai.com/api/pricing/",
    )


def _facts(key: str, name: str, parameters: int | None, size: str | None, **kw: Any):
    defaults: dict[str, Any] = {"weights": "open", "licence_commercial": "allowed"}
    defaults.update(kw)
    return ModelFacts(key=key, name=name, parameters=parameters, size_class=size, **defaults)


def gpt4() -> ModelEntry:
    src = f"{GPT4_REPORT} Table 2"
    return ModelEntry(
        facts=_facts("gpt-4", "GPT-4", None, "large", weights="api_only", context_length=8192),
        api_options=(openai("gpt-4", 30.0, 60.0),),
        evidence=(
            reported("mmlu", 0.864, src, 5),
            reported("hellaswag", 0.953, src, 10),
            reported("arc_challenge", 0.963, src, 25),
            reported("winogrande", 0.875, src, 5),
            reported("humaneval", 0.67, src, 0),
            reported("gsm8k", 0.92, src, 5),
        ),
    )


def gpt4o() -> ModelEntry:
    """Size undisclosed and no source states its class: the engine counts it as large."""
    src = f"{SIMPLE_EVALS} Benchmark Results table"
    return ModelEntry(
        facts=_facts("gpt-4o", "GPT-4o", None, None, weights="api_only", context_length=128000),
        api_options=(openai("gpt-4o-2024-08-06", 2.5, 10.0),),
        evidence=(reported("mmlu", 0.887, src, 0), reported("humaneval", 0.902, src, 0)),
    )


def gpt4o_mini() -> ModelEntry:
    """OpenAI calls it a small model; its size is undisclosed."""
    src = f"{SIMPLE_EVALS} Benchmark Results table"
    return ModelEntry(
        facts=_facts(
            "gpt-4o-mini", "GPT-4o mini", None, "small", weights="api_only", context_length=128000
        ),
        api_options=(openai("gpt-4o-mini-2024-07-18", 0.15, 0.60),),
        evidence=(reported("mmlu", 0.82, src, 0), reported("humaneval", 0.872, src, 0)),
    )


def llama2_70b() -> ModelEntry:
    return ModelEntry(
        facts=_facts(
            "llama-2-70b",
            "Llama 2 70B",
            70_000_000_000,
            "medium",
            licence_commercial="restricted",
            licence_name="Llama 2 Community License",
            licence_conditions=LLAMA2_CONDITIONS,
            context_length=4096,
            hf_repo="meta-llama/Llama-2-70b-hf",
        ),
        self_hosted=(
            hardware("a100-80gb-x2"),
            hardware("a100-80gb-x4"),
            hardware("a100-80gb-x1", "int8"),
        ),
        evidence=(
            reported("mmlu", 0.689, f"{LLAMA2_PAPER} Table 3", 5),
            reported("hellaswag", 0.853, f"{LLAMA2_PAPER} Table 20", 0),
            reported("winogrande", 0.802, f"{LLAMA2_PAPER} Table 20", 0),
            reported("arc_challenge", 0.574, f"{LLAMA2_PAPER} Table 20", 0),
            reported("humaneval", 0.299, f"{LLAMA2_PAPER} Table 21", 0),
            reported("mbpp", 0.45, f"{LLAMA2_PAPER} Table 21", 3),
        ),
    )


def mistral_7b() -> ModelEntry:
    src = f"{MISTRAL_PAPER} Table 2"
    return ModelEntry(
        facts=_facts(
            "mistral-7b",
            "Mistral 7B",
            7_300_000_000,
            "small",
            licence_name="Apache License 2.0",
            context_length=8192,
            hf_repo="mistralai/Mistral-7B-v0.1",
        ),
        self_hosted=(hardware("l4-24gb-x1"), hardware("a100-80gb-x1")),
        evidence=(
            reported("mmlu", 0.601, src, 5),
            reported("hellaswag", 0.813, src, 0),
            reported("winogrande", 0.753, src, 0),
            reported("arc_challenge", 0.555, src, 0),
            reported("humaneval", 0.305, src, 0),
            reported("mbpp", 0.475, src, 3),
            reported("gsm8k", 0.522, src, 8),
        ),
    )


def phi2() -> ModelEntry:
    return ModelEntry(
        facts=_facts(
            "phi-2",
            "Phi-2",
            2_700_000_000,
            "small",
            licence_name="MIT License",
            context_length=2048,
            hf_repo="microsoft/phi-2",
        ),
        self_hosted=(hardware("l4-24gb-x1"),),
        evidence=(reported("mmlu", 0.567, PHI2_BLOG, 5),),
    )


def llama31_8b() -> ModelEntry:
    src = f"{LLAMA31_CARD} Instruction tuned models table"
    return ModelEntry(
        facts=_facts(
            "llama-3.1-8b-instruct",
            "Llama 3.1 8B Instruct",
            8_000_000_000,
            "small",
            licence_commercial="restricted",
            licence_name="Llama 3.1 Community License",
            licence_conditions=LLAMA2_CONDITIONS,
            context_length=131072,
            hf_repo="meta-llama/Llama-3.1-8B-Instruct",
        ),
        self_hosted=(hardware("l4-24gb-x1"), hardware("a100-80gb-x1")),
        evidence=(
            reported("mmlu", 0.694, src, 5),
            reported("humaneval", 0.726, src, 0),
            reported("gsm8k", 0.845, src, 8),
            reported("arc_challenge", 0.834, src, 0),
        ),
    )


def llama31_70b() -> ModelEntry:
    src = f"{LLAMA31_CARD} Instruction tuned models table"
    return ModelEntry(
        facts=_facts(
            "llama-3.1-70b-instruct",
            "Llama 3.1 70B Instruct",
            70_000_000_000,
            "medium",
            licence_commercial="restricted",
            licence_name="Llama 3.1 Community License",
            licence_conditions=LLAMA2_CONDITIONS,
            context_length=131072,
            hf_repo="meta-llama/Llama-3.1-70B-Instruct",
        ),
        self_hosted=(
            hardware("a100-80gb-x2"),
            hardware("a100-80gb-x4"),
            hardware("a100-80gb-x1", "int8"),
        ),
        evidence=(
            reported("mmlu", 0.836, src, 5),
            reported("humaneval", 0.805, src, 0),
            reported("gsm8k", 0.951, src, 8),
            reported("arc_challenge", 0.948, src, 0),
        ),
    )


def chinchilla() -> ModelEntry:
    return ModelEntry(
        facts=_facts(
            "chinchilla-70b",
            "Chinchilla",
            70_000_000_000,
            "medium",
            weights="never_released",
            licence_commercial=None,
        ),
        evidence=(
            reported("mmlu", 0.675, f"{CHINCHILLA_PAPER} Table 6", 5),
            reported("hellaswag", 0.808, f"{CHINCHILLA_PAPER} Table 8", 0),
            reported("winogrande", 0.749, f"{CHINCHILLA_PAPER} Table 8", 0),
        ),
    )


def article_models() -> tuple[ModelEntry, ...]:
    """The article's models and their current successors, as published."""
    return (
        gpt4(),
        gpt4o(),
        gpt4o_mini(),
        llama2_70b(),
        mistral_7b(),
        phi2(),
        llama31_8b(),
        llama31_70b(),
        chinchilla(),
    )


def use_case_data(**changes: Any) -> dict[str, Any]:
    """A valid use case as JSON (a narrow internal classification task), with `changes`."""
    data: dict[str, Any] = {
        "name": "Ticket triage",
        "description": "Route support tickets to the right team.",
        "task_categories": ["classification"],
        "domain": "customer support",
        "languages": ["en"],
        "data_sensitivity": "internal",
        "data_location": "anywhere",
        "needs_ownership": False,
        "labelled_examples": 0,
        "monthly_requests": 100_000,
        "input_tokens": 400,
        "output_tokens": 10,
        "latency_p95_ms": None,
        "monthly_budget_usd": None,
        "ml_expertise": "some",
        "distinct_tasks": 1,
        "min_accuracy": None,
        "weights": {"accuracy": 0.3, "cost": 0.3, "privacy": 0.2, "generality": 0.2},
    }
    data.update(changes)
    return data
