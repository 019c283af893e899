"""The one door to lm-evaluation-harness: plain data in, plain data out.

This is the only module of Rightsize that imports ``lm_eval``, and it does so inside functions,
so importing it costs nothing (no torch). A Celery worker keeps one :class:`Runner` for its
lifetime; the runner keeps lm-eval's task indexes and the most recently loaded model between
jobs, so consecutive jobs on the same model skip both.

lm-eval has no progress callback. The runner counts requests as the model answers them: every
lm-eval backend hands each answer to its ``cache_hook`` (that is how ``use_cache`` fills its
sqlite file), so for the length of each model call the runner puts a counting hook in front of
whatever hook is there. The same hook polls for cancellation and raises :class:`RunCancelled`
from inside the model loop. The total is the number of requests lm-eval built; answers taken
from ``use_cache`` count as done when the model call for their type starts. (``hf`` answers
one by one; ``vllm`` hands over all answers of a call at its end, so it reports coarsely.)
"""

from __future__ import annotations

import gc
import importlib.metadata
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ModelArg = str | int | float | bool
ProgressCallback = Callable[[int, int], None]
CancelCheck = Callable[[], bool]

SUPPORTED_BACKENDS = frozenset({"hf", "vllm", "local-completions", "openai-chat-completions"})
REQUEST_TYPES = ("loglikelihood", "loglikelihood_rolling", "generate_until")
PROGRESS_INTERVAL_S = 0.25
OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}

_HERE = Path(__file__).resolve().parent
_RESULT_KEYS_NOT_METRICS = {"alias", "name", "sample_len", "samples"}


@dataclass(frozen=True)
class RunRequest:
    """One evaluation: which model, through which lm-eval backend, on which tasks."""

    backend: str
    model_args: Mapping[str, ModelArg]
    tasks: tuple[str, ...]
    num_fewshot: int | None = None
    limit: int | float | None = None
    batch_size: int | str = 1
    seed: int = 1234
    apply_chat_template: bool = False
    device: str | None = None
    cache_path: str | None = None  # lm-eval's use_cache; its keys ignore the model: one per model
    include_paths: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Callers often come from JSON, where tuples are lists.
        tasks = (self.tasks,) if isinstance(self.tasks, str) else tuple(self.tasks)
        object.__setattr__(self, "tasks", tasks)
        object.__setattr__(self, "include_paths", _as_strings(self.include_paths))
        object.__setattr__(self, "model_args", dict(self.model_args))


@dataclass
class MetricRow:
    """One (task or group, metric, filter) value of a run."""

    task: str
    metric: str
    filter: str
    value: float
    stderr: float | None
    higher_is_better: bool | None
    n_samples: int | None
    shots: int | None
    is_group: bool


@dataclass
class RunOutput:
    """What a run produced, ready to store: everything here is JSON-safe or a plain scalar."""

    raw: dict[str, Any]
    metrics: list[MetricRow]
    lm_eval_version: str | None
    transformers_version: str | None
    torch_version: str | None
    task_versions: dict[str, Any] = field(default_factory=dict)
    task_hashes: dict[str, str] = field(default_factory=dict)
    model_sha: str | None = None
    model_dtype: str | None = None
    device: str | None = None
    n_requests: int = 0


class RunCancelled(Exception):
    """The caller asked to stop; the run was abandoned and produced nothing."""


class RunFailed(Exception):
    """The run could not finish; the message is meant for the person who asked for it."""


def local_tasks_dir() -> Path:
    """The folder of lm-eval task YAMLs shipped with Rightsize (``rightsize_demo_*``)."""
    return _HERE / "local_tasks"


def builtin_task_names(cache_file: Path) -> frozenset[str]:
    """lm-eval's built-in task, group and tag names, cached in ``cache_file`` per lm-eval version.

    Indexing the ~14,700 built-in tasks takes seconds and imports lm-eval; the web app validates
    job specs against this list, so it is built once per installed version and read after."""
    import json

    version = _package_version("lm_eval")
    try:
        cached = json.loads(cache_file.read_text())
        if cached.get("lm_eval_version") == version:
            return frozenset(cached["names"])
    except (OSError, ValueError, KeyError):
        pass
    from lm_eval.tasks import TaskManager

    names = sorted(TaskManager().all_tasks)
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    partial = cache_file.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps({"lm_eval_version": version, "names": names}))
    partial.replace(cache_file)  # atomic: a reader never sees half a file
    return frozenset(names)


