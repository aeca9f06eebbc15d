"""Span results → scores: both normalisations, the no-answer threshold, files and a table.

Scoring itself is ``qa_core.evaluation.metrics`` and the no-answer threshold ``qa_core.evaluation.no_answer``; this
module applies them to a run's results, flattens the metrics for logs and formats them.

Every score says which threshold produced it and where that threshold was tuned
(``threshold_source``), whether that threshold is degenerate (``"no answer"`` to >= 90% of the
answerable questions), and the *span quality*: EM/F1 of the answerable questions with the
no-answer option off, i.e. how well the model finds answers apart from its no-answer decision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qa_core.evaluation.metrics import NORMALIZATIONS, compute_all
from qa_core.evaluation.no_answer import (
    best_null_threshold,
    degenerate_warning,
    is_degenerate,
    no_answer_auc,
    no_answer_share,
    predictions_at,
)
from qa_core.types import SpanResult


def metric_prefix(normalization: str) -> str:
    """``"mlqa-vi"`` → ``"mlqa_vi"``: a name usable in metric keys and CLI flags."""
    return normalization.replace("-", "_")


TUNED_HERE = "tuned on this set (optimistic: SQuAD v2 'best F1')"


@dataclass
class Scores:
    """Metrics of one evaluation, the threshold behind them and the predicted texts."""

    metrics: dict[str, dict]  # {"squad": {...}, "mlqa-vi": {...}} from qa_core.evaluation.metrics
    predictions: dict[str, str]
    null_threshold: float | None  # None when no-answer was not allowed
    threshold_source: str | None = None  # where null_threshold was tuned or came from
    no_answer_share: float | None = None  # "no answer" share of the answerable questions
    span_metrics: dict[str, dict] | None = None  # answerable questions, no-answer switched off
    references: Mapping[str, Sequence[str]] | None = None  # the gold answers scored against
    no_answer_auc: float | None = None  # how well the null margin ranks unanswerable first

    @property
    def degenerate(self) -> bool:
        """True when the threshold says "no answer" to >= 90% of the answerable questions."""
        return is_degenerate(self.no_answer_share)

    def warning(self, where: str = "this set") -> str | None:
        """The degenerate-threshold warning, or None when the threshold is fine."""
        if not self.degenerate:
            return None
        return degenerate_warning(self.no_answer_share, where, self.no_answer_auc)

    def threshold_info(self) -> dict:
        """What ``metrics.json`` and ``viqa_training.json`` say about the threshold."""
        return {
            "null_threshold": self.null_threshold,
            "null_threshold_source": self.threshold_source,
            "no_answer_share_of_answerable": self.no_answer_share,
            "degenerate_no_answer": self.degenerate,
            "no_answer_auc": self.no_answer_auc,
        }

    def flat(self) -> dict[str, float]:
        """``{"squad_f1": ..., "mlqa_vi_exact_match": ..., "null_threshold": ...,
        "span_squad_f1": ...}`` for logs (numbers only)."""
        out: dict[str, float] = {}
        for prefix, metrics in (("", self.metrics), ("span_", self.span_metrics or {})):
            for normalization, values in metrics.items():
                for key, value in values.items():
                    if key != "missing":
                        out[f"{prefix}{metric_prefix(normalization)}_{key}"] = value
        if self.null_threshold is not None:
            out["null_threshold"] = self.null_threshold
        if self.no_answer_share is not None:
            out["no_answer_share_of_answerable"] = self.no_answer_share
            out["degenerate_no_answer"] = float(self.degenerate)
        if self.no_answer_auc is not None:
            out["no_answer_auc"] = self.no_answer_auc
        return out


def span_quality(
    results: Mapping[str, SpanResult], references: Mapping[str, Sequence[str]]
) -> dict[str, dict] | None:
    """EM/F1 (both normalisations) of the answerable questions with "no answer" switched off:
    the best span is always given. None when no question has an answer."""
    answerable = {q: refs for q, refs in references.items() if any(refs)}
    if not answerable:
        return None
    best = predictions_at({q: r for q, r in results.items() if q in answerable}, math.inf)
    return compute_all(answerable, best)


def score_results(
    results: Mapping[str, SpanResult],
    references: Mapping[str, Sequence[str]],
    *,
    allow_no_answer: bool = False,
    null_threshold: float | None = None,
    tune_for: str = "mlqa-vi",
    threshold_source: str = "given",
) -> Scores:
    """Score span results under both normalisations.

    With ``allow_no_answer`` and no ``null_threshold``, the threshold is tuned on these very
    results for the best ``tune_for`` F1 (as SQuAD v2's "best F1") and labelled
    :data:`TUNED_HERE`; pass a threshold (and where it came from, ``threshold_source``) to
    score a fixed one.
    """
    threshold = source = share = auc = None
    if allow_no_answer:
        auc = no_answer_auc(results, references)
        if null_threshold is None:
            threshold, source = best_null_threshold(results, references, tune_for)[0], TUNED_HERE
        else:
            threshold, source = null_threshold, threshold_source
        share = no_answer_share(results, references, threshold)
    # Without no-answer, an infinite threshold: always the best span.
    predictions = predictions_at(results, math.inf if threshold is None else threshold)
    return Scores(
        compute_all(references, predictions),
        predictions,
        threshold,
        source,
        share,
        span_quality(results, references),
        references=references,
        no_answer_auc=auc,
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
