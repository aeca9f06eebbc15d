"""Span results → scores: both normalisations, the no-answer threshold, files and a table.

Scoring itself is ``qa_core.metrics`` and the no-answer threshold ``qa_core.no_answer``; this
module applies them to a run's results, flattens the metrics for logs and formats them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qa_core.metrics import NORMALIZATIONS, compute_all
from qa_core.no_answer import best_null_threshold, predictions_at
from qa_core.types import SpanResult


def metric_prefix(normalization: str) -> str:
    """``"mlqa-vi"`` → ``"mlqa_vi"``: a name usable in metric keys and CLI flags."""
    return normalization.replace("-", "_")


@dataclass
class Scores:
    """Metrics of one evaluation, the threshold behind them and the predicted texts."""

    metrics: dict[str, dict]  # {"squad": {...}, "mlqa-vi": {...}} from qa_core.metrics
    predictions: dict[str, str]
    null_threshold: float | None  # None when no-answer was not allowed
    references: Mapping[str, Sequence[str]] | None = None  # the gold answers scored against

    def flat(self) -> dict[str, float]:
        """``{"squad_f1": ..., "mlqa_vi_exact_match": ..., "null_threshold": ...}`` for logs."""
        out: dict[str, float] = {}
        for normalization, values in self.metrics.items():
            for key, value in values.items():
                if key != "missing":
                    out[f"{metric_prefix(normalization)}_{key}"] = value
        if self.null_threshold is not None:
            out["null_threshold"] = self.null_threshold
        return out


def score_results(
    results: Mapping[str, SpanResult],
    references: Mapping[str, Sequence[str]],
    *,
    allow_no_answer: bool = False,
    null_threshold: float | None = None,
    tune_for: str = "mlqa-vi",
) -> Scores:
    """Score span results under both normalisations.

    With ``allow_no_answer`` and no ``null_threshold``, the threshold is tuned on these very
    results for the best ``tune_for`` F1 (as SQuAD v2's "best F1"); pass a threshold to score
    a fixed one.
    """
    threshold = None
    if allow_no_answer:
        threshold = (
            null_threshold
            if null_threshold is not None
            else best_null_threshold(results, references, tune_for)[0]
        )
    # Without no-answer, an infinite threshold: always the best span.
    predictions = predictions_at(results, math.inf if threshold is None else threshold)
    return Scores(
        compute_all(references, predictions), predictions, threshold, references=references
    )


def nbest(results: Mapping[str, SpanResult]) -> dict[str, list[dict]]:
    """``{id: [{text, start, end, score, probability}, ...]}`` plus the null score if any."""
    out = {}
    for qid, res in results.items():
        entries = [a.to_dict() for a in res.answers]
        if res.null_score is not None:
            entries.append(
                {
                    "text": "",
                    "start": -1,
                    "end": -1,
                    "score": res.null_score,
                    "probability": res.null_probability,
                }
            )
        out[qid] = entries
    return out


def format_table(metrics: Mapping[str, Mapping[str, float]]) -> str:
    """A Markdown table of EM and F1 per normalisation (used by logs and model cards).

    >>> print(format_table({"squad": {"exact_match": 50.0, "f1": 61.25, "total": 2},
    ...                     "mlqa-vi": {"exact_match": 50.0, "f1": 70.0, "total": 2}}))
    | normalisation | exact match | F1 | questions |
    |---|---:|---:|---:|
    | SQuAD (official script) | 50.00 | 61.25 | 2 |
    | MLQA-vi (official script, Vietnamese) | 50.00 | 70.00 | 2 |
    """
    labels = {
        "squad": "SQuAD (official script)",
        "mlqa-vi": "MLQA-vi (official script, Vietnamese)",
    }
    lines = ["| normalisation | exact match | F1 | questions |", "|---|---:|---:|---:|"]
    for normalization in NORMALIZATIONS:
        if normalization not in metrics:
            continue
        m = metrics[normalization]
        lines.append(
            f"| {labels[normalization]} | {m['exact_match']:.2f} | {m['f1']:.2f} | {m['total']} |"
        )
    return "\n".join(lines)
