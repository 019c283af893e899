"""The finetuning demo, offline and on a CPU: the seed article's claim in miniature.

A small model finetuned on an organisation's own data can beat a model that never saw it. Here
the "organisation" is a paint shop whose questions always have a colour for an answer; the data
is synthetic and the pattern learnable (among fruit and furniture, the right choice is always
the colour). We split it, keep the held-out part as a domain evaluation set, finetune a copy of
the tiny demo model on the training part (plain next-token training, fixed seeds, a few seconds
on two CPU cores), save it under the first model root and register it in the catalog as a full
finetune of the demo model. Evaluation jobs then measure base and checkpoint on the held-out set.

Running it again reuses what exists: the checkpoint folder, the set and the catalog entry."""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from catalog.models import CheckpointLocation, Finetune, FinetuneMethod, LanguageModel
from catalog.services import checkpoint_register

from .demo import demo_model_ensure
from .models import DomainEvalSet
from .tiny_model import EOS_TOKEN, is_complete_model
from .uploads import domain_set_upload

SEED = 1234
N_QUESTIONS = 300
N_HELD_OUT = 60
STEPS = 150
BATCH_SIZE = 16
LEARNING_RATE = 3e-3
# Questions offering two colours: the pattern cannot tell them apart, so even the finetuned
# model guesses there, as a real domain set holds questions a model cannot learn to answer.
TWO_COLOURS_SHARE = 0.25

CHECKPOINT_FOLDER = "tiny-gpt2-paint-orders"
CHECKPOINT_KEY = "rightsize-tiny-demo-paint-orders"
CHECKPOINT_NAME = "Rightsize tiny demo, finetuned on paint orders"
DOMAIN_SET_NAME = "Paint orders (held out)"

COLOURS = ("red", "white", "pink", "grey", "yellow", "black", "brown", "violet")
DISTRACTORS = (
    *("pear", "plum", "mango", "grape", "apple", "lemon"),  # fruit
    *("bed", "table", "desk", "lamp", "chair", "sofa", "shelf", "stool"),  # furniture
)
QUESTIONS = (
    "Which paint did order {n} use?",
    "What colour was the wall in job {n}?",
    "Which shade does ticket {n} ask for?",
    "Which tint is on invoice {n}?",
    "The customer of order {n} wants a repaint. In which colour?",
)


@dataclass(frozen=True)
class DemoOutcome:
    base: LanguageModel
    checkpoint: LanguageModel
    domain_set: DomainEvalSet
    trained: bool  # False: an earlier run's checkpoint was reused
    steps: int
    seconds: float
    first_loss: float | None
    last_loss: float | None


def demo_questions() -> list[dict]:
    """The paint shop's questions, always the same: multiple choice, the colour is right."""
    rng = random.Random(SEED)
    numbers = rng.sample(range(1000, 10000), N_QUESTIONS)
    rows = []
    for n in numbers:
        right = rng.choice(COLOURS)
        if rng.random() < TWO_COLOURS_SHARE:  # a second colour: a guess, even after training
            wrong = [rng.choice([c for c in COLOURS if c != right]), *rng.sample(DISTRACTORS, 2)]
        else:
            wrong = rng.sample(DISTRACTORS, 3)
        choices = [right, *wrong]
        rng.shuffle(choices)
        question = rng.choice(QUESTIONS).format(n=n)
        rows.append({"question": question, "choices": choices, "answer": choices.index(right)})
    return rows


def split(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """(training part, held-out part): the last N_HELD_OUT questions are held out."""
    return rows[:-N_HELD_OUT], rows[-N_HELD_OUT:]


def training_lines(rows: list[dict]) -> list[str]:
    """The lines the model trains on, in the prompt format of domain sets' lm-eval tasks."""
    return [f"Question: {row['question']}\nAnswer: {row['choices'][row['answer']]}" for row in rows]


def checkpoint_path() -> Path:
    return Path(settings.EVAL_MODEL_ROOTS[0]) / CHECKPOINT_FOLDER


def finetune_demo_run(*, log=print) -> DemoOutcome:
    """Build, upload, train and register what is missing; reuse what exists."""
    base = demo_model_ensure()
    train_rows, held_out = split(demo_questions())
    domain_set, _ = domain_set_upload(
        name=DOMAIN_SET_NAME,
        description=(
            f"Synthetic paint-shop questions; the right choice is always the colour. The "
            f"{len(held_out)} held-out questions of {N_QUESTIONS}: the other {len(train_rows)} "
            f"trained {CHECKPOINT_NAME}."
        ),
        data="".join(json.dumps(row) + "\n" for row in held_out).encode(),
        uploaded_by=None,
    )
    folder = checkpoint_path()
    stats = {"steps": 0, "seconds": 0.0, "first_loss": None, "last_loss": None}
    trained = not is_complete_model(folder)
    if trained:
        log(f"Finetuning a copy of {base.name} on {len(train_rows)} questions (CPU) ...")
        stats = finetune_tiny_model(Path(base.hf_repo), folder, training_lines(train_rows))
        log(
            f"  {stats['steps']} steps in {stats['seconds']:.1f} s; "
            f"loss {stats['first_loss']:.2f} -> {stats['last_loss']:.2f}"
        )
    else:
        log(f"Reusing the finetuned checkpoint at {folder}")
    checkpoint = LanguageModel.objects.filter(key=CHECKPOINT_KEY).first()
    if checkpoint is None or not Finetune.objects.filter(model=checkpoint).exists():
        checkpoint = checkpoint_register(
            base_model=base,
            name=CHECKPOINT_NAME,
            key=CHECKPOINT_KEY,
            method=FinetuneMethod.FULL,
            data_description=(
                f"{len(train_rows)} synthetic paint-shop questions with their answers (the "
                f"training part of '{DOMAIN_SET_NAME}'), {STEPS} steps of next-token training"
            ),
            gpu_hours=0,
            hardware_description="CPU only (no GPU): the finetune_demo command",
            trained_on=timezone.localdate(),
            location=str(folder),
            location_kind=CheckpointLocation.LOCAL,
            registered_by=None,
        )
    return DemoOutcome(base, checkpoint, domain_set, trained, **stats)


def finetune_tiny_model(source: Path, destination: Path, lines: list[str]) -> dict:
    """Copy the model at `source`, train it on `lines` and save it at `destination`.

    Full finetune, plain next-token loss on whole lines, AdamW, fixed seeds. Written into a
    folder beside `destination` and renamed into place, so nobody sees half a checkpoint."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    encoded = [tokenizer(line + EOS_TOKEN)["input_ids"] for line in lines]
    losses: list[float] = []
    started = time.monotonic()
    for _ in range(STEPS):
        batch = rng.sample(encoded, BATCH_SIZE)
        input_ids, labels, mask = _padded(batch, tokenizer.pad_token_id)
        loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    seconds = time.monotonic() - started
    model.eval()
    _save_atomically(model, tokenizer, destination)
    return {"steps": STEPS, "seconds": seconds, "first_loss": losses[0], "last_loss": losses[-1]}


def _padded(batch: list[list[int]], pad_id: int):
    import torch

    width = max(len(ids) for ids in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, ids in enumerate(batch):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        mask[row, : len(ids)] = 1
    labels = input_ids.masked_fill(mask == 0, -100)  # no loss on padding
    return input_ids, labels, mask


def _save_atomically(model, tokenizer, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; workers may run as another user
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if destination.exists() and not is_complete_model(destination):
            shutil.rmtree(destination, ignore_errors=True)  # debris of an interrupted run
        try:
            staging.rename(destination)
        except OSError:
            if not is_complete_model(destination):  # not another run that got there first
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