def local_task_names(include_paths: Iterable[str | os.PathLike]) -> frozenset[str]:
    """The task names defined in ``include_paths`` alone (cheap; read afresh on each call)."""
    return frozenset(_local_task_manager(_as_strings(include_paths)).all_tasks)


def prepare_offline_environment(hf_home: Path | None = None) -> None:
    """Keep Hugging Face libraries off the network, unless the caller's environment says otherwise.

    Sets ``HF_HUB_OFFLINE``, ``HF_DATASETS_OFFLINE``, ``TRANSFORMERS_OFFLINE`` and ``HF_HOME``
    only where they are unset. Those libraries read them when first imported: call this before.
    """
    for name, value in OFFLINE_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("HF_HOME", str(hf_home or _HERE.parent / "var" / "hf-home"))


class Runner:
    """Runs lm-eval jobs one after another, keeping what is slow to rebuild between them.

    Kept: one full task index per set of include paths (lm-eval's ~14,700 built-in tasks take
    seconds to index) and the model of the latest run. Not thread-safe: one job at a time.
    """

    def __init__(self, *, offline: bool = True) -> None:
        # Offline: no model hub (this machine, CI, the demo). GPU nodes that load models from
        # the hub pass offline=False.
        if offline:
            prepare_offline_environment()
        self.model_loads = 0
        self._full_managers: dict[tuple[str, ...], tuple[tuple[str, ...], Any]] = {}
        self._lm: Any = None
        self._lm_key: tuple | None = None
        self._progress: _Progress | None = None

    # ---------------------------------------------------------------- task names
    def known_task_names(self, include_paths: Iterable[str] = ()) -> set[str]:
        """All names lm-eval can run: built-in tasks, groups and tags, plus the included ones.

        The first call per set of include paths indexes lm-eval's built-in tasks (seconds).
        """
        return set(self._full_task_manager(_as_strings(include_paths)).all_tasks)

    def local_task_names(self, include_paths: Iterable[str]) -> set[str]:
        """The names defined in ``include_paths`` alone; cheap, and read afresh on each call."""
        return set(local_task_names(include_paths))

    # ---------------------------------------------------------------- running
    def run(
        self,
        request: RunRequest,
        *,
        on_progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> RunOutput:
        """Evaluate ``request`` and return its results.

        ``on_progress(done, total)`` counts answered model requests; it is called at most about
        four times a second and once at the end with ``done == total``. ``should_cancel()`` is
        polled as often; when it returns True the run stops with :class:`RunCancelled`.
        Anything else that goes wrong raises :class:`RunFailed`.
        """
        _check_request(request)
        manager = self._task_manager_for(request.tasks, request.include_paths)
        progress = _Progress(on_progress, should_cancel)
        progress.check_cancelled()
        lm = self._model_for(request)
        results = self._evaluate(lm, manager, request, progress)
        progress.finish()
        return _build_output(results, request, lm, n_requests=progress.total)

    def _task_manager_for(self, tasks: tuple[str, ...], include_paths: tuple[str, ...]) -> Any:
        """The cheap local index when it has every task, else the full one; unknown names fail."""
        local = _local_task_manager(include_paths)
        if all(name in local.task_index for name in tasks):
            return local
        manager = self._full_task_manager(include_paths, local_names=tuple(local.all_tasks))
        unknown = [name for name in tasks if name not in manager.task_index]
        if unknown:
            noun = "task" if len(unknown) == 1 else "tasks"
            raise RunFailed(f"Unknown {noun}: {', '.join(unknown)}")
        return manager

    def _full_task_manager(
        self, include_paths: tuple[str, ...], local_names: tuple[str, ...] | None = None
    ) -> Any:
        """lm-eval's full index plus ``include_paths``, rebuilt when the included names change."""
        if local_names is None:
            local_names = tuple(_local_task_manager(include_paths).all_tasks)
        cached = self._full_managers.get(include_paths)
        if cached is not None and cached[0] == local_names:
            return cached[1]
        from lm_eval.tasks import TaskManager

        manager = TaskManager(include_path=list(include_paths) or None)
        self._full_managers[include_paths] = (local_names, manager)
        return manager

    def _model_for(self, request: RunRequest) -> Any:
        """The loaded model for ``request``, reusing the previous one when it is the same."""
        key = (
            request.backend,
            tuple(sorted(request.model_args.items())),
            request.device,
            str(request.batch_size),
        )
        if key == self._lm_key:
            return self._lm
        _check_model_folder(request)
        self._forget_model()
        try:
            lm = _load_model(request)
        except Exception as exc:
            raise RunFailed(_describe_error(exc)) from exc
        self._instrument(lm)
        self._lm, self._lm_key = lm, key
        self.model_loads += 1
        return lm

    def _forget_model(self) -> None:
        """Drop the kept model and give its memory back before loading another."""
        if self._lm is None:
            return
        self._lm = self._lm_key = None
        gc.collect()
        _empty_accelerator_cache()

    def _instrument(self, lm: Any) -> None:
        """Route the model's request methods through progress counting (see module docstring)."""
        for request_type in REQUEST_TYPES:
            method = getattr(lm, request_type, None)
            if method is not None:
                setattr(lm, request_type, self._counted(lm, request_type, method))

    def _counted(self, lm: Any, request_type: str, method: Callable) -> Callable:
        def counted(requests: list, *args: Any, **kwargs: Any) -> Any:
            progress = self._progress
            if progress is None or progress.in_call:  # outside a run, or a nested call
                return method(requests, *args, **kwargs)
            progress.begin_call(request_type, len(requests))
            outer_hook = lm.cache_hook
            lm.cache_hook = _CountingHook(outer_hook, progress)
            try:
                answers = method(requests, *args, **kwargs)
            finally:
                lm.cache_hook = outer_hook
                progress.end_call()
            return answers

        return counted

    def _evaluate(self, lm: Any, manager: Any, request: RunRequest, progress: _Progress) -> dict:
        import lm_eval

        self._progress = progress
        try:
            return lm_eval.simple_evaluate(
                model=lm,
                model_args=dict(request.model_args),
                tasks=list(request.tasks),
                num_fewshot=request.num_fewshot,
                limit=request.limit,
                batch_size=request.batch_size,
                device=_device_for(request),  # recorded in the results' config only
                use_cache=request.cache_path,
                log_samples=True,  # needed for the task hashes; the samples are dropped after
                apply_chat_template=request.apply_chat_template,
                task_manager=_RecordingTaskManager(manager, progress),
                random_seed=request.seed,
                numpy_random_seed=request.seed,
                torch_random_seed=request.seed,
                fewshot_random_seed=request.seed,
            )
        except RunCancelled:
            raise
        except Exception as exc:
            self._forget_model()  # it may be in a bad state (out of memory, dead server)
            raise RunFailed(_describe_error(exc)) from exc
        finally:
            self._progress = None
            _detach_response_cache(lm)


def _check_request(request: RunRequest) -> None:
    if request.backend not in SUPPORTED_BACKENDS:
        raise RunFailed(f"Unsupported backend: {request.backend}")
    if not request.tasks:
        raise RunFailed("No tasks given")


def _as_strings(paths: Iterable[str | os.PathLike]) -> tuple[str, ...]:
    return tuple(str(path) for path in paths)


def _check_model_folder(request: RunRequest) -> None:
    """Fail readably on a local model path that is not there (lm-eval says "Repo id must be...")."""
    pretrained = str(request.model_args.get("pretrained", ""))
    local = pretrained.startswith(("/", "./", "../", "~"))
    if local and request.backend in {"hf", "vllm"} and not Path(pretrained).expanduser().exists():
        raise RunFailed(f"Model folder not found: {pretrained}")


def _local_task_manager(include_paths: tuple[str, ...]) -> Any:
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=list(include_paths) or None, include_defaults=False)


