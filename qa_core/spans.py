"""Start/end logits → ranked answer spans. Pure numpy: logits and offsets in, spans out.

Rules (the same for the reader, evaluation and training):

* A span ``(i, j)`` of one window is valid when both tokens are context tokens (offset start
  ``>= 0``), ``i <= j`` and ``j - i + 1 <= max_answer_length``. Its score is
  ``start_logits[i] + end_logits[j]``.
* Its text is ``context[offsets[i][0]:offsets[j][1]]`` with surrounding whitespace trimmed (and
  the offsets moved to match): XLM-R-style offsets include the leading space. Zero-width
  spaces (U+200B/200C/200D) and U+FEFF count as whitespace, so no answer starts or ends with one
  and a span of nothing else is no candidate.
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

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from qa_core.textnorm import INVISIBLE_SPACES, is_space, to_nfc
from qa_core.types import Answer, SpanResult

# Whitespace of the Basic Multilingual Plane, invisible spaces included (str.isspace() is
# False above U+3000, so only the invisible ones beyond it need setting).
_SPACE_TABLE = np.zeros(0x10000, dtype=bool)
_SPACE_TABLE[: 0x3001] = [is_space(chr(c)) for c in range(0x3001)]
_SPACE_TABLE[[ord(c) for c in INVISIBLE_SPACES]] = True


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
    non_space = ~((codes <= 0xFFFF) & _SPACE_TABLE[np.minimum(codes, 0xFFFF)])  # (n,)
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


def collapse_tokens(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    offsets: np.ndarray,
    first: np.ndarray,
    row_base: np.ndarray | int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fold tokens without visible text of their own into their neighbours.

    XLM-R-style tokenizers emit whitespace-only tokens (a lone ``▁``) and, at a text's start,
    a ``▁`` sharing the next token's offsets. A span starting at a whitespace token trims to the
    span starting at the next visible token, so it is the same candidate: the visible token
    takes the better start logit (and a whitespace token's end logit goes to the previous
    visible token). A token with the same offsets as the next one is merged into it, which
    takes the larger start and end logits. Visible tokens are then packed at the
    start of each window's context, so ``max_answer_length`` counts tokens with visible text.
    Returns new ``(start_logits, end_logits, offsets)``; rows without such tokens are unchanged.
    ``first`` is ``trim_maps(...)[0]`` of the text the offsets (plus ``row_base``) index.
    """
    in_ctx = offsets[..., 0] >= 0  # (R, L)
    n_rows, seq_len = in_ctx.shape
    base = np.broadcast_to(np.asarray(row_base, dtype=np.int64), (n_rows,))[:, None]
    gs = np.where(in_ctx, offsets[..., 0], 0) + base
    ge = np.where(in_ctx, offsets[..., 1], 0) + base
    blank = in_ctx & (first[gs] >= ge)  # nothing but spaces (or empty)
    dup = np.zeros_like(in_ctx)
    dup[:, :-1] = (
        in_ctx[:, :-1] & in_ctx[:, 1:] & (offsets[:, :-1] == offsets[:, 1:]).all(axis=2)
    )
    absorbed = blank | dup
    if not absorbed.any():
        return start_logits, end_logits, offsets
    canon = in_ctx & ~absorbed
    pos = np.arange(seq_len)
    nxt = np.minimum.accumulate(np.where(canon, pos, seq_len)[:, ::-1], axis=1)[:, ::-1]
    prv = np.maximum.accumulate(np.where(canon, pos, -1), axis=1)
    s_eff = np.where(canon, start_logits, -np.inf)
    e_eff = np.where(canon, end_logits, -np.inf)
    rows, cols = np.nonzero(absorbed)
    to = nxt[rows, cols]
    ok = to < seq_len
    np.maximum.at(s_eff, (rows[ok], to[ok]), start_logits[rows[ok], cols[ok]])
    to = np.where(blank[rows, cols], prv[rows, cols], nxt[rows, cols])
    ok = (to >= 0) & (to < seq_len)
    np.maximum.at(e_eff, (rows[ok], to[ok]), end_logits[rows[ok], cols[ok]])
    # Pack visible tokens at the start of the context region; the rest leaves the context.
    r, c = np.nonzero(canon)
    new = np.argmax(in_ctx, axis=1)[r] + (np.cumsum(canon, axis=1) - 1)[r, c]
    s2, e2, off2 = start_logits.copy(), end_logits.copy(), offsets.copy()
    off2[in_ctx] = -1
    s2[r, new], e2[r, new], off2[r, new] = s_eff[r, c], e_eff[r, c], offsets[r, c]
    return s2, e2, off2


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
    null: float | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float | None]:
    """Top-n unique spans of one example: (starts, ends, scores, log_denominator, null)."""
    starts, ends, scores = enumerate_spans(
        start_logits, end_logits, offsets, context, options.max_answer_length
    )
    log_z = _log_softmax_denominator(scores, null)
    top = np.argsort(-scores, kind="stable")[: options.top_n]
    return starts[top], ends[top], scores[top], log_z, null


