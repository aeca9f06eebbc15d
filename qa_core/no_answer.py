"""SQuAD v2 "no answer": the margin of the null score over the best span, and the threshold on
it that maximises F1 (the official SQuAD v2 "best F1" sweep). Shared by training, evaluation
and anyone tuning a checkpoint on their own data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from qa_core.metrics import compute_metrics
from qa_core.types import SpanResult


def null_margin(result: SpanResult) -> float:
    """How much more the model believes in "no answer" than in its best span.

    ``+inf`` when there is no candidate span at all; ``-inf`` when no null score was computed.
    """
    if result.null_score is None:
        return -math.inf
    if not result.answers:
        return math.inf
    return result.null_score - result.answers[0].score


def prediction_text(result: SpanResult, null_threshold: float | None) -> str:
    """The SQuAD-style prediction: "" for "no answer" at ``null_threshold`` (None: as decided
    by the span search), else the best span."""
    if null_threshold is None:
        return result.best_text
    if not result.answers or null_margin(result) > null_threshold:
        return ""
    return result.answers[0].text


def predictions_at(results: Mapping[str, SpanResult], null_threshold: float | None) -> dict:
    """``{id: text}`` for every result at one threshold."""
    return {qid: prediction_text(res, null_threshold) for qid, res in results.items()}


def best_null_threshold(
    results: Mapping[str, SpanResult],
    references: Mapping[str, Sequence[str]],
    normalization: str = "mlqa-vi",
) -> tuple[float, float]:
    """The threshold on :func:`null_margin` that maximises F1, and that F1.

    The official SQuAD v2 sweep: each question scores either its best span or "" (both scored
    by ``qa_core.metrics``); sorting by margin, every threshold between two margins is tried.
    """
    ids = [qid for qid in references if qid in results]
    if not ids:
        raise ValueError("No prediction matches a reference id: nothing to tune the threshold on.")
    answered, null = {}, {}
    for qid in ids:
        refs = {qid: list(references[qid])}
        best = results[qid].answers[0].text if results[qid].answers else ""
        answered[qid] = compute_metrics(refs, {qid: best}, normalization)["f1"]
        null[qid] = compute_metrics(refs, {qid: ""}, normalization)["f1"]
    # Threshold below every margin: all "no answer". Raising it past a margin answers that one.
    order = sorted(ids, key=lambda q: null_margin(results[q]))
    margins = [null_margin(results[q]) for q in order]
    score = sum(null.values())
    best_score = score
    best_threshold = margins[0] - 1.0 if math.isfinite(margins[0]) else 0.0
    for i, qid in enumerate(order):
        if not math.isfinite(margins[i]) and margins[i] > 0:
            break  # no span to answer with, whatever the threshold
        score += answered[qid] - null[qid]
        nxt = margins[i + 1] if i + 1 < len(order) else math.inf
        if score > best_score and nxt != margins[i]:
            best_score = score
            # Midway to the next margin: robust to tiny logit differences on new data.
            best_threshold = (margins[i] + nxt) / 2 if math.isfinite(nxt) else margins[i] + 1.0
    if not math.isfinite(best_threshold):
        best_threshold = 0.0
    return float(best_threshold), best_score / len(ids)
