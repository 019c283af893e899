"""Privacy: how sensitive the data is against how far a deployment sends it.

Reach, from nearest to furthest: on premises (self-hosted in your building), private cloud
(self-hosted on rented hardware), a third-party API bound to a stated region, a third-party API
anywhere. A provider that keeps prompts, or trains on them, adds exposure within its reach level,
never enough to reach the next level: a deployment that sends data further never scores higher.
"""

from __future__ import annotations

from .types import DATA_REACH, ApiOption, HardwareOption

ON_PREMISES, PRIVATE_CLOUD, API_REGION, API_ANYWHERE = range(4)

# The furthest reach each `data_location` allows.
ALLOWED_REACH: dict[str, int] = {
    "on_premises": ON_PREMISES,
    "private_cloud": PRIVATE_CLOUD,
    "region": API_REGION,
    "anywhere": API_ANYWHERE,
}
# How much exposure matters for each sensitivity: even public prompts say something about you.
SENSITIVITY_FACTOR: dict[str, float] = {
    "public": 0.2,
    "internal": 0.5,
    "confidential": 0.85,
    "regulated": 1.0,
}
LEVEL_EXPOSURE = 0.25
RETENTION_EXPOSURE = 0.09
TRAINING_EXPOSURE = 0.14  # retention + training < LEVEL_EXPOSURE keeps the levels apart


def api_reach(api: ApiOption) -> int:
    """An API is region-bound when its provider states a region; "global" or empty is not."""
    return API_REGION if api.region_bound else API_ANYWHERE


def self_hosted_reach(hardware: HardwareOption) -> int:
    """Self-hosted hardware is on premises or in a private cloud."""
    return ON_PREMISES if hardware.hosting == "on_premises" else PRIVATE_CLOUD


def reach_label(reach: int) -> str:
    """The reach as shown: on_premises, private_cloud, api_region or api_anywhere."""
    return DATA_REACH[reach]


def privacy_score(
    sensitivity: str, reach: int, *, retains: bool = False, trains: bool = False
) -> float:
    """1 is best: 1 - sensitivity factor x exposure, exposure in 0..1 growing with reach."""
    exposure = LEVEL_EXPOSURE * reach + RETENTION_EXPOSURE * retains + TRAINING_EXPOSURE * trains
    return 1.0 - SENSITIVITY_FACTOR[sensitivity] * exposure
