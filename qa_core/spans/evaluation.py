"""The spans of an evaluation: the features ``qa_core.windows.prepare_eval_features`` made and
the model's logits → one result per question, and the references to score them against."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from qa_core.spans.batch import arrow_column, column_values, find_spans_batch
from qa_core.spans.search import SpanOptions
from qa_core.textnorm import to_nfc
from qa_core.types import Answer, SpanResult


def pad_offsets(offset_mapping, seq_len: int) -> np.ndarray:
    """Ragged per-window offsets → ``(n_features, seq_len, 2)`` padded with ``-1``.

    Accepts nested lists or an Arrow list column (a ``datasets`` column is read without
    building Python lists).
    """
    column = arrow_column(offset_mapping)
    if column is not None:
        lengths = column.value_lengths().to_numpy(zero_copy_only=False)
        flat = column.flatten().flatten().to_numpy(zero_copy_only=False).astype(np.int64)
        flat = flat.reshape(-1, 2)
    else:
        lengths = np.fromiter((len(o) for o in offset_mapping), dtype=np.int64)
        flat = np.asarray([p for offs in offset_mapping for p in offs], dtype=np.int64)
        flat = flat.reshape(-1, 2)
    column_lengths = lengths
    lengths = np.minimum(lengths, seq_len)  # longer rows are cut (never the case for logits)
    row_start = np.repeat(np.arange(len(lengths)) * seq_len - np.cumsum(lengths) + lengths, lengths)
    out = np.full((len(lengths) * seq_len, 2), -1, dtype=np.int64)
    out[row_start + np.arange(len(row_start))] = flat[: len(row_start)] if (
        len(flat) == len(row_start)) else _cut_rows(flat, column_lengths, seq_len)
    return out.reshape(len(lengths), seq_len, 2)


def _cut_rows(flat: np.ndarray, lengths: np.ndarray, seq_len: int) -> np.ndarray:
    """The first ``seq_len`` pairs of every row of a flattened ragged array."""
    pos = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return flat[pos < seq_len]


def postprocess_predictions(
    examples,
    features,
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    options: SpanOptions | None = None,
) -> dict[str, SpanResult]:
    """Spans for every example from the logits of its evaluation features.

    ``examples`` have ``id`` and ``context``; ``features`` (from ``prepare_eval_features``) have
    ``example_id``, ``offset_mapping`` and ``cls_index``. Logits are ``(n_features, seq_len)``
    as a Trainer returns them (padding ``-100`` is harmless: padded tokens have no offsets).
    Offsets index the NFC context; returned offsets index each example's own context.
    """
    ids = column_values(examples["id"])
    index = {ex_id: i for i, ex_id in enumerate(ids)}
    start_logits = np.asarray(start_logits)
    end_logits = np.asarray(end_logits)
    seq_len = start_logits.shape[1]
    offsets = pad_offsets(features["offset_mapping"], seq_len)
    feature_example = np.asarray(
        [index[i] for i in column_values(features["example_id"])], dtype=np.int64
    )
    cls = (
        np.asarray(column_values(features["cls_index"]), dtype=np.int64)
        if "cls_index" in getattr(features, "column_names", features)
        else 0
    )
    normalized = [to_nfc(c) for c in column_values(examples["context"])]
    results = find_spans_batch(
        start_logits,
        end_logits,
        offsets,
        feature_example,
        [n.text for n in normalized],
        options,
        cls,
    )
    for res, norm in zip(results, normalized):
        if not norm.is_identity:
            res.answers = [map_answer(a, norm) for a in res.answers]
    return dict(zip(ids, results))


def map_answer(answer: Answer, norm) -> Answer:
    """The same answer with offsets and text moved from the NFC text to the original."""
    s, e = norm.to_original(answer.start, answer.end)
    return Answer(norm.original[int(s) : int(e)], int(s), int(e), answer.score, answer.probability)


def references_of(examples) -> Mapping[str, list[str]]:
    """Gold answer texts per example id, the shape ``qa_core.evaluation.metrics`` expects."""
    answers = column_values(examples["answers"])
    return {ex_id: list(ans["text"]) for ex_id, ans in zip(column_values(examples["id"]), answers)}