def _span_result(
    answers: list[Answer], null: float | None, log_z: float, options: SpanOptions
) -> SpanResult:
    """The ``SpanResult`` of ranked answers, deciding "no answer" when a null score is given."""
    if null is None:
        return SpanResult(answers=answers)
    best = answers[0].score if answers else -math.inf
    return SpanResult(
        answers=answers,
        no_answer=bool(null - best > options.null_threshold),
        null_score=float(null),
        null_probability=math.exp(null - log_z),
    )


def _to_result(
    context: str,
    starts: np.ndarray,
    ends: np.ndarray,
    scores: np.ndarray,
    log_z: float,
    null: float | None,
    options: SpanOptions,
) -> SpanResult:
    """Wrap the top spans of one example (``starts``/``ends`` index ``context``)."""
    answers = [
        Answer(context[s:e], s, e, sc, math.exp(sc - log_z))
        for s, e, sc in zip(starts.tolist(), ends.tolist(), scores.tolist())
    ]
    return _span_result(answers, null, log_z, options)


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
    null = null_score(start_logits, end_logits, cls_index) if options.allow_no_answer else None
    start_logits, end_logits, offsets = collapse_tokens(
        start_logits, end_logits, offsets, trim_maps(context)[0]
    )
    parts = _explicit_spans(start_logits, end_logits, offsets, context, options, null)
    return _to_result(context, *parts, options)


# ---------------------------------------------------------------------------------------------
# Batched fast path
# ---------------------------------------------------------------------------------------------
def _window_max(x: np.ndarray, width: int) -> np.ndarray:
    """``out[..., i] = max(x[..., i:i + width])`` along the last axis (truncated at the end),
    by doubling: log2(width) in-place maxima."""
    out = x.copy()
    span = 1
    while span < width:
        step = min(span, width - span)
        np.maximum(out[..., :-step], out[..., step:], out=out[..., :-step])
        span += step
    return out


@dataclass
class _Texts:
    """Distinct contexts joined into one string, so trimming is one vectorised pass for all."""

    joined: str
    base: np.ndarray  # (n_examples,) where each example's context starts in ``joined``
    first: np.ndarray
    last_end: np.ndarray

    @classmethod
    def of(cls, contexts: Sequence[str]) -> _Texts:
        where: dict[str, int] = {}
        pieces, base, pos = [], [], 0
        for c in contexts:
            if c not in where:
                where[c] = pos
                pieces.append(c)
                pos += len(c) + 1
            base.append(where[c])
        joined = "\x00".join(pieces)  # a non-space separator: trimming never crosses it
        first, last_end = trim_maps(joined)
        return cls(joined, np.asarray(base, dtype=np.int64), first, last_end)


