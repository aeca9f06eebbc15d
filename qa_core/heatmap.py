"""Per-token evidence for the app's heatmaps: how likely an answer starts or ends at each token.

Rule for tokens seen in several overlapping windows: the value comes from the window where the
token has the most context on both sides, i.e. the window maximising
``min(tokens before it, tokens after it)`` among that window's context tokens (ties: the
earlier window). A token near a window's edge is read with half its surroundings cut off, so
its logits are the least trustworthy there; this is the "max context" rule of the original
BERT SQuAD code.

Probabilities are a softmax over the context tokens of the chosen window.
"""

from __future__ import annotations

import numpy as np

from qa_core.types import TokenScore


def _softmax_rows(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Softmax of each row of ``x`` over the positions where ``mask`` is true (0 elsewhere)."""
    x = np.where(mask, x, -np.inf)
    m = x.max(axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    ex = np.exp(x - m)
    total = ex.sum(axis=1, keepdims=True)
    return ex / np.where(total > 0, total, 1.0)


def token_scores(
    start_logits: np.ndarray, end_logits: np.ndarray, offsets: np.ndarray, context: str
) -> list[TokenScore]:
    """One ``TokenScore`` per distinct context token, in text order.

    Args: logits ``(n_windows, seq_len)``, offsets ``(n_windows, seq_len, 2)`` with ``-1``
    outside the context; ``context`` is the text the offsets index.
    """
    start_logits = np.atleast_2d(np.asarray(start_logits, dtype=np.float64))
    end_logits = np.atleast_2d(np.asarray(end_logits, dtype=np.float64))
    offsets = np.asarray(offsets, dtype=np.int64).reshape((*start_logits.shape, 2))
    in_ctx = offsets[..., 0] >= 0  # (W, L)
    if not in_ctx.any():
        return []
    start_p = _softmax_rows(start_logits, in_ctx)
    end_p = _softmax_rows(end_logits, in_ctx)
    rank = np.cumsum(in_ctx, axis=1) - 1  # position among the window's context tokens
    n_ctx = in_ctx.sum(axis=1, keepdims=True)
    room = np.minimum(rank, n_ctx - 1 - rank)  # (W, L) context on the shorter side
    w_idx, i_idx = np.nonzero(in_ctx)
    starts, ends = offsets[w_idx, i_idx, 0], offsets[w_idx, i_idx, 1]
    # Best window per token: sort by (start, end, -room, window) and keep the first of each.
    order = np.lexsort((w_idx, -room[w_idx, i_idx], ends, starts))
    s_o, e_o = starts[order], ends[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (s_o[1:] != s_o[:-1]) | (e_o[1:] != e_o[:-1])
    pick = order[first]
    w, i = w_idx[pick], i_idx[pick]
    return [
        TokenScore(context[s:e], s, e, sp, ep, sl, el)
        for s, e, sp, ep, sl, el in zip(
            starts[pick].tolist(),
            ends[pick].tolist(),
            start_p[w, i].tolist(),
            end_p[w, i].tolist(),
            start_logits[w, i].tolist(),
            end_logits[w, i].tolist(),
        )
    ]
