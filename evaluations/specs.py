"""What an evaluation job asks for, validated before anything is written.

A JobSpec is plain data: the web form, the JSON API and `queue_eval` all build one and call
`job_spec_validate`, so the three answer bad input with the same messages."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings

from catalog.models import LanguageModel
from catalog.selectors import model_load_arguments
from config.errors import ApplicationError

from . import lmeval_runner
from .models import Backend, Device

ModelArg = str | int | float | bool

# Model arguments a job may pass to lm-eval's backends; anything else is refused by name.
ALLOWED_MODEL_ARGS = frozenset(
    {
        "pretrained",
        "revision",
        "dtype",
        "parallelize",
        "max_length",
        "base_url",
        "model",
        "tokenizer",
        "tokenizer_backend",
        "tokenized_requests",
        "trust_remote_code",
        "add_bos_token",
        "max_model_len",
        "tensor_parallel_size",
        "data_parallel_size",
        "gpu_memory_utilization",
        "num_concurrent",
        "max_retries",
        "max_gen_toks",
        "peft",
    }
)
# Arguments that would carry a secret: keys live only in the worker's environment.
SECRET_LIKE = ("key", "token", "secret", "password", "auth")
API_BACKENDS = {Backend.LOCAL_COMPLETIONS, Backend.OPENAI_CHAT}
MAX_LIMIT = 1_000_000


class JobSpecError(ApplicationError):
    """A job spec that cannot run; `field` names what to fix."""

    def __init__(self, message: str, *, field: str):
        super().__init__(message, extra={"field": field})
        self.field = field


@dataclass(frozen=True)
class JobSpec:
    model_key: str
    backend: str
    tasks: tuple[str, ...]
    model_args: dict[str, ModelArg] = field(default_factory=dict)
    num_fewshot: int | None = None
    limit: int | None = None
    batch_size: int = 1
    seed: int = 1234
    apply_chat_template: bool = False
    device: str = ""
    priority: int = 5

    @classmethod
    def from_job(cls, job) -> JobSpec:
        """The spec a stored job was queued with (to run it again)."""
        return cls(
            model_key=job.model.key,
            backend=job.backend,
            tasks=tuple(job.tasks),
            model_args=dict(job.model_args),
            num_fewshot=job.num_fewshot,
            limit=job.limit,
            batch_size=job.batch_size,
            seed=job.seed,
            apply_chat_template=job.apply_chat_template,
            device=job.device,
            priority=job.priority,
        )

    def digest(self, *, lm_eval_version: str | None) -> str:
        """What makes two jobs identical: same model and revision, tasks, shots, limit,
        lm-eval version (which fixes the built-in tasks' versions). Priority does not count."""
        identity = asdict(self)
        identity.pop("priority")
        identity["tasks"] = sorted(identity["tasks"])
        identity["lm_eval_version"] = lm_eval_version
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def parse_model_args(text: str) -> dict[str, ModelArg]:
    """`pretrained=/m,dtype=bfloat16` (lm-eval's command-line form) -> a dict of scalars."""
    args: dict[str, ModelArg] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise JobSpecError(f"Model argument {part!r} is not name=value.", field="model_args")
        args[name.strip()] = _scalar(value.strip())
    return args


def _scalar(value: str) -> ModelArg:
    if value.lower() in {"true", "false"}:
        return value.lower() == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def queue_for(backend: str, device: str) -> str:
    route = settings.EVAL_QUEUES[backend]
    return route if isinstance(route, str) else route[device or settings.EVAL_DEFAULT_DEVICE]


def job_spec_validate(spec: JobSpec) -> tuple[JobSpec, LanguageModel]:
    """Check `spec` against the catalog, the allow-list and lm-eval's task index.

    Returns the spec with defaults filled in and the catalog model; raises JobSpecError with a
    message naming the field (and the argument or task) otherwise."""
    model = LanguageModel.objects.filter(key=spec.model_key).first() or (
        LanguageModel.objects.filter(name=spec.model_key).first()
    )
    if model is None:
        raise JobSpecError(f"No catalog model {spec.model_key!r}.", field="model")
    if spec.backend not in Backend.values:
        raise JobSpecError(
            f"Unknown backend {spec.backend!r}; use one of {', '.join(Backend.values)}.",
            field="backend",
        )
    device = spec.device
    if spec.backend == Backend.HF:
        device = device or settings.EVAL_DEFAULT_DEVICE
        if device not in Device.values:
            raise JobSpecError(f"Unknown device {device!r}; use cuda or cpu.", field="device")
    elif spec.backend == Backend.VLLM:
        device = Device.CUDA
    else:
        device = ""
    model_args = dict(spec.model_args)
    # The catalog knows where the weights are (and an adapter's base); a job may name another
    # revision or path.
    loads_weights = spec.backend in (Backend.HF, Backend.VLLM)
    if loads_weights:
        for name, value in model_load_arguments(model).items():
            if not model_args.get(name):
                model_args[name] = value
        if spec.backend == Backend.VLLM and "peft" in model_args:
            raise JobSpecError(
                "An adapter (peft=) runs on the hf backend: lm-eval's vllm backend does not "
                "load one.",
                field="backend",
            )
    _check_model_args(model_args, spec.backend, model)
    tasks = _check_tasks(spec.tasks)
    _check_numbers(spec)
    return (
        JobSpec(
            **{
                **asdict(spec),
                "model_key": model.key,
                "model_args": model_args,
                "tasks": tasks,
                "device": device,
            }
        ),
        model,
    )


def _check_model_args(args: dict[str, ModelArg], backend: str, model: LanguageModel) -> None:
    for name, value in args.items():
        if any(word in name.lower() for word in SECRET_LIKE):
            raise JobSpecError(
                f"Model argument {name!r} refused: API keys are read from the worker's "
                "environment (e.g. OPENAI_API_KEY), never stored with a job.",
                field="model_args",
            )
        if name not in ALLOWED_MODEL_ARGS:
            raise JobSpecError(
                f"Model argument {name!r} is not allowed. Allowed: "
                f"{', '.join(sorted(ALLOWED_MODEL_ARGS))}.",
                field="model_args",
            )
        if not isinstance(value, str | int | float | bool):
            raise JobSpecError(
                f"Model argument {name!r} must be a single value.", field="model_args"
            )
    if args.get("trust_remote_code") is True and not model.trust_remote_code_approved:
        raise JobSpecError(
            f"Model argument 'trust_remote_code' refused: a catalog admin has not approved "
            f"running {model.name}'s own code.",
            field="model_args",
        )
    for name in ("pretrained", "peft", "tokenizer"):
        if isinstance(args.get(name), str) and _looks_local(args[name]):
            _check_under_model_roots(name, args[name])
    if backend in API_BACKENDS:
        if not args.get("model"):
            raise JobSpecError(
                "Model argument 'model' is needed for an API backend (the endpoint's model name).",
                field="model_args",
            )
        base_url = str(args.get("base_url", ""))
        parsed = urlparse(base_url)
        if base_url and parsed.scheme not in {"http", "https"}:
            raise JobSpecError(
                f"Model argument 'base_url' must be an http(s) URL, not {base_url!r}.",
                field="model_args",
            )
        if parsed.username or parsed.password:
            raise JobSpecError(
                "Model argument 'base_url' refused: it carries credentials. Workers read keys "
                "from their environment.",
                field="model_args",
            )
    elif not args.get("pretrained"):
        raise JobSpecError(
            "Model argument 'pretrained' is needed: a hub id or a folder under a model root.",
            field="model_args",
        )


def _looks_local(value: str) -> bool:
    return value.startswith(("/", ".", "~"))


def _check_under_model_roots(name: str, value: str) -> None:
    path = Path(value).expanduser().resolve()
    roots = [Path(root).resolve() for root in settings.EVAL_MODEL_ROOTS]
    if not any(path.is_relative_to(root) for root in roots):
        raise JobSpecError(
            f"Model argument {name!r} refused: local path {value} is not under a model root "
            f"({', '.join(str(r) for r in roots)}).",
            field="model_args",
        )


def task_include_paths() -> tuple[str, ...]:
    """Folders of task YAMLs the workers include besides lm-eval's own tasks."""
    folders = [lmeval_runner.local_tasks_dir(), *settings.EVAL_TASK_DIRS]
    return tuple(str(folder) for folder in folders)


def known_task_names() -> frozenset[str]:
    """lm-eval's built-in tasks, the shipped and configured local ones, and the domain sets."""
    from .models import DomainEvalSet

    builtin = lmeval_runner.builtin_task_names(settings.EVAL_CACHE_DIR / "task-index.json")
    domain = DomainEvalSet.objects.values_list("task_name", flat=True)
    return builtin | lmeval_runner.local_task_names(task_include_paths()) | frozenset(domain)


def _check_tasks(tasks: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(t.strip() for t in tasks if t and t.strip()))
    if not names:
        raise JobSpecError("Name at least one task.", field="tasks")
    unknown = [name for name in names if name not in known_task_names()]
    if unknown:
        noun = "task" if len(unknown) == 1 else "tasks"
        raise JobSpecError(
            f"Unknown {noun}: {', '.join(unknown)} (not in lm-eval's task index).",
            field="tasks",
        )
    return names


def _check_numbers(spec: JobSpec) -> None:
    checks = [
        ("num_fewshot", spec.num_fewshot is None or 0 <= spec.num_fewshot <= 100, "0 to 100"),
        ("limit", spec.limit is None or 1 <= spec.limit <= MAX_LIMIT, f"1 to {MAX_LIMIT:,}"),
        ("batch_size", 1 <= spec.batch_size <= 1024, "1 to 1024"),
        ("priority", 0 <= spec.priority <= 9, "0 (first) to 9 (last)"),
    ]
    for name, ok, allowed in checks:
        if not ok:
            raise JobSpecError(
                f"{name.replace('_', ' ').capitalize()} must be {allowed}.", field=name
            )
