"""Questions in, model features out: sources from ``qa_core.data.sources``, windows from
``qa_core.windows``. Nothing here cuts windows or places labels itself.

Tokenized features are cached on disk under ``<cache>/features/``, keyed by everything that
decides them: the data's fingerprint, the tokenizer, the window settings, and the code that cuts
windows and places labels (:func:`features_code_key`). A second run (or a resumed one, or the
other processes of a distributed run) skips tokenization; a change to that code never reads
back windows the old code cut.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import marshal
import sys
import types
from dataclasses import asdict, dataclass
from pathlib import Path

import datasets
from datasets.fingerprint import Hasher

from qa_core.data.downloads import default_cache_dir
from qa_core.data.schema import labelled_only
from qa_core.data.sources import load_source
from qa_core.errors import UnlabelledDataError
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
    parts: list[datasets.Dataset] = []
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
    if len(parts) > 1:
        # Columns some sources have and others lack (uit_id) cannot be concatenated.
        common = set.intersection(*(set(part.column_names) for part in parts))
        parts = [part.remove_columns(sorted(set(part.column_names) - common)) for part in parts]
    dataset = parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)
    if max_samples is not None:
        dataset = dataset.select(range(min(max_samples, len(dataset))))
    if len(dataset) == 0:
        raise TrainConfigError(
            f"{', '.join(specs)} ({default_split}) has no questions; check the split."
        )
    return dataset


@dataclass
class RunQuestions:
    """The questions of a training run, loaded and checked before any model is built."""

    train: datasets.Dataset
    eval: datasets.Dataset | None = None  # None when the run does not evaluate


def load_run_questions(data, evaluate: bool) -> RunQuestions:
    """Training and (when ``evaluate``) evaluation questions of ``data`` (``DataArguments``),
    checked so that data errors come before a model is built or downloaded: every training
    question must have a gold label (:func:`require_labelled`); evaluation scores only the
    labelled questions and refuses a split with none."""
    train = load_questions(
        data.train_dataset, data.train_split, data.max_train_samples, data.dataset_cache_dir
    )
    require_labelled(train, ", ".join(data.train_dataset))
    if not evaluate:
        return RunQuestions(train)
    sources = data.eval_dataset or data.train_dataset
    what = f"The evaluation data ({', '.join(sources)}, {data.eval_split})"
    examples = load_questions(
        sources, data.eval_split, data.max_eval_samples, data.dataset_cache_dir
    )
    try:
        examples, skipped = labelled_only(examples, what)
    except UnlabelledDataError as exc:
        raise TrainConfigError(f"{exc} Or train without evaluation: --eval-strategy no.") from None
    if skipped:
        logger.warning(
            "%s: %d questions without a gold answer are not evaluated; %d are.",
            what,
            skipped,
            len(examples),
        )
    return RunQuestions(train, examples)


def _prefix_ids(batch: dict, prefix: str) -> dict:
    return {"id": [prefix + i for i in batch["id"]]}


def has_unanswerable(dataset: datasets.Dataset) -> bool:
    """True when some question is unanswerable (SQuAD v2-style data): no answers, and
    labelled as such (an unlabelled question says nothing either way)."""
    labelled = list(dataset["labelled"]) if "labelled" in dataset.column_names else None
    return any(
        len(answers["text"]) == 0 and (labelled is None or labelled[i])
        for i, answers in enumerate(dataset["answers"])
    )


def require_labelled(dataset: datasets.Dataset, what: str) -> None:
    """Refuse training questions without a gold label: learnt as "no answer", they would
    teach the model to give up on every one of them."""
    if "labelled" not in dataset.column_names:
        return
    unlabelled = sum(not flag for flag in dataset["labelled"])
    if unlabelled:
        raise TrainConfigError(
            f"{unlabelled:,} of the {len(dataset):,} training questions of {what} have no gold "
            "answer and are not marked unanswerable (answers empty, is_impossible false or "
            "absent): training on them would teach the model to answer 'no answer' to all of "
            "them. Train on a split with answers (e.g. 'train'), or mark the questions that "
            "really have no answer with is_impossible: true."
        )


def train_features(examples: dict, tokenizer, config: WindowConfig) -> dict:
    """``prepare_train_features`` plus each window's length, for length-grouped batches."""
    features = prepare_train_features(examples, tokenizer, config)
    features["length"] = [len(ids) for ids in features["input_ids"]]
    return features


def _tokenizer_key(tokenizer) -> str:
    """What makes two tokenizers cut text the same way: their model, normaliser, templates.

    The serialised form also holds the truncation/padding state of the last call, which
    changes as the tokenizer is used; it is left out so the key stays stable. PhoBERT's adapter
    says what decides its cut itself (vocabulary, merges, segmenter and its version).
    """
    if hasattr(tokenizer, "cache_state"):
        return Hasher.hash([tokenizer.cache_state(), type(tokenizer).__name__])
    state = json.loads(tokenizer.backend_tokenizer.to_str())
    state.pop("truncation", None)
    state.pop("padding", None)
    return Hasher.hash([state, type(tokenizer).__name__, tokenizer.padding_side])


def _stripped(code: types.CodeType) -> types.CodeType:
    """``code`` without where it lives (file, line numbers), nested functions included: what
    it does, not where it was written."""
    consts = tuple(_stripped(c) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.replace(co_filename="", co_firstlineno=1, co_linetable=b"",
                        co_exceptiontable=code.co_exceptiontable, co_consts=consts)


def _fingerprint(value) -> bytes | str | None:
    """The part of a module attribute that decides what it does, or None for imports."""
    if isinstance(value, types.FunctionType):
        return marshal.dumps((_stripped(value.__code__), repr(value.__defaults__)))
    if isinstance(value, type):
        members = sorted((k, _fingerprint(v)) for k, v in vars(value).items()
                         if isinstance(v, types.FunctionType))
        fields = [(f.name, repr(f.default)) for f in dataclasses.fields(value)] if (
            dataclasses.is_dataclass(value)) else []
        return repr((members, fields))
    if isinstance(value, (int, float, str, bytes, tuple, frozenset)):
        return repr(value)
    return None


def features_code_key(modules=None) -> str:
    """A hash of the code that decides the features: every function, class and constant of
    ``qa_core.windows`` (windows, labels), PhoBERT's tokenizer adapter and word segmentation,
    and of this module (``train_features``), as they are
    now in this process, whatever the files' paths or line numbers. Functions a module imports
    count too: a new version of a library they come from only costs one re-tokenization."""
    import qa_core.model.phobert
    import qa_core.segmentation
    import qa_core.segmentation.align
    import qa_core.segmentation.segmenters
    import qa_core.segmentation.tone
    import qa_core.windows

    modules = modules or (qa_core.windows, qa_core.model.phobert, qa_core.segmentation,
                          qa_core.segmentation.align, qa_core.segmentation.segmenters,
                          qa_core.segmentation.tone, sys.modules[__name__])
    parts = []
    for module in modules:
        for name, value in sorted(vars(module).items()):
            if name.startswith("__"):
                continue
            fingerprint = _fingerprint(value)
            if fingerprint is not None:
                parts.append((module.__name__, name, fingerprint))
    return Hasher.hash(parts)


def _cache_file(
    kind: str, dataset: datasets.Dataset, tokenizer, config: WindowConfig, cache_dir: str | None
) -> str:
    # The dataset fingerprint is deterministic for the same source, split and slice.
    key = Hasher.hash(
        [kind, features_code_key(), dataset._fingerprint, _tokenizer_key(tokenizer),
         asdict(config)]
    )
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
