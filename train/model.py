"""The checkpoint to fine-tune: a Hub id, a local directory, or a tiny model built offline."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from qa_core.checkpoints import TINY_BASE_DIR  # the app's checkpoint scan skips this folder
from train.args import TINY_PREFIX, ModelArguments, TrainConfigError

logger = logging.getLogger(__name__)


def resolve_checkpoint(args: ModelArguments, output_dir: str | Path) -> str:
    """The directory or Hub id to load; ``tiny:FAMILY`` is built once under ``output_dir``."""
    name = args.model_name_or_path
    if not name.startswith(TINY_PREFIX):
        return name
    from qa_core.model.tiny import TinyModelConfig, build_tiny_checkpoint

    family = name[len(TINY_PREFIX) :]
    path = Path(output_dir) / TINY_BASE_DIR / family
    if not (path / "config.json").is_file():
        logger.info("Building a tiny random %s checkpoint in %s", family, path)
        build_tiny_checkpoint(path, TinyModelConfig(family=family))
    return str(path)


# What architectures call the dropout on attention probabilities in their configs.
ATTENTION_DROPOUT_FIELDS = ("attention_probs_dropout_prob", "attention_dropout")


def attention_dropout_overrides(rate: float | None) -> dict[str, float]:
    """Config overrides setting attention dropout to ``rate`` (none for ``None``: the
    checkpoint's own).

    >>> attention_dropout_overrides(0.0)
    {'attention_probs_dropout_prob': 0.0, 'attention_dropout': 0.0}
    """
    return {} if rate is None else dict.fromkeys(ATTENTION_DROPOUT_FIELDS, rate)


def load_model_and_tokenizer(args: ModelArguments, checkpoint: str,
                             segmenter: str | None = None):
    """Fast tokenizer and QA model (float32 weights; mixed precision is the Trainer's job),
    loaded by ``qa_core``'s loader: its errors (offline, gated, not found, broken folder, slow
    tokenizer, no QA head in transformers) become ``TrainConfigError``s, with the offline
    smoke-test hint where no model could be had; an attention kernel the architecture lacks
    (mDeBERTa has no SDPA) is replaced by the best it has, and logged. A PhoBERT checkpoint
    gets its tokenizer with ``segmenter`` (``qa_core.model.phobert``)."""
    import torch

    from qa_core.errors import (
        CheckpointError,
        CheckpointNotFoundError,
        GatedCheckpointError,
        HubUnreachableError,
        UntrainedHeadWarning,
    )
    from qa_core.model.loading import load_components

    try:
        with warnings.catch_warnings():
            # A base encoder has no QA head yet: training it is the point.
            warnings.simplefilter("ignore", UntrainedHeadWarning)
            _, tokenizer, model = load_components(
                checkpoint, torch.float32, args.model_cache_dir,
                config_overrides=attention_dropout_overrides(args.attention_dropout),
                attn_implementation=args.attn_implementation, segmenter=segmenter,
            )
    except (CheckpointNotFoundError, HubUnreachableError, GatedCheckpointError) as exc:
        raise TrainConfigError(
            f"{exc} For a smoke test without a download, use --model-name-or-path tiny:unigram."
        ) from exc
    except CheckpointError as exc:
        raise TrainConfigError(str(exc)) from exc
    return model, tokenizer
