"""The checkpoint to fine-tune: a Hub id, a local directory, or a tiny model built offline."""

from __future__ import annotations

import logging
from pathlib import Path

from train.args import TINY_PREFIX, ModelArguments, TrainConfigError

logger = logging.getLogger(__name__)

TINY_BASE_DIR = ".tiny-base"  # hidden, so the app's checkpoint scan skips the random model


def resolve_checkpoint(args: ModelArguments, output_dir: str | Path) -> str:
    """The directory or Hub id to load; ``tiny:FAMILY`` is built once under ``output_dir``."""
    name = args.model_name_or_path
    if not name.startswith(TINY_PREFIX):
        return name
    from qa_core.tiny_models import TinyModelConfig, build_tiny_checkpoint

    family = name[len(TINY_PREFIX) :]
    path = Path(output_dir) / TINY_BASE_DIR / family
    if not (path / "config.json").is_file():
        logger.info("Building a tiny random %s checkpoint in %s", family, path)
        build_tiny_checkpoint(path, TinyModelConfig(family=family))
    return str(path)


def load_model_and_tokenizer(args: ModelArguments, checkpoint: str):
    """Fast tokenizer and QA model (float32 weights; mixed precision is the Trainer's job)."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(checkpoint, cache_dir=args.model_cache_dir)
    except OSError as exc:  # transformers' "not found / cannot connect" errors
        raise TrainConfigError(
            f"Could not load {checkpoint!r}: {str(exc).splitlines()[0]} If you are offline, "
            "download it where you have a network (`hf download ID --local-dir DIR`) and pass "
            "the directory, or use --model-name-or-path tiny:unigram for a smoke test."
        ) from exc
    if not getattr(tokenizer, "is_fast", False):
        raise TrainConfigError(
            f"{checkpoint} has no fast tokenizer, which QA needs for character offsets. Pick a "
            "checkpoint that ships tokenizer.json (XLM-R, mBERT, mDeBERTa, ...)."
        )
    model = AutoModelForQuestionAnswering.from_pretrained(
        checkpoint,
        cache_dir=args.model_cache_dir,
        attn_implementation=args.attn_implementation,
        dtype=torch.float32,
    )
    return model, tokenizer