def _load_model(request: RunRequest) -> Any:
    from lm_eval.api.registry import get_model

    return get_model(request.backend).create_from_arg_obj(
        dict(request.model_args),
        {"batch_size": request.batch_size, "device": _device_for(request)},
    )


def _device_for(request: RunRequest) -> str | None:
    """The requested device; for ``hf`` without one, the GPU if there is one, else the CPU.

    (lm-eval's ``hf`` model defaults to "cuda" and fails on a machine without it.)
    """
    if request.device or request.backend != "hf":
        return request.device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _detach_response_cache(lm: Any) -> None:
    """Close the sqlite file ``use_cache`` attached to a kept model, so the next run can't write.

    lm-eval wraps the model in a ``CachingLM`` per run, which installs its hook on the model
    and never removes it.
    """
    from lm_eval.api.model import CacheHook

    dbdict = getattr(lm.cache_hook, "dbdict", None)
    if dbdict is not None:
        dbdict.close()
    lm.cache_hook = CacheHook(None)


def _empty_accelerator_cache() -> None:
    try:
        import torch
    except ImportError:
        return
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


# -------------------------------------------------------------------- progress
class _Progress:
    """Counts the answered requests of one run, reports them and polls for cancellation."""

    def __init__(self, on_progress: ProgressCallback | None, should_cancel: CancelCheck | None):
        self._on_progress = on_progress
        self._should_cancel = should_cancel
        self.tasks: list[Any] = []  # lm-eval Task objects, set when simple_evaluate loads them
        self._built: dict[str, int] | None = None
        self.total = 0
        self.done = 0
        self._call_end = 0
        self.in_call = False
        self._last_report: float | None = None

    def check_cancelled(self) -> None:
        if self._should_cancel is not None and self._should_cancel():
            raise RunCancelled("Cancelled")

    def begin_call(self, request_type: str, n_requests: int) -> None:
        """A model call starts; requests of its type it does not get were answered from cache."""
        if self._built is None:
            self._count_built_requests()
        from_cache = max(self._built.get(request_type, n_requests) - n_requests, 0)
        self.done = min(self.done + from_cache, self.total)
        self._call_end = min(self.done + n_requests, self.total)
        self.in_call = True
        self._tick()

    def answered(self) -> None:
        self.done = min(self.done + 1, self._call_end)
        self._tick()

    def end_call(self) -> None:
        self.in_call = False
        self.done = self._call_end

    def finish(self) -> None:
        if self._built is None:  # every answer came from use_cache: no model call happened
            self._count_built_requests()
        self.done = self.total
        self._report()

    def _count_built_requests(self) -> None:
        # Every task has built its requests before the first model call; evaluate() sends
        # each one `repeats` times.
        self._built = {}
        for task in self.tasks:
            for instance in task.instances:
                kind = instance.request_type
                self._built[kind] = self._built.get(kind, 0) + instance.repeats
        self.total = sum(self._built.values())

    def _tick(self) -> None:
        now = time.monotonic()
        if self._last_report is not None and now - self._last_report < PROGRESS_INTERVAL_S:
            return
        self._report()
        self.check_cancelled()

    def _report(self) -> None:
        self._last_report = time.monotonic()
        if self._on_progress is not None:
            self._on_progress(self.done, self.total)


