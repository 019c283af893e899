"""Fixtures for the lm-eval runner tests: a tiny offline model and one shared Runner."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from evaluations.lmeval_runner import OFFLINE_ENVIRONMENT, Runner, RunRequest, local_tasks_dir
from evaluations.tiny_model import ensure_tiny_model


@pytest.fixture(scope="session", autouse=True)
def offline_hugging_face(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No hub, and a throwaway HF_HOME; set before transformers or datasets are imported."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in OFFLINE_ENVIRONMENT.items():
            patch.setenv(name, value)
        patch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf-home")))
        yield


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_tiny_model(tmp_path_factory.mktemp("models") / "tiny-gpt2")


@pytest.fixture(scope="session")
def runner() -> Runner:
    """One Runner for the session, as a worker keeps one for its lifetime."""
    return Runner()


@pytest.fixture
def make_request(tiny_model_path: Path) -> Callable[..., RunRequest]:
    """Build a request for the tiny model on the shipped demo tasks (8 questions by default)."""

    def make(tasks: tuple[str, ...] = ("rightsize_demo_mc",), **overrides) -> RunRequest:
        fields = {
            "backend": "hf",
            "model_args": {"pretrained": str(tiny_model_path)},
            "tasks": tasks,
            "limit": 8,
            "device": "cpu",
            "include_paths": (str(local_tasks_dir()),),
            **overrides,
        }
        return RunRequest(**fields)

    return make
