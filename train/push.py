"""Publish a trained model directory to the Hugging Face Hub.

``python -m train.push --model-dir models/RUN --hub-model-id USER/NAME [--private]``

``train.finetune --push-to-hub`` calls :func:`push_model` after training; when that fails the
model stays on disk and this command, printed in full, pushes it later. The token comes from
``HF_TOKEN`` or ``hf auth login`` (see ``train.hub``).
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path

from train.hub import HubAccessError, check_hub_access

logger = logging.getLogger(__name__)

# Checkpoints (optimizer states: 2-3x the model) and local scratch stay local.
IGNORE_PATTERNS = ["checkpoint-*", "checkpoint-*/**", ".*", ".*/**", "**/.*", "eval/**"]


def push_command(model_dir: str | Path, hub_model_id: str, private: bool | None = None) -> str:
    """The shell command that pushes ``model_dir`` later, quoted for copy and paste.

    >>> push_command("models/my run", "me/xlmr-vi-qa")
    "python -m train.push --model-dir 'models/my run' --hub-model-id me/xlmr-vi-qa"
    """
    parts = [
        "python",
        "-m",
        "train.push",
        "--model-dir",
        str(model_dir),
        "--hub-model-id",
        hub_model_id,
    ]
    if private:
        parts.append("--private")
    return shlex.join(parts)


def push_model(model_dir: str | Path, hub_model_id: str, private: bool | None = None) -> str:
    """Upload the final model of ``model_dir`` (not its checkpoints); returns the repo URL."""
    from huggingface_hub import HfApi

    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise ValueError(
            f"{model_dir} holds no model (no config.json). Point --model-dir at the directory "
            "train.finetune wrote (its --output-dir)."
        )
    target = check_hub_access(hub_model_id)
    api = HfApi()
    url = api.create_repo(target.repo_id, private=private, exist_ok=True, repo_type="model")
    api.upload_folder(
        folder_path=str(model_dir),
        repo_id=target.repo_id,
        repo_type="model",
        ignore_patterns=IGNORE_PATTERNS,
        commit_message="Upload Vietnamese QA model trained with viqa",
    )
    logger.info("Pushed %s to %s", model_dir, url)
    return str(url)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m train.push", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--model-dir", required=True, help="Directory written by train.finetune.")
    parser.add_argument("--hub-model-id", required=True, help="Repository: USER/NAME or ORG/NAME.")
    parser.add_argument("--private", action="store_true", help="Create the repository as private.")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        url = push_model(args.model_dir, args.hub_model_id, args.private or None)
    except (HubAccessError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
