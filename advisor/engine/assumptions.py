"""Every number the engine assumes rather than reads from the catalog, in one place, so that a
recommendation can record them and a reader can challenge them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

BYTES_PER_PARAMETER: dict[str, float] = {
    "fp32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "int8": 1.0,
    "int4": 0.5,
}


@dataclass(frozen=True, slots=True)
class Assumptions:
    """The stated assumptions behind cost, throughput, finetuning and scoring.

    Serving (self-hosted):
    - always on: `hours_per_month` (730) hours a month, whatever the volume;
    - memory: weights (parameters x bytes per parameter at the precision) plus
      `memory_overhead` (20%) for the KV cache, activations and the runtime;
    - decoding is memory-bound: one decode step reads all weights once, so a model copy makes
      `batch_size` (16) concurrent sequences x bandwidth x `bandwidth_utilisation` (60%) / bytes
      of weights tokens per second; reading the prompt (prefill) is compute-bound at 2 x
      parameters FLOPs per token and `compute_utilisation` (40%) of bf16 peak;
    - capacity is planned for `peak_to_average` (2x) the average request rate;
    - hardware without catalogued speed figures is assumed as slow as
      `fallback_bandwidth_gb_s` / `fallback_bf16_tflops` (and flagged).

    Finetuning: full finetuning at 6 x parameters FLOPs per training token, on `training_epochs`
    (3) passes over the labelled examples (input + output tokens each), at
    `training_utilisation` (40%) of bf16 peak on the option's own GPUs, paid at its hourly price
    per GPU and amortised over `amortisation_months` (12). Optimizer memory is not modelled
    (parameter-efficient finetuning would need less memory and compute: this errs high).

    Without a measured figure for the finetuned model, its accuracy gains an estimated uplift of
    min(`uplift_cap`, `uplift_per_decade` x log10(1 + labelled examples per task)), at most
    `uplift_max_error_share` of the remaining error, times `uplift_factor_without_expertise`
    when the organisation has no ML expertise. It is always labelled an estimate.

    Scoring: a domain set's figure counts `domain_share` (75%) against the mapped benchmarks;
    a general benchmark without a figure counts `unknown_benchmark_score` (chance on four
    choices); figures without a stated stderr count `unstated_stderr` when comparing candidates.
    Accuracy and generality are normalised min-max over the candidates with a span of at least
    `accuracy_min_span` / `generality_min_span`, cost on a log scale spanning at least a factor
    of `cost_min_span_factor`, so that small differences do not swing a whole point.
    """

    hours_per_month: float = 730.0
    memory_overhead: float = 0.20
    batch_size: int = 16
    bandwidth_utilisation: float = 0.6
    compute_utilisation: float = 0.4
    peak_to_average: float = 2.0
    fallback_bandwidth_gb_s: float = 300.0
    fallback_bf16_tflops: float = 60.0
    training_epochs: int = 3
    training_utilisation: float = 0.4
    amortisation_months: int = 12
    uplift_per_decade: float = 0.03
    uplift_cap: float = 0.15
    uplift_max_error_share: float = 0.5
    uplift_factor_without_expertise: float = 0.5
    domain_share: float = 0.75
    unknown_benchmark_score: float = 0.25
    unstated_stderr: float = 0.02
    accuracy_min_span: float = 0.10
    generality_min_span: float = 0.10
    cost_min_span_factor: float = 10.0
    close_total_margin: float = 0.05

    def as_dict(self) -> dict[str, Any]:
        """JSON form, with the bytes per parameter, for a recommendation's snapshot."""
        return {**asdict(self), "bytes_per_parameter": dict(BYTES_PER_PARAMETER)}


DEFAULT_ASSUMPTIONS = Assumptions()
