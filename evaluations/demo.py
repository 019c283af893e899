"""The offline demo model: a tiny GPT-2 built locally and registered in the catalog, so a
newcomer (and the test suite) can queue a real lm-eval job on the CPU with no model hub."""

from __future__ import annotations

import math
from pathlib import Path

from django.conf import settings

from catalog.models import LanguageModel
from catalog.services import local_model_register

from .tiny_model import TINY_MODEL_NAME, ensure_tiny_model

DEMO_MODEL_KEY = "rightsize-tiny-demo"
DEMO_TASKS = ("rightsize_demo_mc", "rightsize_demo_gen")


def demo_model_path() -> Path:
    return Path(settings.EVAL_MODEL_ROOTS[0]) / TINY_MODEL_NAME


def _parameter_count(folder: Path) -> int:
    from safetensors import safe_open

    with safe_open(str(folder / "model.safetensors"), framework="np") as weights:
        return sum(math.prod(weights.get_slice(name).get_shape()) for name in weights.keys())  # noqa: SIM118


def demo_model_ensure() -> LanguageModel:
    """Build the tiny model under the first model root (once) and register it in the catalog."""
    folder = ensure_tiny_model(demo_model_path())
    return local_model_register(
        key=DEMO_MODEL_KEY,
        name="Rightsize tiny demo (2-layer GPT-2)",
        family="Rightsize demo",
        organisation="Rightsize",
        parameters=_parameter_count(folder),
        path=str(folder),
        provenance="Built locally by evaluations/tiny_model.py: random weights, a tokenizer "
        "trained on a few lines. For demos and tests; it knows nothing.",
    )