class _CountingHook:
    """Stands in front of a model's cache hook during one model call and counts its answers."""

    def __init__(self, inner: Any, progress: _Progress) -> None:
        self._inner = inner
        self._progress = progress
        self.dbdict = getattr(inner, "dbdict", None)

    def add_partial(self, attr: str, req: Any, res: Any) -> None:
        self._inner.add_partial(attr, req, res)
        self._progress.answered()


class _RecordingTaskManager:
    """A task manager that hands the tasks simple_evaluate loads to the run's progress."""

    def __init__(self, manager: Any, progress: _Progress) -> None:
        self._manager = manager
        self._progress = progress

    def load(self, task_list: Any) -> Any:
        loaded = self._manager.load(task_list)
        self._progress.tasks = list(loaded["tasks"].values())
        return loaded

    def __getattr__(self, name: str) -> Any:
        return getattr(self._manager, name)


# -------------------------------------------------------------------- results
def _build_output(results: dict, request: RunRequest, lm: Any, *, n_requests: int) -> RunOutput:
    samples = results.pop("samples", None) or {}
    raw = _json_safe(results)
    raw["task_hashes"] = _task_hashes(samples)
    raw.setdefault("config", {})["model"] = request.backend
    config = raw["config"]
    return RunOutput(
        raw=raw,
        metrics=metric_rows(raw),
        lm_eval_version=_package_version("lm_eval"),
        transformers_version=_package_version("transformers"),
        torch_version=_package_version("torch"),
        task_versions=dict(raw.get("versions", {})),
        task_hashes=raw["task_hashes"],
        model_sha=config.get("model_sha") or None,
        model_dtype=_dtype_name(config.get("model_dtype")),
        device=_device_name(lm, request),
        n_requests=n_requests,
    )