def _clean_examples(
    offsets: np.ndarray, in_ctx: np.ndarray, feature_example: np.ndarray, n_examples: int,
) -> np.ndarray:
    """Examples whose distinct token spans surely give distinct trimmed character spans:
    context tokens in order and not overlapping (``collapse_tokens`` has already folded away
    empty and whitespace-only tokens)."""
    both = in_ctx[:, 1:] & in_ctx[:, :-1]
    bad_row = (both & (offsets[:, 1:, 0] < offsets[:, :-1, 1])).any(axis=1)
    return np.bincount(feature_example, weights=bad_row, minlength=n_examples) == 0


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

    Collision-free examples (distinct token spans give distinct character spans, true of
    BERT- and most XLM-R-style offsets) take exact fast routes: one window → all such rows at
    once in O(tokens) (softmax denominator by cumulative sums; the top-n among the spans of the
    n starts whose best span is best, since the best span from start ``i`` scores
    ``s_i + max(e[i:i+M])``); several windows → one (tokens × M) band per example, with spans
    seen by overlapping windows merged by their global token position. Others enumerate.
    """
    options = options or SpanOptions()
    contexts = column_values(contexts)
    # float32 logits (what models give) stay float32: half the memory traffic.
    start_logits = np.asarray(start_logits)
    start_logits = start_logits.astype(np.result_type(start_logits, np.float32), copy=False)
    end_logits = np.asarray(end_logits, dtype=start_logits.dtype)
    offsets = np.asarray(offsets, dtype=np.int64)
    feature_example = np.asarray(feature_example, dtype=np.int64)
    n_feat = start_logits.shape[0]
    if not isinstance(cls_index, (int, np.integer, np.ndarray)):
        cls_index = column_values(cls_index)
    cls = np.broadcast_to(np.asarray(cls_index, dtype=np.int64), (n_feat,))
    texts = _Texts.of(contexts)
    row_base = texts.base[feature_example]  # (F,)
    # Only context positions change, so null scores (at CLS) read the same afterwards.
    start_logits, end_logits, offsets = collapse_tokens(
        start_logits, end_logits, offsets, texts.first, row_base
    )
    in_ctx = offsets[..., 0] >= 0  # (F, L)

    counts = np.bincount(feature_example, minlength=len(contexts))
    clean = _clean_examples(offsets, in_ctx, feature_example, len(contexts))
    results: list[SpanResult] = [SpanResult(no_answer=options.allow_no_answer)] * len(contexts)

    fast = (counts[feature_example] == 1) & clean[feature_example]  # (F,)
    if fast.any():
        rows = np.nonzero(fast)[0]
        top = _single_window_top(
            start_logits[rows], end_logits[rows], offsets[rows], in_ctx[rows], cls[rows], options
        )
        for f, res in zip(rows.tolist(), _results_from_top(texts, row_base[rows], top, options)):
            results[feature_example[f]] = res
    rest = np.nonzero(~fast)[0]
    groups = defaultdict(list)
    for f in rest.tolist():
        groups[int(feature_example[f])].append(f)
    for ex, rows in groups.items():
        if clean[ex]:
            top = _multi_window_top(
                start_logits[rows], end_logits[rows], offsets[rows], in_ctx[rows], cls[rows],
                options,
            )
            if top is not None:
                results[ex] = _results_from_top(texts, texts.base[ex : ex + 1], top, options)[0]
                continue
        results[ex] = find_spans(
            start_logits[rows], end_logits[rows], offsets[rows], contexts[ex], options, cls[rows]
        )
    return results


@dataclass
class _Top:
    """Top-n spans of several rows: untrimmed char offsets, scores, log-denominator, null."""

    char_start: np.ndarray  # (R, n)
    char_end: np.ndarray  # (R, n)
    scores: np.ndarray  # (R, n), -inf where fewer than n valid spans
    log_z: np.ndarray  # (R,)
    null: np.ndarray | None  # (R,)


def _results_from_top(texts: _Texts, bases: np.ndarray, top: _Top, options: SpanOptions):
    """One ``SpanResult`` per row of ``top``; row ``r``'s text starts at ``bases[r]`` in
    ``texts.joined``. Trimming and probabilities are computed for all rows at once."""
    bases = np.asarray(bases, dtype=np.int64)[:, None]
    valid = np.isfinite(top.scores)
    starts = texts.first[np.where(valid, top.char_start, 0) + bases]
    ends = texts.last_end[np.where(valid, top.char_end, 0) + bases]
    with np.errstate(invalid="ignore"):
        probs = np.exp(top.scores - top.log_z[:, None])
    joined, results = texts.joined, []
    rows = zip(
        starts.tolist(), ends.tolist(), top.scores.tolist(), probs.tolist(), valid.tolist(),
        bases[:, 0].tolist(),
    )
    for r, (ss, es, scs, ps, oks, b) in enumerate(rows):
        answers = [
            Answer(joined[st:en], st - b, en - b, sc, p)
            for st, en, sc, p, ok in zip(ss, es, scs, ps, oks)
            if ok
        ]
        null = None if top.null is None else float(top.null[r])
        results.append(_span_result(answers, null, float(top.log_z[r]), options))
    return results


def _finish_log_z(log_z: np.ndarray, null: np.ndarray | None) -> np.ndarray:
    if null is not None:
        log_z = np.logaddexp(log_z, null)
    return np.where(np.isfinite(log_z), log_z, 0.0)  # nothing valid: nothing to normalise


def _single_window_top(s, e, offsets, in_ctx, cls, options: SpanOptions) -> _Top:
    """Exact top-n and softmax denominator of single-window, collision-free rows, all at once."""
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
    null = None
    if options.allow_no_answer:
        null = s[np.arange(n_rows), cls] + e[np.arange(n_rows), cls]
    return _Top(
        offsets[rows, start_tok, 0], offsets[rows, end_tok, 1], top_scores,
        _finish_log_z(log_z, null), null,
    )


def _multi_window_top(s, e, offsets, in_ctx, cls, options: SpanOptions) -> _Top | None:
    """Exact top-n of one collision-free example with several windows, or None when its
    windows disagree on token boundaries (then the caller enumerates).

    Each context token gets a global index (its start offset's rank); window bands are merged
    into one ``(tokens, M)`` band by maximum, so a span seen by two windows counts once with
    its best score.
    """
    width = options.max_answer_length
    tok_starts = offsets[..., 0][in_ctx]
    g_starts = np.unique(tok_starts)  # (G,) global tokens by start offset
    n_tok = len(g_starts)
    gid = np.searchsorted(g_starts, np.where(in_ctx, offsets[..., 0], g_starts[0]))  # (W, L)
    g_ends = np.full(n_tok, -1, dtype=np.int64)
    g_ends[gid[in_ctx]] = offsets[..., 1][in_ctx]
    if not (g_ends[gid[in_ctx]] == offsets[..., 1][in_ctx]).all():
        return None
    merged = np.full((n_tok, width), -np.inf)  # merged[g, k] = best score of span (g, g + k)
    for w in range(s.shape[0]):
        pos = np.nonzero(in_ctx[w])[0]
        g = gid[w, pos]
        if len(pos) == 0:
            continue
        if not (np.diff(g) == 1).all():
            return None
        e_pad = np.concatenate([e[w, pos], np.full(width, -np.inf)])
        ends = np.arange(len(pos))[:, None] + np.arange(width)[None, :]  # (n, M)
        band = s[w, pos][:, None] + e_pad[ends]
        merged[g[0] : g[0] + len(pos)] = np.maximum(merged[g[0] : g[0] + len(pos)], band)
    null = None
    if options.allow_no_answer:
        null = np.array([null_score(s, e, cls)])
    m = merged.max()
    log_z = np.array([m + np.log(np.exp(merged - m).sum()) if np.isfinite(m) else -np.inf])
    # Top-n among the spans of the n starts whose best span is best (as in the 1-window route).
    n = min(options.top_n, n_tok)
    cand = np.argpartition(-merged.max(axis=1), n - 1)[:n]  # (n,) global start tokens
    flat = merged[cand].ravel()  # (n * M,)
    k = min(options.top_n, flat.size)
    top = np.argpartition(-flat, k - 1)[:k]
    top = top[np.argsort(-flat[top], kind="stable")]
    g_start = cand[top // width]
    g_end = np.minimum(g_start + top % width, n_tok - 1)
    return _Top(
        g_starts[g_start][None], g_ends[g_end][None], flat[top][None], _finish_log_z(log_z, null),
        null,
    )


# ---------------------------------------------------------------------------------------------
# Evaluation: many examples with the features `prepare_eval_features` made
# ---------------------------------------------------------------------------------------------
def _arrow_of(column):
    """The Arrow array behind a ``datasets`` column (of an unshuffled table), else None:
    reading it whole is ~50× faster than iterating the column row by row."""
    import pyarrow as pa

    source = getattr(column, "source", None)
    if source is not None and getattr(source, "_indices", None) is None and hasattr(source, "data"):
        column = source.data.column(column.column_name)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return column if isinstance(column, pa.Array) else None


def column_values(column) -> list:
    """A ``datasets`` column (or any sequence) as a Python list, read in one pass."""
    array = _arrow_of(column)
    return array.to_pylist() if array is not None else list(column)


def pad_offsets(offset_mapping, seq_len: int) -> np.ndarray:
    """Ragged per-window offsets → ``(n_features, seq_len, 2)`` padded with ``-1``.

    Accepts nested lists or an Arrow list column (a ``datasets`` column is read without
    building Python lists).
    """
    column = _arrow_of(offset_mapping)
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
    """Gold answer texts per example id, the shape ``qa_core.metrics`` expects."""
    answers = column_values(examples["answers"])
    return {ex_id: list(ans["text"]) for ex_id, ans in zip(column_values(examples["id"]), answers)}
