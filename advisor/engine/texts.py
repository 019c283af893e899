"""Texts: the reason for each hard constraint a candidate breaks (one function per constraint),
and the flags of an option that depend on the catalog alone.

Those that depend only on the catalog (and, for the data location, on which location) are written
once per catalog by `catalog`; the others per recommendation by `candidates`.
"""

from __future__ import annotations

from .assumptions import Assumptions
from .cost import HardwareSizing
from .types import ApiOption, HardwareOption, ModelFacts

PARAMETERS_UNKNOWN = "the parameter count is undisclosed: the hardware cannot be sized"


def money(usd: float) -> str:
    """An amount as shown: whole dollars from $100, else cents."""
    return f"${usd:,.0f}" if usd >= 100 else f"${usd:,.2f}"


def data_location(api: ApiOption | None, location: str) -> str:
    """The option sends data further than `location` allows."""
    if api is not None:
        if location == "region":
            region = (api.region or "").strip() or "not stated"
            return (
                f"data must stay in its region, but {api.provider} binds {api.api_model} to "
                f"no region (region: {region}): a global API is not region-bound"
            )
        where = "on premises" if location == "on_premises" else "in your private cloud"
        return f"data must stay {where}: this would send it to {api.provider}'s API, a third party"
    return "data must stay on premises: this hardware is in a private cloud"


def needs_ownership(facts: ModelFacts, api: ApiOption | None) -> str:
    """The use case needs to own the model, and this option does not allow it."""
    if facts.weights != "open":
        return "you need to own the model, but its weights are not released (API only)"
    if api is not None:
        return "you need to own the model: a hosted API runs the provider's copy (self-host it)"
    if facts.licence_commercial is None:
        return "you need to own the model, but its licence is unknown to the catalog"
    licence = facts.licence_name or "its licence"
    return f"you need to own the model, but {licence} does not allow commercial use"


def data_sensitivity(sensitivity: str, api: ApiOption) -> str:
    """Confidential or regulated data, and a provider that trains on it."""
    return f"{sensitivity} data, and {api.provider} trains on API data"


def min_accuracy(own_accuracies: list[float], minimum: float) -> list[str]:
    """For each own accuracy: it is below the use case's minimum."""
    at_least = f"{minimum:.3f}"
    return [
        f"accuracy {own:.3f} on its own evidence is below the minimum of {at_least}"
        for own in own_accuracies
    ]


def monthly_budget(monthly_usd: list[float], budget: float) -> list[str]:
    """For each monthly cost: it is over the budget (each amount written once)."""
    over = f", over the budget of {money(budget)}"
    written: dict[float, str] = {}
    result = []
    for usd in monthly_usd:
        text = written.get(usd)
        if text is None:
            text = written[usd] = f"costs {money(usd)} a month{over}"
        result.append(text)
    return result


def context_length(tokens: int, facts: ModelFacts) -> str:
    """A request needs more tokens than the model reads."""
    return f"a request needs {tokens:,} tokens but the model reads at most {facts.context_length:,}"


def memory(weights_gb: float, available_gb: float, hardware: HardwareOption) -> str:
    """The weights do not fit the hardware's memory."""
    return (
        f"the weights need {weights_gb:,.1f} GB at {hardware.precision} but "
        f"{hardware.name} has {available_gb:,.0f} GB"
    )


# --- flags --------------------------------------------------------------------------------------

API_LATENCY_UNKNOWN = "the provider's latency is not catalogued: check it against the target"


def catalog_flags(
    facts: ModelFacts,
    api: ApiOption | None,
    hardware: HardwareOption | None,
    sizing: HardwareSizing | None,
    assumptions: Assumptions,
) -> tuple[str, ...]:
    """The flags of an option that depend on the catalog alone, in the order they are shown
    (before those that depend on the use case)."""
    flags: list[str] = []
    if api is not None:
        if api.provider_retains_data:
            flags.append(f"{api.provider} keeps prompts and outputs for a time")
        if api.provider_trains_on_data:
            flags.append(f"{api.provider} trains on API data")
        return tuple(flags)
    if hardware is None or sizing is None:
        return ()  # never shown: the hardware cannot be sized
    if facts.licence_commercial == "restricted":
        conditions = f": {facts.licence_conditions}" if facts.licence_conditions else ""
        licence = facts.licence_name or "the licence"
        flags.append(f"{licence} allows commercial use with conditions{conditions}")
    elif facts.licence_commercial == "not_allowed":
        flags.append("the licence does not allow commercial use: research only")
    if hardware.precision in ("int8", "int4"):
        flags.append(
            f"{hardware.precision} weights: the figures are for full precision; quantisation "
            "may cost some accuracy"
        )
    if sizing.tight_memory:
        flags.append(
            "the weights nearly fill the memory: little room for the KV cache, so fewer "
            "requests at once"
        )
    if sizing.speed_assumed:
        flags.append(
            "hardware speed not catalogued: throughput assumes "
            f"{assumptions.fallback_bandwidth_gb_s:,.0f} GB/s and "
            f"{assumptions.fallback_bf16_tflops:,.0f} TFLOP/s per GPU"
        )
    return tuple(flags)


def region_flag(api: ApiOption | None) -> str | None:
    """For a use case whose data must stay in its region: where a region-bound API runs."""
    if api is None or not api.region_bound:
        return None
    return f"processed in {api.region}: check that your data may go there"
