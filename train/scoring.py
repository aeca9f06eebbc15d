"""Span results → scores: both normalisations, the no-answer threshold, files and a table.

Scoring itself is ``qa_core.metrics``; this module only decides the text of each prediction
(including "no answer" at a threshold), flattens the metrics for logs and formats them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qa_core.metrics import NORMALIZATIONS, compute_all, compute_metrics
from qa_core.types import SpanResult


def metric_prefix(normalization: str) -> str:
    """``"mlqa-vi"`` → ``"mlqa_vi"``: a name usable in metric keys and CLI flags."""
    return normalization.replace("-", "_")


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


@dataclass
class Scores:
    """Metrics of one evaluation, the threshold behind them and the predicted texts."""

    metrics: dict[str, dict]  # {"squad": {...}, "mlqa-vi": {...}} from qa_core.metrics
    predictions: dict[str, str]
    null_threshold: float | None  # None when no-answer was not allowed

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
        predictions = predictions_at(results, threshold)
    else:  # always the best span
        predictions = {q: (r.answers[0].text if r.answers else "") for q, r in results.items()}
    return Scores(compute_all(references, predictions), predictions, threshold)


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
