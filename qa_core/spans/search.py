"""Start/end logits → ranked answer spans for one example. Pure numpy: logits and offsets
in, spans out.

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

Top-n is exact over all valid spans (not the top-20 starts × top-20 ends shortcut): the band
of valid spans is enumerated and de-duplicated. ``qa_core.spans.batch`` gives the same results
for many examples at once, by faster routes where they are exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa_core.errors import InputError
from qa_core.textnorm import INVISIBLE_SPACES, is_space
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
            raise InputError("top_n={top_n} must be at least 1.", top_n=self.top_n)
        if self.max_answer_length < 1:
            raise InputError(
                "max_answer_length={max_answer_length} must be at least 1.",
                max_answer_length=self.max_answer_length,
            )


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


def span_result(
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
    return span_result(answers, null, log_z, options)


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
