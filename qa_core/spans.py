"""Start/end logits → ranked answer spans. Pure numpy: logits and offsets in, spans out.

Rules (the same for the reader, evaluation and training):

* A span ``(i, j)`` of one window is valid when both tokens are context tokens (offset start
  ``>= 0``), ``i <= j`` and ``j - i + 1 <= max_answer_length``. Its score is
  ``start_logits[i] + end_logits[j]``.
* Its text is ``context[offsets[i][0]:offsets[j][1]]`` with surrounding whitespace trimmed (and
  the offsets moved to match): XLM-R-style offsets include the leading space.
* Candidates are unique *character* spans: a span seen in several overlapping windows (or two
  token spans that trim to the same text) keeps its highest score.
* ``probability`` is a softmax over the scores of all valid unique spans of the example, plus
  the null score when no-answer is allowed.
* Null score (SQuAD v2) is the minimum over windows of ``start[cls] + end[cls]``; the answer is
  "no answer" when ``null - best > null_threshold``.

Top-n is exact over all valid spans (not the top-20 starts × top-20 ends shortcut). Two
implementations give the same result: ``_explicit_spans`` enumerates the band of valid spans
and de-duplicates; ``find_spans_batch`` handles the common case (one window, offsets that cannot
collide) for many examples at once in O(windows × tokens), falling back to the explicit path
for the rest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from qa_core.textnorm import to_nfc
from qa_core.types import Answer, SpanResult

_SPACE_CODES = np.array([c for c in range(0x3001) if chr(c).isspace()], dtype=np.uint32)


@dataclass
class SpanOptions:
    """How candidates are chosen from the logits."""

    top_n: int = 5  # candidates returned, best first
    max_answer_length: int = 30  # tokens
    allow_no_answer: bool = False  # SQuAD v2: the model may answer "no answer"
    null_threshold: float = 0.0  # predict no answer when null - best > this

    def __post_init__(self) -> None:
        if self.top_n < 1:
            raise ValueError(f"top_n={self.top_n} must be at least 1.")
        if self.max_answer_length < 1:
            raise ValueError(f"max_answer_length={self.max_answer_length} must be at least 1.")


# ---------------------------------------------------------------------------------------------
# Whitespace trimming
# ---------------------------------------------------------------------------------------------
def trim_maps(context: str) -> tuple[np.ndarray, np.ndarray]:
    """Arrays to trim spans of ``context`` in O(1) each.

    ``first[p]``: the first non-space position ``>= p`` (``len`` if none);
    ``last_end[p]``: one past the last non-space position ``< p`` (``0`` if none).
    A span ``[s, e)`` trims to ``[first[s], last_end[e])``, empty when the start is not smaller.
    """
    n = len(context)
    codes = np.frombuffer(context.encode("utf-32-le"), dtype=np.uint32)
    non_space = ~np.isin(codes, _SPACE_CODES)  # (n,)
    pos = np.arange(n)
    first = np.empty(n + 1, dtype=np.int64)
    first[n] = n
    if n:
        first[:n] = np.minimum.accumulate(np.where(non_space, pos, n)[::-1])[::-1]
    last_end = np.zeros(n + 1, dtype=np.int64)
    if n:
        last_end[1:] = np.maximum.accumulate(np.where(non_space, pos + 1, 0))
    return first, last_end


# ---------------------------------------------------------------------------------------------
# Explicit path: enumerate every valid span
# ---------------------------------------------------------------------------------------------
def _log_softmax_denominator(scores: np.ndarray, null: float | None) -> float:
    """log Σ exp(scores) (+ exp(null)), computed stably."""
    if null is not None:
        scores = np.append(scores, null)
    if scores.size == 0:
        return 0.0
    m = float(scores.max())
    return m + float(np.log(np.exp(scores - m).sum()))


def null_score(start_logits: np.ndarray, end_logits: np.ndarray, cls_index) -> float:
    """Min over windows of the CLS start + end score (the most confident window decides)."""
    w = np.arange(start_logits.shape[0])
    cls = np.broadcast_to(np.asarray(cls_index), w.shape)
    return float((start_logits[w, cls] + end_logits[w, cls]).min())


def enumerate_spans(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    offsets: np.ndarray,
    context: str,
    max_answer_length: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All valid unique character spans of an example with their best score.

    Args: logits ``(n_windows, seq_len)``, offsets ``(n_windows, seq_len, 2)`` (``-1`` outside
    the context). Returns ``(starts, ends, scores)`` as 1-D arrays in no particular order.
    """
    start_logits = np.asarray(start_logits, dtype=np.float64)
    end_logits = np.asarray(end_logits, dtype=np.float64)
    offsets = np.asarray(offsets, dtype=np.int64)
    in_ctx = offsets[..., 0] >= 0  # (W, L)
    cols = np.nonzero(in_ctx.any(axis=0))[0]
    if cols.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    lo, hi = int(cols[0]), int(cols[-1]) + 1  # context columns only: less work
    s, e, off, ok = (
        start_logits[:, lo:hi],
        end_logits[:, lo:hi],
        offsets[:, lo:hi],
        in_ctx[:, lo:hi],
    )
    n_tok = hi - lo
    width = min(max_answer_length, n_tok)
    j = np.arange(n_tok)[:, None] + np.arange(width)[None, :]  # (L, M) end token of (start, k)
    inside = j < n_tok
    j = np.minimum(j, n_tok - 1)
    valid = ok[:, :, None] & ok[:, j] & inside[None]  # (W, L, M)
    w_idx, i_idx, k_idx = np.nonzero(valid)
    j_idx = i_idx + k_idx
    scores = s[w_idx, i_idx] + e[w_idx, j_idx]
    first, last_end = trim_maps(context)
    starts = first[off[w_idx, i_idx, 0]]
    ends = last_end[off[w_idx, j_idx, 1]]
    keep = starts < ends
    starts, ends, scores = starts[keep], ends[keep], scores[keep]
    # Unique character spans, keeping the highest score: sort by score, take first of each key.
    order = np.argsort(-scores, kind="stable")
    keys = starts[order] * (len(context) + 1) + ends[order]
    _, first_idx = np.unique(keys, return_index=True)
    best = order[first_idx]
    return starts[best], ends[best], scores[best]


