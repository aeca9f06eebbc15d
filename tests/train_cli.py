"""Shared by the training tests: the command line of a short CPU run and its environment."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def tiny_run(model: Path, out: Path, *extra: str, eval_on_sample: bool = True) -> list[str]:
    """Arguments for a short CPU run on the bundled sample."""
    return [
        "--model-name-or-path",
        str(model),
        "--train-dataset",
        "sample",
        *(["--eval-dataset", "sample"] if eval_on_sample else []),
        "--output-dir",
        str(out),
        "--use-cpu",
        "--disable-tqdm",
        "true",
        "--seed",
        "0",
        *extra,
    ]


def subprocess_env(tmp_path: Path, **extra: str) -> dict:
    """Offline, isolated caches, no token: how the training tests run ``python -m train...``."""
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO),
        HF_HUB_OFFLINE="1",
        HF_HOME=str(tmp_path / "hf"),
        VIQA_CACHE=str(tmp_path / "cache"),
        **extra,
    )
    env.pop("HF_TOKEN", None)
    return env