def metric_rows(raw: Mapping[str, Any]) -> list[MetricRow]:
    """One row per (task or group, metric, filter) of an lm-eval 0.4 results dict."""
    # 0.4.13 lists a group with metrics both in "results" and in "groups".
    groups = set(group_names(raw))
    entries = {**(raw.get("groups") or {}), **raw.get("results", {})}
    rows = []
    for task, values in entries.items():
        rows.extend(_task_metric_rows(raw, task, values, is_group=task in groups))
    return rows


def group_names(raw: Mapping[str, Any]) -> list[str]:
    """Entries that aggregate others (MMLU and its subject groups): those in ``groups``, or
    with subtasks listed in ``group_subtasks``. Older 0.4 files list plain tasks there too, with
    no subtasks; a group without an aggregate score (0.4.13) is listed there only."""
    subtasks = raw.get("group_subtasks") or {}
    declared = set(raw.get("groups") or {}) | {name for name, tasks in subtasks.items() if tasks}
    ordered = [*raw.get("results", {}), *(raw.get("groups") or {}), *subtasks]
    return list(dict.fromkeys(name for name in ordered if name in declared))


def _task_metric_rows(
    raw: Mapping[str, Any], task: str, values: Mapping[str, Any], *, is_group: bool
) -> list[MetricRow]:
    higher_is_better = raw.get("higher_is_better", {}).get(task, {})
    rows = []
    for key, value in values.items():
        metric, _, filter_name = key.partition(",")
        if metric in _RESULT_KEYS_NOT_METRICS or metric.endswith("_stderr"):
            continue
        if not _is_number(value):
            continue  # "N/A" or a NaN made None
        stderr = values.get(f"{metric}_stderr,{filter_name}")
        rows.append(
            MetricRow(
                task=task,
                metric=metric,
                filter=filter_name or "none",
                value=float(value),
                stderr=float(stderr) if _is_number(stderr) else None,
                higher_is_better=higher_is_better.get(metric),
                n_samples=_n_samples(raw, task, values),
                shots=raw.get("n-shot", {}).get(task),
                is_group=is_group,
            )
        )
    return rows


def _n_samples(raw: Mapping[str, Any], task: str, values: Mapping[str, Any]) -> int | None:
    counts = raw.get("n-samples", {}).get(task)
    if counts and "effective" in counts:
        return counts["effective"]
    sample_len = values.get("sample_len")
    return sample_len if isinstance(sample_len, int) else None


def _task_hashes(samples: Mapping[str, list[dict]]) -> dict[str, str]:
    """The per-task hash lm-eval's own result files carry, over documents, prompts, targets."""
    from lm_eval.utils import hash_string

    return {
        task: hash_string(
            "".join(s["doc_hash"] + s["prompt_hash"] + s["target_hash"] for s in task_samples)
        )
        for task, task_samples in samples.items()
    }


def _json_safe(value: Any) -> Any:
    """``value`` with numpy and torch values made plain, NaN and infinities made None."""
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(item) for item in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "tolist"):  # numpy scalars and arrays, torch tensors
        return _json_safe(value.tolist())
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _dtype_name(dtype: Any) -> str | None:
    return str(dtype).removeprefix("torch.") if dtype else None


def _device_name(lm: Any, request: RunRequest) -> str | None:
    device = getattr(lm, "device", None)
    return str(device) if device is not None else request.device


def _package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _describe_error(exc: BaseException) -> str:
    """A readable one-paragraph message for ``exc`` (KeyError would otherwise come quoted)."""
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    text = str(exc).strip()
    return text or type(exc).__name__