def _explicit_spans(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    offsets: np.ndarray,
    context: str,
    options: SpanOptions,
    cls_index,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float | None]:
    """Top-n unique spans of one example: (starts, ends, scores, log_denominator, null)."""
    starts, ends, scores = enumerate_spans(
        start_logits, end_logits, offsets, context, options.max_answer_length
    )
    null = null_score(start_logits, end_logits, cls_index) if options.allow_no_answer else None
    log_z = _log_softmax_denominator(scores, null)
    top = np.argsort(-scores, kind="stable")[: options.top_n]
    return starts[top], ends[top], scores[top], log_z, null


def _to_result(
    context: str,
    starts: np.ndarray,
    ends: np.ndarray,
    scores: np.ndarray,
    log_z: float,
    null: float | None,
    options: SpanOptions,
) -> SpanResult:
    """Wrap the top spans of one example into a ``SpanResult``."""
    answers = [
        Answer(context[s:e], int(s), int(e), float(sc), float(np.exp(sc - log_z)))
        for s, e, sc in zip(starts.tolist(), ends.tolist(), scores.tolist())
    ]
    if null is None:
        return SpanResult(answers=answers)
    best = answers[0].score if answers else -np.inf
    return SpanResult(
        answers=answers,
        no_answer=bool(null - best > options.null_threshold),
        null_score=float(null),
        null_probability=float(np.exp(null - log_z)),
    )


def find_spans(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    offsets: np.ndarray,
    context: str,
    options: SpanOptions | None = None,
    cls_index: int | Sequence[int] = 0,
) -> SpanResult:
    """Ranked answer spans for one example from its windows' logits.

    Args:
        start_logits, end_logits: ``(n_windows, seq_len)``.
        offsets: ``(n_windows, seq_len, 2)`` character offsets into ``context``; ``-1`` for
            tokens outside the context (question, special tokens, padding).
        context: the text the offsets index.
        cls_index: position of the CLS token, one for all windows or one per window.
    """
    options = options or SpanOptions()
    start_logits = np.atleast_2d(np.asarray(start_logits, dtype=np.float64))
    end_logits = np.atleast_2d(np.asarray(end_logits, dtype=np.float64))
    offsets = np.asarray(offsets, dtype=np.int64).reshape((*start_logits.shape, 2))
    parts = _explicit_spans(start_logits, end_logits, offsets, context, options, cls_index)
    return _to_result(context, *parts, options)


