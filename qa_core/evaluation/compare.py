"""Is A better than B on the same questions? Paired bootstrap intervals and win/tie/loss.

A difference in EM or F1 is real when it survives resampling the questions: the paired
bootstrap draws ``n_resamples`` sets of questions with replacement (seeded, so a run can be
repeated), takes the mean per-question difference on each, and reports the central
``confidence`` percentile interval of those means (numpy's linear interpolation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from qa_core.evaluation.breakdowns import SLICE_ORDERS, QuestionScores, breakdown, metric_key
from qa_core.evaluation.metrics import NORMALIZATIONS

N_RESAMPLES = 1000
SEED = 0


def bootstrap_indices(n: int, n_resamples: int = N_RESAMPLES, seed: int = SEED) -> np.ndarray:
    """``(n_resamples, n)`` question indices drawn with replacement by ``default_rng(seed)``."""
    if n < 1:
        raise ValueError("Nothing to resample: compare at least one question.")
    if n_resamples < 1:
        raise ValueError(f"n_resamples={n_resamples}: use at least one resample (1000 is usual).")
    return np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))


def paired_bootstrap(
    a: Sequence[float],
    b: Sequence[float],
    *,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
    confidence: float = 0.95,
) -> tuple[float, float, float]:
    """``(mean(a - b), low, high)``: the mean paired difference and its bootstrap interval.

    >>> paired_bootstrap([1, 1, 1], [0, 0, 0])      # every resample differs by exactly 1
    (1.0, 1.0, 1.0)
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"Got {a.shape} and {b.shape} scores; a paired comparison needs one score per "
            "question from each side, in the same order."
        )
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence={confidence} must lie strictly between 0 and 1 (e.g. 0.95).")
    diff = a - b  # (n,)
    means = diff[bootstrap_indices(len(diff), n_resamples, seed)].mean(axis=1)  # (n_resamples,)
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return float(diff.mean()), float(low), float(high)


def win_tie_loss(a: Sequence[float], b: Sequence[float]) -> dict[str, int]:
    """Questions where A scores higher, where B does, and where both score the same.

    >>> win_tie_loss([1.0, 0.5, 0.0], [0.0, 0.5, 1.0])
    {'a': 1, 'b': 1, 'tie': 1}
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    tie = np.isclose(a, b, rtol=0.0, atol=1e-12)
    return {
        "a": int((~tie & (a > b)).sum()),
        "b": int((~tie & (b > a)).sum()),
        "tie": int(tie.sum()),
    }


def aligned(a: QuestionScores, b: QuestionScores) -> QuestionScores:
    """``b`` reordered to ``a``'s questions; an error unless both scored the same questions."""
    if set(a.ids) != set(b.ids):
        only_a, only_b = sorted(set(a.ids) - set(b.ids)), sorted(set(b.ids) - set(a.ids))
        raise ValueError(
            f"A and B were scored on different questions ({len(only_a)} only in A, e.g. "
            f"{only_a[:3]}; {len(only_b)} only in B, e.g. {only_b[:3]}). Evaluate both on the "
            "same data, split and --max-samples."
        )
    pos = {qid: i for i, qid in enumerate(b.ids)}
    order = np.fromiter((pos[qid] for qid in a.ids), dtype=np.int64, count=len(a.ids))
    return QuestionScores(
        a.ids,
        {name: values[order] for name, values in b.exact.items()},
        {name: values[order] for name, values in b.f1.items()},
    )


def _delta(a: Mapping, b: Mapping) -> dict:
    return {
        metric_key(name): {
            metric: a[metric_key(name)][metric] - b[metric_key(name)][metric]
            for metric in ("exact", "f1")
        }
        for name in NORMALIZATIONS
    }


def compare(
    a: QuestionScores,
    b: QuestionScores,
    slices: Mapping[str, Sequence[str]] | None = None,
    *,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
    confidence: float = 0.95,
) -> dict:
    """A against B on the same questions, under both normalisations.

    ``slices`` maps a breakdown's name (e.g. ``"by_question_type"``, ordered as in
    ``SLICE_ORDERS``) to one label per question of ``a.ids``. Percentages throughout; deltas
    are A − B. Returns::

        {"questions": n, "n_resamples": ..., "seed": ..., "confidence": ...,
         "squad": {"exact": {"a", "b", "delta", "low", "high"}, "f1": {...},
                   "wins": {"a", "b", "tie"}},            # wins by per-question F1
         "mlqa_vi": {...},
         "by_question_type": {label: {"count", "a": {squad, mlqa_vi}, "b": {...},
                                      "delta": {squad: {exact, f1}, mlqa_vi: {...}}}}, ...}
    """
    b = aligned(a, b)
    out: dict = {
        "questions": len(a),
        "n_resamples": n_resamples,
        "seed": seed,
        "confidence": confidence,
    }
    for name in NORMALIZATIONS:
        entry: dict = {}
        for metric, values_a, values_b in (
            ("exact", a.exact[name], b.exact[name]),
            ("f1", a.f1[name], b.f1[name]),
        ):
            delta, low, high = paired_bootstrap(
                100.0 * values_a,
                100.0 * values_b,
                n_resamples=n_resamples,
                seed=seed,
                confidence=confidence,
            )
            entry[metric] = {
                "a": float(100.0 * values_a.mean()),
                "b": float(100.0 * values_b.mean()),
                "delta": delta,
                "low": low,
                "high": high,
            }
        entry["wins"] = win_tie_loss(a.f1[name], b.f1[name])
        out[metric_key(name)] = entry
    for slice_name, labels in (slices or {}).items():
        order = SLICE_ORDERS.get(slice_name)
        by_a, by_b = breakdown(a, labels, order), breakdown(b, labels, order)
        out[slice_name] = {
            label: {
                "count": by_a[label]["count"],
                "a": {k: v for k, v in by_a[label].items() if k != "count"},
                "b": {k: v for k, v in by_b[label].items() if k != "count"},
                "delta": _delta(by_a[label], by_b[label]),
            }
            for label in by_a
        }
    return out
