"""Questions in, model features out: sources from ``qa_core.sources``, windows from
``qa_core.windows``. Nothing here cuts windows or places labels itself.

Tokenized features are cached on disk under ``<cache>/features/``, keyed by the data's
fingerprint, the tokenizer and the window settings, so a second run (or a resumed one, or the
other processes of a distributed run) skips tokenization.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path

import datasets
from datasets.fingerprint import Hasher

from qa_core.sources import default_cache_dir, load_source
from qa_core.windows import WindowConfig, prepare_eval_features, prepare_train_features
from train.args import TrainConfigError

logger = logging.getLogger(__name__)

def split_spec(spec: str, default_split: str) -> tuple[str, str]:
    """``"SOURCE:SPLIT"`` → (source, split); a bare source gets ``default_split``.

    >>> split_spec("mlqa-translate-train.vi:train[:20%]", "train")
    ('mlqa-translate-train.vi', 'train[:20%]')
    >>> split_spec("org/dataset", "validation")
    ('org/dataset', 'validation')
    """
    source, sep, split = spec.partition(":")
    if sep and source and split and "[" not in source:
        return source, split
    return spec, default_split


def load_questions(
    specs: list[str],
    default_split: str,
    max_samples: int | None = None,
    cache_dir: str | None = None,
) -> datasets.Dataset:
    """The questions of one or more sources in the flat schema, concatenated in order.

    With several sources, ids are prefixed with the source name so they stay unique (the sample
    data, for instance, has the same ids in every split).
    """
    parts = []
    for spec in specs:
        source, split = split_spec(spec, default_split)
        loaded = load_source(source, split, cache_dir=cache_dir)
        dataset = loaded.dataset
        logger.info("%s [%s]: %d questions", source, loaded.split, len(dataset))
        if len(specs) > 1:
            dataset = dataset.map(
                _prefix_ids,
                fn_kwargs={"prefix": f"{source}/"},
                batched=True,
                desc=f"Prefixing ids of {source}",
            )
        parts.append(dataset)
    dataset = parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)
    if max_samples is not None:
        dataset = dataset.select(range(min(max_samples, len(dataset))))
    if len(dataset) == 0:
        raise TrainConfigError(
            f"{', '.join(specs)} ({default_split}) has no questions; check the split."
        )
    return dataset


def _prefix_ids(batch: dict, prefix: str) -> dict:
    return {"id": [prefix + i for i in batch["id"]]}


def has_unanswerable(dataset: datasets.Dataset) -> bool:
    """True when some question has no gold answer (SQuAD v2-style data)."""
    return any(len(answers["text"]) == 0 for answers in dataset["answers"])


def train_features(examples: dict, tokenizer, config: WindowConfig) -> dict:
    """``prepare_train_features`` plus each window's length, for length-grouped batches."""
    features = prepare_train_features(examples, tokenizer, config)
    features["length"] = [len(ids) for ids in features["input_ids"]]
    return features


def _tokenizer_key(tokenizer) -> str:
    """What makes two tokenizers cut text the same way: their model, normaliser, templates.

    The serialised form also holds the truncation/padding state of the last call, which
    changes as the tokenizer is used; it is left out so the key stays stable.
    """
    state = json.loads(tokenizer.backend_tokenizer.to_str())
    state.pop("truncation", None)
    state.pop("padding", None)
    return Hasher.hash([state, type(tokenizer).__name__, tokenizer.padding_side])


def _cache_file(
    kind: str, dataset: datasets.Dataset, tokenizer, config: WindowConfig, cache_dir: str | None
) -> str:
    # The dataset fingerprint is deterministic for the same source, split and slice.
    key = Hasher.hash([kind, dataset._fingerprint, _tokenizer_key(tokenizer), asdict(config)])
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    path = root / "features" / f"{kind}-{key}.arrow"
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


def tokenize(
    kind: str,
    dataset: datasets.Dataset,
    tokenizer,
    config: WindowConfig,
    *,
    cache_dir: str | None = None,
    num_proc: int | None = None,
    overwrite_cache: bool = False,
) -> datasets.Dataset:
    """Windows of every question: ``kind="train"`` gives labelled features, ``"eval"`` gives
    features with ``example_id``, ``offset_mapping`` and ``cls_index`` for span search."""
    function = {"train": train_features, "eval": prepare_eval_features}[kind]
    return dataset.map(
        function,
        fn_kwargs={"tokenizer": tokenizer, "config": config},
        batched=True,
        remove_columns=dataset.column_names,
        num_proc=num_proc,
        load_from_cache_file=not overwrite_cache,
        cache_file_name=_cache_file(kind, dataset, tokenizer, config, cache_dir),
        desc=f"Cutting {kind} windows",
    )
