"""A tiny causal language model built offline, for tests and demos.

The model is a two-layer GPT-2 with random weights and a byte-level BPE tokenizer trained on a
few dozen fixed lines. It knows nothing, but lm-eval's ``hf`` backend loads it like any other
checkpoint (``pretrained=<folder>``), in about a second, with no model hub.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_ROOT_ENV = "RIGHTSIZE_MODEL_ROOT"
TINY_MODEL_NAME = "tiny-gpt2"

SEED = 1234
VOCAB_SIZE = 512
MAX_POSITIONS = 512
EOS_TOKEN = "<|endoftext|>"
PAD_TOKEN = "<|pad|>"
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n"
    "{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}"
)

# Files that only exist once save_pretrained has finished for both model and tokenizer.
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")

CORPUS = (
    "Question: What is the capital of France? Answer: Paris",
    "Question: What is the capital of Germany? Answer: Berlin",
    "Question: What is the capital of Italy? Answer: Rome",
    "Question: What is the capital of Spain? Answer: Madrid",
    "Question: What is the capital of Japan? Answer: Tokyo",
    "The largest planet in the solar system is Jupiter.",
    "The Earth goes around the Sun once a year.",
    "Water freezes at zero degrees Celsius and boils at one hundred degrees.",
    "A week has seven days and a year has twelve months.",
    "Two plus two is four. Three plus five is eight. Ten minus three is seven.",
    "The colour of the sky on a clear day is blue; grass is green; snow is white.",
    "Bees make honey. Cows give milk. Hens lay eggs.",
    "Shakespeare wrote Hamlet. Cervantes wrote Don Quixote. Goethe wrote Faust.",
    "The Pacific is the largest ocean. The Nile and the Amazon are long rivers.",
    "Mount Everest is the highest mountain on Earth.",
    "Plants need sunlight, water and air to grow.",
    "A triangle has three sides, a square has four sides and a hexagon has six.",
    "The Moon orbits the Earth. Mars is called the red planet.",
    "Ice is frozen water. Steam is water as a gas.",
    "Penguins live in Antarctica. Kangaroos live in Australia. Lions live in Africa.",
    "The human heart pumps blood. The lungs take in oxygen.",
    "Cats and dogs are mammals. Sharks are fish. Eagles are birds.",
    "Gold, silver and iron are metals. Oxygen and nitrogen are gases.",
    "Light travels faster than sound.",
    "Paris, Berlin, Rome, Madrid, London, Tokyo, Ottawa, Canberra and Cairo are capitals.",
    "Red, orange, yellow, green, blue, indigo and violet are the colours of the rainbow.",
    "Monday, Tuesday, Wednesday, Thursday, Friday, Saturday and Sunday.",
    "January, February, March, April, May, June, July, August, September, October.",
    "one two three four five six seven eight nine ten eleven twelve",
    "Which animal is the largest? The blue whale is the largest animal.",
    "Which gas do plants take in? Plants take in carbon dioxide.",
    "How many legs does a spider have? A spider has eight legs.",
    "How many continents are there? There are seven continents.",
    "Who painted the Mona Lisa? Leonardo da Vinci painted it.",
    "What do we call a baby dog? A puppy. A baby cat is a kitten.",
    "The chemical symbol for water is H2O and for gold it is Au.",
)


def default_tiny_model_path() -> Path:
    """Where the tiny model lives: ``$RIGHTSIZE_MODEL_ROOT/tiny-gpt2`` or ``<repo>/var/models``."""
    root = os.environ.get(MODEL_ROOT_ENV)
    base = Path(root) if root else REPO_ROOT / "var" / "models"
    return base / TINY_MODEL_NAME


def is_complete_model(path: Path) -> bool:
    """True when ``path`` holds a saved model and tokenizer."""
    return all((path / name).is_file() for name in REQUIRED_FILES)


def ensure_tiny_model(path: Path | None = None) -> Path:
    """Return ``path`` holding the tiny model, building it first if it is missing.

    The build is deterministic (fixed seeds, fixed corpus) and atomic: it happens in a temporary
    folder beside ``path`` that is then renamed, so a concurrent reader or builder never sees
    half a model.
    """
    path = Path(path) if path is not None else default_tiny_model_path()
    if is_complete_model(path):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the model is not a secret
    try:
        _build_into(staging)
        _publish(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def _publish(staging: Path, path: Path) -> None:
    """Move the finished build into place, unless another process got there first."""
    if path.exists() and not is_complete_model(path):
        shutil.rmtree(path, ignore_errors=True)  # debris from an interrupted, non-atomic copy
    try:
        staging.rename(path)
    except OSError:
        if not is_complete_model(path):
            raise


def _build_into(folder: Path) -> None:
    tokenizer = _train_tokenizer()
    model = _init_model(vocab_size=len(tokenizer))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def _train_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=[EOS_TOKEN, PAD_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(CORPUS, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token=EOS_TOKEN,
        eos_token=EOS_TOKEN,
        unk_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        model_max_length=MAX_POSITIONS,
        chat_template=CHAT_TEMPLATE,
    )


def _init_model(*, vocab_size: int):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(SEED)
    config = GPT2Config(
        n_layer=2,
        n_embd=64,
        n_head=2,
        n_positions=MAX_POSITIONS,
        vocab_size=vocab_size,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=1,
    )
    return GPT2LMHeadModel(config)
