"""Monthly cost of ownership: per-token API prices, or GPUs sized for memory and throughput, plus
finetuning amortised. The assumptions are in `Assumptions`; every function here is monotone in
the monthly volume (more requests never cost less)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .assumptions import BYTES_PER_PARAMETER, Assumptions
from .types import ApiOption, HardwareOption, quick_init

SECONDS_PER_HOUR = 3600.0


def api_usd_per_request(api: ApiOption, input_tokens: int, output_tokens: int) -> float:
    """The price of one request: tokens in and out at the per-million prices."""
    return (
        input_tokens * api.usd_per_million_input + output_tokens * api.usd_per_million_output
    ) / 1e6


def api_monthly_usd(usd_per_request: float, monthly_requests: int) -> float:
    """monthly_requests x (input_tokens x in_price + output_tokens x out_price) / 1e6."""
    return monthly_requests * usd_per_request


def needed_requests_per_s(monthly_requests: int, assumptions: Assumptions) -> float:
    """The request rate to plan for: the monthly average times the peak factor."""
    seconds = assumptions.hours_per_month * SECONDS_PER_HOUR
    return monthly_requests * assumptions.peak_to_average / seconds


@quick_init
@dataclass(frozen=True, slots=True)
class HardwareSizing:
    """How one hardware option holds one model, whatever the use case.

    An instance of the option is a "replica"; it holds `copies` model copies, each on
    `gpus_per_copy` GPUs (tensor parallel when one GPU is too small). `step_s` is one decode
    step of a copy (it reads all weights once), `prefill_s_per_token` the compute one prompt
    token costs it, `batch` the sequences it decodes at once.
    """

    fits: bool
    weights_gb: float
    memory_needed_gb: float
    available_gb: float
    gpus_per_copy: int
    copies: int
    batch: float
    step_s: float
    prefill_s_per_token: float
    replica_usd_per_month: float
    training_gpu_hours_per_token: float
    training_usd_per_token: float
    tight_memory: bool
    speed_assumed: bool

    def capacity_requests_per_s(self, input_tokens: int, output_tokens: int) -> float:
        """Requests per second one replica serves: prefill plus its share of batched decoding."""
        if not self.fits:
            return 0.0
        seconds = self.prefill_s_per_token * input_tokens + output_tokens * self.step_s / self.batch
        return self.copies / seconds

    def latency_ms(self, input_tokens: int, output_tokens: int) -> float:
        """One request alone: its prefill, then one decode step per output token."""
        return 1000.0 * (self.prefill_s_per_token * input_tokens + output_tokens * self.step_s)


def size_hardware(
    parameters: int, hardware: HardwareOption, assumptions: Assumptions
) -> HardwareSizing:
    """Size one hardware option for a model: memory, copies per replica, speed, training price.

    Weights = parameters x bytes per parameter at the precision; a copy needs them plus the
    memory overhead. Decode tokens/s of a copy = batch x (bandwidth x utilisation) / bytes of
    weights; a prompt token costs 2 x parameters FLOPs at the assumed utilisation of bf16 peak;
    a training token 6 x parameters FLOPs.
    """
    weights_bytes = parameters * BYTES_PER_PARAMETER[hardware.precision]
    weights_gb = weights_bytes / 1e9
    memory_needed_gb = weights_gb * (1.0 + assumptions.memory_overhead)
    available_gb = hardware.gpu_memory_gb * hardware.gpu_count
    gpus_per_copy = min(
        hardware.gpu_count, max(1, math.ceil(memory_needed_gb / hardware.gpu_memory_gb))
    )
    kv_room = gpus_per_copy * hardware.gpu_memory_gb - weights_gb
    wanted = weights_gb * assumptions.memory_overhead
    tight = kv_room < wanted
    batch = float(assumptions.batch_size)
    if tight:
        batch = max(1.0, batch * max(kv_room, 0.0) / wanted)
    speed_assumed = hardware.memory_bandwidth_gb_s is None or hardware.bf16_tflops is None
    bandwidth = hardware.memory_bandwidth_gb_s or assumptions.fallback_bandwidth_gb_s
    tflops = hardware.bf16_tflops or assumptions.fallback_bf16_tflops
    bytes_per_s = bandwidth * 1e9 * gpus_per_copy * assumptions.bandwidth_utilisation
    flops_per_s = tflops * 1e12 * gpus_per_copy * assumptions.compute_utilisation
    training_flops_per_s = tflops * 1e12 * assumptions.training_utilisation  # per GPU
    gpu_hours_per_token = 6.0 * parameters / training_flops_per_s / SECONDS_PER_HOUR
    fits = weights_gb <= available_gb
    return HardwareSizing(
        fits=fits,
        weights_gb=weights_gb,
        memory_needed_gb=memory_needed_gb,
        available_gb=available_gb,
        gpus_per_copy=gpus_per_copy,
        copies=hardware.gpu_count // gpus_per_copy,
        batch=batch,
        step_s=weights_bytes / bytes_per_s,
        prefill_s_per_token=2.0 * parameters / flops_per_s,
        replica_usd_per_month=hardware.usd_per_hour * assumptions.hours_per_month,
        training_gpu_hours_per_token=gpu_hours_per_token,
        training_usd_per_token=gpu_hours_per_token * hardware.usd_per_hour / hardware.gpu_count,
        tight_memory=tight and fits,
        speed_assumed=speed_assumed,
    )


def replicas_needed(needed_per_s: float, capacity_per_s: float, deployments: int) -> int:
    """Replicas for the load, always at least one per deployment (always on).

    With several deployments (one finetuned model per distinct task) the load is shared
    evenly among them and each is sized on its own.
    """
    per_deployment = needed_per_s / deployments
    each = max(1, math.ceil(per_deployment / capacity_per_s)) if capacity_per_s > 0 else 1
    return deployments * each


def training_cost(sizing: HardwareSizing, training_tokens: int) -> tuple[float, float]:
    """(GPU-hours, USD) to finetune once: 6 x parameters x training tokens FLOPs at the assumed
    utilisation of bf16 peak, paid per GPU-hour at the option's price."""
    return (
        sizing.training_gpu_hours_per_token * training_tokens,
        sizing.training_usd_per_token * training_tokens,
    )


def training_tokens(
    labelled_examples: int, input_tokens: int, output_tokens: int, assumptions: Assumptions
) -> int:
    """Labelled examples x (input + output tokens) x epochs."""
    return labelled_examples * (input_tokens + output_tokens) * assumptions.training_epochs