# ---------------------------------------------------------------------------------------------
# Batched fast path
# ---------------------------------------------------------------------------------------------
def _window_max(x: np.ndarray, width: int) -> np.ndarray:
    """``out[..., i] = max(x[..., i:i + width])`` along the last axis, by doubling (log width)."""
    out = x.copy()
    span = 1
    while span * 2 <= width:
        shifted = np.full_like(out, -np.inf)
        shifted[..., :-span] = out[..., span:]
        out = np.maximum(out, shifted)
        span *= 2
    rest = width - span
    if rest > 0:
        shifted = np.full_like(out, -np.inf)
        shifted[..., :-rest] = out[..., rest:]
        out = np.maximum(out, shifted)
    return out


def _clean_rows(offsets: np.ndarray, in_ctx: np.ndarray, contexts: Sequence[str]) -> np.ndarray:
    """Rows whose distinct token spans are sure to give distinct trimmed character spans:
    context tokens in order, not overlapping, none empty or whitespace-only."""
    clean = np.ones(len(offsets), dtype=bool)
    for f, (off, ok, context) in enumerate(zip(offsets, in_ctx, contexts)):
        o = off[ok]
        if o.size == 0:
            continue
        first, last_end = trim_maps(context)
        starts, ends = first[o[:, 0]], last_end[o[:, 1]]
        clean[f] = bool(
            (starts < ends).all() and (o[1:, 0] >= o[:-1, 1]).all() and (o[:, 1] > o[:, 0]).all()
        )
    return clean


def find_spans_batch(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    offsets: np.ndarray,
    feature_example: np.ndarray,
    contexts: Sequence[str],
    options: SpanOptions | None = None,
    cls_index: np.ndarray | int = 0,
) -> list[SpanResult]:
    """``find_spans`` for many examples at once; same results, far faster.

    Args:
        start_logits, end_logits: ``(n_features, seq_len)`` for all windows of all examples.
        offsets: ``(n_features, seq_len, 2)``, ``-1`` outside the context.
        feature_example: ``(n_features,)`` index into ``contexts`` of each window's example.
        contexts: one text per example.
        cls_index: ``(n_features,)`` or one int.

    Examples with one window and collision-free offsets take an exact O(tokens) route: the
    softmax denominator via cumulative sums and the top-n from the n best starts (the best
    span starting at ``i`` scores ``s_i + max(e[i:i+M])``, so every top-n span starts at one of
    the n starts with the best such score). Others take the explicit route.
    """
    options = options or SpanOptions()
    start_logits = np.asarray(start_logits, dtype=np.float64)
    end_logits = np.asarray(end_logits, dtype=np.float64)
    offsets = np.asarray(offsets, dtype=np.int64)
    feature_example = np.asarray(feature_example, dtype=np.int64)
    n_feat, _seq_len = start_logits.shape
    cls = np.broadcast_to(np.asarray(cls_index, dtype=np.int64), (n_feat,))
    in_ctx = offsets[..., 0] >= 0  # (F, L)

    counts = np.bincount(feature_example, minlength=len(contexts))
    single = counts[feature_example] == 1  # (F,)
    fast = single & _clean_rows(offsets, in_ctx, [contexts[e] for e in feature_example])

    results: list[SpanResult | None] = [None] * len(contexts)
    if fast.any():
        for f, res in zip(
            np.nonzero(fast)[0],
            _fast_rows(
                start_logits[fast],
                end_logits[fast],
                offsets[fast],
                in_ctx[fast],
                cls[fast],
                [contexts[e] for e in feature_example[fast]],
                options,
            ),
        ):
            results[feature_example[f]] = res
    slow_examples = np.unique(feature_example[~fast])
    by_example = defaultdict(list)
    for f in np.nonzero(~fast)[0]:
        by_example[feature_example[f]].append(f)
    for ex in slow_examples.tolist():
        rows = by_example[ex]
        results[ex] = find_spans(
            start_logits[rows], end_logits[rows], offsets[rows], contexts[ex], options, cls[rows]
        )
    for ex, res in enumerate(results):
        if res is None:  # an example with no windows at all
            results[ex] = SpanResult(no_answer=options.allow_no_answer)
    return results  # type: ignore[return-value]


