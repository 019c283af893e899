"""The decision engine: plain data in, a recommendation out; no database, request, settings,
I/O or clock.

    recommendation = recommend(use_case, models)   # UseCase, Sequence[ModelEntry]
    recommendation.as_dict()                        # JSON for the snapshot and the page

    catalog = digest_catalog(models)                # once per catalog version, then
    recommend(use_case, catalog)                    # on every change of the form

Modules, one idea each: `types` (the data), `assumptions` (every assumed number), `evidence`
(benchmarks per task category, which figure counts, accuracy and breadth), `cost` (API prices,
GPU sizing, finetuning), `privacy` (sensitivity against where data goes), `texts` (the reasons
for each hard constraint, the flags that depend on the catalog alone), `catalog` (the catalog
digested once, for any use case: its models, and every candidate as numpy columns),
`candidates` (hard constraints, scoring, ranking: all candidates at once), `sensitivity` (what
would change the answer), `explain` (confidence, proposed evaluations), `recommend` (the entry
point).

Speed: a catalog of 1,000 models and 2,000 deployments (about 3,000 candidates) is decided in a
few milliseconds; building the output objects for a full ranking of every candidate costs more
than deciding (`ranking_limit` keeps only the top). tests/advisor/test_engine_equivalence.py
pins every answer of a fixed corpus, so that a faster engine is also the same engine.
"""

from .assumptions import BYTES_PER_PARAMETER, DEFAULT_ASSUMPTIONS, Assumptions
from .catalog import Catalog, digest_catalog
from .evidence import CATEGORY_BENCHMARKS, GENERAL_SUITE, benchmarks_for
from .privacy import ALLOWED_REACH, SENSITIVITY_FACTOR, privacy_score
from .recommend import recommend
from .types import (
    DATA_REACH,
    DEPLOYMENTS,
    ApiOption,
    Confidence,
    CostBreakdown,
    Evidence,
    Exclusion,
    Figure,
    HardwareOption,
    InputChange,
    ModelEntry,
    ModelFacts,
    ProposedEvaluation,
    RankedCandidate,
    Recommendation,
    Scores,
    Sensitivity,
    WeightSensitivity,
)

__all__ = [
    "ALLOWED_REACH",
    "BYTES_PER_PARAMETER",
    "CATEGORY_BENCHMARKS",
    "DATA_REACH",
    "DEFAULT_ASSUMPTIONS",
    "DEPLOYMENTS",
    "GENERAL_SUITE",
    "SENSITIVITY_FACTOR",
    "ApiOption",
    "Assumptions",
    "Catalog",
    "Confidence",
    "CostBreakdown",
    "Evidence",
    "Exclusion",
    "Figure",
    "HardwareOption",
    "InputChange",
    "ModelEntry",
    "ModelFacts",
    "ProposedEvaluation",
    "RankedCandidate",
    "Recommendation",
    "Scores",
    "Sensitivity",
    "WeightSensitivity",
    "benchmarks_for",
    "digest_catalog",
    "privacy_score",
    "recommend",
]
