"""Shared fixtures: tiny offline checkpoints of both tokenizer families and the shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from paths import SAMPLE, shared

pytest_plugins = ["fake_hub"]  # the `hub` fixture: a fake Hub behind the real client

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")



@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory) -> dict[str, Path]:
    """One tiny random QA checkpoint per tokenizer family, saved like a real one."""
    from qa_core.model.tiny import FAMILIES, TinyModelConfig, build_tiny_checkpoint

    root = tmp_path_factory.mktemp("tiny")
    return {
        family: build_tiny_checkpoint(root / family, TinyModelConfig(family=family))
        for family in FAMILIES
    }


@pytest.fixture(params=["wordpiece", "unigram"])
def tiny_checkpoint(request, tiny_checkpoints) -> Path:
    """Each test using this runs once per tokenizer family."""
    return tiny_checkpoints[request.param]


@pytest.fixture(scope="session")
def sample_path() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def xquad_path() -> Path:
    """The real XQuAD-vi file from ../shared; tests using it skip on a user's machine."""
    return shared("data", "xquad.vi.json")


@pytest.fixture(scope="session")
def models_dir(tiny_checkpoints, tmp_path_factory) -> Path:
    """A models directory holding (links to) both tiny checkpoints, as `train` would leave."""
    root = tmp_path_factory.mktemp("models")
    for family, path in tiny_checkpoints.items():
        (root / f"tiny-{family}").symlink_to(path, target_is_directory=True)
    return root


@pytest.fixture(scope="session")
def smoke_model(tmp_path_factory) -> Path:
    """The quick start's model, trained once per session as the quick start trains it
    (``python -m train.finetune --preset smoke``), in a ``models/`` folder of its own: a small
    model that has learnt the sample, so its answers mean something (random weights do not)."""
    from train.finetune import main

    root = tmp_path_factory.mktemp("smoke")
    out = root / "models" / "smoke"
    code = main(["--preset", "smoke", "--output-dir", str(out), "--dataset-cache-dir",
                 str(root / "cache"), "--disable-tqdm", "true"])
    assert code == 0 and (out / "viqa_training.json").is_file()
    return out
