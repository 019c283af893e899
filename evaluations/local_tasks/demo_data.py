"""Loads the demo tasks' JSONL files from this folder, whatever the working directory."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def load_jsonl(data_file: str, split: str = "test", **_metadata: object):
    """Return a ``DatasetDict`` with one split read from ``data_file`` (relative to this folder).

    lm-eval calls a task's ``custom_dataset`` with the task's metadata and ``dataset_kwargs``
    as keyword arguments; the metadata is not needed here.
    """
    import datasets

    return datasets.load_dataset("json", data_files={split: str(HERE / data_file)})