def _fast_rows(
    s: np.ndarray,
    e: np.ndarray,
    offsets: np.ndarray,
    in_ctx: np.ndarray,
    cls: np.ndarray,
    contexts: Sequence[str],
    options: SpanOptions,
) -> list[SpanResult]:
    """Exact top-n and softmax for single-window, collision-free rows, all rows at once."""
    n_rows, seq_len = s.shape
    width = min(options.max_answer_length, seq_len)
    rows = np.arange(n_rows)[:, None]
    s_ctx = np.where(in_ctx, s, -np.inf)  # (R, L)
    e_ctx = np.where(in_ctx, e, -np.inf)

    # Softmax denominator: Σ_i exp(s_i) Σ_{j=i}^{i+M-1} exp(e_j), context tokens only.
    s_max = s_ctx.max(axis=1, keepdims=True)
    e_max = e_ctx.max(axis=1, keepdims=True)
    s_max = np.where(np.isfinite(s_max), s_max, 0.0)
    e_max = np.where(np.isfinite(e_max), e_max, 0.0)
    exp_e = np.exp(e_ctx - e_max)  # zeros outside the context
    csum = np.concatenate([np.zeros((n_rows, 1)), np.cumsum(exp_e, axis=1)], axis=1)  # (R, L+1)
    hi = np.minimum(np.arange(seq_len) + width, seq_len)
    band = csum[:, hi] - csum[:, :seq_len]  # (R, L) Σ exp(e_j) over the band of each start
    total = (np.exp(s_ctx - s_max) * band).sum(axis=1)  # (R,)
    with np.errstate(divide="ignore"):
        log_z = np.log(total) + s_max[:, 0] + e_max[:, 0]  # -inf when no valid span

    # Top-n: the n starts whose best span is best, then all their ends.
    best_from = s_ctx + _window_max(e_ctx, width)  # (R, L)
    n = min(options.top_n, seq_len)
    cand = np.argpartition(-best_from, n - 1, axis=1)[:, :n]  # (R, n) start tokens
    ends = cand[:, :, None] + np.arange(width)[None, None, :]  # (R, n, M)
    ends_c = np.minimum(ends, seq_len - 1)
    pair = s_ctx[rows, cand][:, :, None] + e_ctx[rows[:, :, None], ends_c]
    pair = np.where(ends < seq_len, pair, -np.inf).reshape(n_rows, -1)  # (R, n*M)
    k = min(options.top_n, pair.shape[1])
    top = np.argpartition(-pair, k - 1, axis=1)[:, :k]
    top_scores = pair[rows, top]
    order = np.argsort(-top_scores, axis=1, kind="stable")
    top, top_scores = top[rows, order], top_scores[rows, order]
    start_tok = cand[rows, top // width]
    end_tok = np.minimum(start_tok + top % width, seq_len - 1)
    char_s = offsets[rows, start_tok, 0]
    char_e = offsets[rows, end_tok, 1]

    nulls = None
    if options.allow_no_answer:
        nulls = s[np.arange(n_rows), cls] + e[np.arange(n_rows), cls]
        log_z = np.logaddexp(log_z, nulls)
    log_z = np.where(np.isfinite(log_z), log_z, 0.0)  # no valid span and no null: nothing to divide
    out = []
    for r, context in enumerate(contexts):
        keep = np.isfinite(top_scores[r])
        first, last_end = trim_maps(context)
        out.append(
            _to_result(
                context,
                first[char_s[r][keep]],
                last_end[char_e[r][keep]],
                top_scores[r][keep],
                float(log_z[r]),
                None if nulls is None else float(nulls[r]),
                options,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# Evaluation: many examples with the features `prepare_eval_features` made
# ---------------------------------------------------------------------------------------------
def pad_offsets(offset_mapping: Sequence[Sequence[Sequence[int]]], seq_len: int) -> np.ndarray:
    """Ragged per-window offsets → ``(n_features, seq_len, 2)`` padded with ``-1``."""
    out = np.full((len(offset_mapping), seq_len, 2), -1, dtype=np.int64)
    for f, offs in enumerate(offset_mapping):
        arr = np.asarray(offs, dtype=np.int64).reshape(-1, 2)[:seq_len]
        out[f, : len(arr)] = arr
    return out


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
    ids = list(examples["id"])
    index = {ex_id: i for i, ex_id in enumerate(ids)}
    start_logits = np.asarray(start_logits)
    end_logits = np.asarray(end_logits)
    seq_len = start_logits.shape[1]
    offsets = pad_offsets(features["offset_mapping"], seq_len)
    feature_example = np.asarray([index[i] for i in features["example_id"]], dtype=np.int64)
    cls = (
        np.asarray(features["cls_index"], dtype=np.int64)
        if "cls_index" in getattr(features, "column_names", features)
        else 0
    )
    normalized = [to_nfc(c) for c in examples["context"]]
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
    """Gold answer texts per example id, the shape ``qa_core.metrics`` expects."""
    return {ex_id: list(ans["text"]) for ex_id, ans in zip(examples["id"], examples["answers"])}
