"""How honest the model's confidence is: reliability bins, expected calibration error, and the
no-answer trade-off against the threshold.

The confidence judged is the model's own best answer: the most probable of its candidates,
"no answer" included when the model scored it (:func:`top_candidate`). Span probabilities
and the null probability share one softmax, so that is the top-1 confidence of the model's
distribution; it is correct when it matches a gold answer exactly (an unanswerable question's
only gold answer is ``""``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from qa_core.evaluation.breakdowns import is_answerable, score_questions
from qa_core.evaluation.no_answer import null_sweep
from qa_core.types import SpanResult


def top_candidate(result: SpanResult) -> tuple[str, float] | None:
    """The most probable candidate as ``(text, probability)``; ``""`` for "no answer".

    ``None`` when there is nothing to judge: no span and no null score.
    """
    null = result.null_probability
    if result.answers and (null is None or result.answers[0].probability >= null):
        return result.answers[0].text, float(result.answers[0].probability)
    return ("", float(null)) if null is not None else None


def reliability(probabilities: Sequence[float], correct: Sequence[float], n_bins: int = 10) -> dict:
    """Expected calibration error over ``n_bins`` equal-width bins of probability.

    Returns ``{"ece": float, "bins": [{lo, hi, count, mean_probability, accuracy}, ...]}``:
    every bin, empty ones with ``None`` for the mean and accuracy; accuracy and ECE are
    fractions (0-1) like the probabilities. A bin holds ``lo <= p < hi``; the last also
    holds 1.0. ECE is ``sum(count / total * |accuracy - mean_probability|)``.

    >>> r = reliability([0.95, 0.95, 0.15, 0.15], [1, 0, 0, 0], n_bins=10)
    >>> round(r["ece"], 4)        # (2 * |0.5 - 0.95| + 2 * |0 - 0.15|) / 4
    0.3
    >>> r["bins"][9]
    {'lo': 0.9, 'hi': 1.0, 'count': 2, 'mean_probability': 0.95, 'accuracy': 0.5}
    """
    p = np.asarray(probabilities, dtype=np.float64)
    c = np.asarray(correct, dtype=np.float64)
    if p.shape != c.shape or p.ndim != 1:
        raise ValueError(
            f"Got {p.shape} probabilities and {c.shape} correctness values; pass two flat "
            "sequences of the same length."
        )
    if not np.all((p >= 0.0) & (p <= 1.0)):  # NaN fails both
        raise ValueError("Probabilities must lie in [0, 1]; got values outside it (or NaN).")
    if n_bins < 1:
        raise ValueError(f"n_bins={n_bins}: use at least one bin (10 is usual).")
    edges = np.arange(n_bins + 1) / n_bins  # exact k/n, so p = 0.3 falls in [0.3, 0.4)
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, n_bins - 1)  # (n,)
    counts = np.bincount(which, minlength=n_bins)
    sum_p = np.bincount(which, weights=p, minlength=n_bins)
    sum_c = np.bincount(which, weights=c, minlength=n_bins)
    bins, ece = [], 0.0
    for k in range(n_bins):
        n = int(counts[k])
        mean_p = float(sum_p[k] / n) if n else None
        acc = float(sum_c[k] / n) if n else None
        if n:
            ece += n / p.size * abs(acc - mean_p)
        bins.append(
            {
                "lo": float(edges[k]),
                "hi": float(edges[k + 1]),
                "count": n,
                "mean_probability": mean_p,
                "accuracy": acc,
            }
        )
    return {"ece": float(ece), "bins": bins}


def calibration(
    results: Mapping[str, SpanResult],
    references: Mapping[str, Sequence[str]],
    normalization: str = "mlqa-vi",
    n_bins: int = 10,
) -> dict:
    """:func:`reliability` of each question's :func:`top_candidate` against exact match.

    Questions without a candidate are left out. Adds ``"normalization"``: the one that
    decides exact match.
    """
    tops = {qid: top_candidate(results[qid]) for qid in references if qid in results}
    tops = {qid: top for qid, top in tops.items() if top is not None}
    scores = score_questions(
        {qid: references[qid] for qid in tops}, {qid: text for qid, (text, _) in tops.items()}
    )
    probabilities = [prob for _, prob in tops.values()]
    out = reliability(probabilities, scores.exact[normalization], n_bins)
    return {**out, "normalization": normalization}


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def no_answer_curve(
    results: Mapping[str, SpanResult],
    references: Mapping[str, Sequence[str]],
    chosen_threshold: float | None = None,
    normalization: str = "mlqa-vi",
) -> dict:
    """Precision and recall of "no answer", and overall F1, at every distinct threshold.

    The points are ``qa_core.evaluation.no_answer.null_sweep``'s candidates (finite ones), ascending.
    Precision is over the questions predicted "no answer", recall over the unanswerable ones
    (``None`` where that set is empty); F1 is a percentage under ``normalization``. ``best`` is
    the sweep's best point and ``chosen`` the point of ``chosen_threshold`` (when given).

    Returns ``{"normalization", "points": [{threshold, precision, recall, f1}], "best",
    "chosen"}``.
    """
    sweep = null_sweep(results, references, normalization)
    # (n + 1,) unanswerable questions among the first k answered, k = 0..n
    unanswerable = np.array([not is_answerable(references[q]) for q in sweep.ids])
    answered_unanswerable = np.concatenate([[0], np.cumsum(unanswerable)])
    total_unanswerable = int(unanswerable.sum())
    n = len(sweep.ids)

    def point(threshold: float, n_answered: int) -> dict:
        predicted_null = n - n_answered
        true_null = total_unanswerable - int(answered_unanswerable[n_answered])
        return {
            "threshold": float(threshold),
            "precision": _ratio(true_null, predicted_null),
            "recall": _ratio(true_null, total_unanswerable),
            "f1": sweep.f1(n_answered),
        }

    points = [point(t, k) for t, k in sweep.candidates if math.isfinite(t)]
    best_threshold, _ = sweep.best()
    return {
        "normalization": normalization,
        "points": points,
        "best": point(best_threshold, sweep.answered_at(best_threshold)),
        "chosen": (
            point(chosen_threshold, sweep.answered_at(chosen_threshold))
            if chosen_threshold is not None
            else None
        ),
    }
