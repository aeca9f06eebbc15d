"""SQuAD v2 "no answer": the margin of the null score over the best span, and the threshold on
it that maximises F1 (the official SQuAD v2 "best F1" sweep), and whether a threshold is
degenerate ("no answer" to almost every answerable question). Shared by training, evaluation,
the app and anyone tuning a checkpoint on their own data.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qa_core.errors import Phrase
from qa_core.evaluation.metrics import compute_metrics
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


@dataclass(frozen=True)
class NullSweep:
    """The official SQuAD v2 sweep over one set of results, every point of it kept.

    Questions sorted by :func:`null_margin`; a threshold answers exactly those whose margin is
    at most it, so every threshold answers some prefix ``ids[:n]``. ``totals[n]`` is the summed
    F1 (0-100 per question) with that prefix answered and the rest saying "no answer";
    ``candidates`` are the thresholds that tell distinct margins apart, each with its ``n``.
    """

    ids: tuple[str, ...]  # by ascending null margin
    margins: tuple[float, ...]  # (len(ids),) ascending
    totals: tuple[float, ...]  # (len(ids) + 1,) summed F1 with ids[:n] answered
    candidates: tuple[tuple[float, int], ...]  # (threshold, n answered), ascending

    def answered_at(self, threshold: float) -> int:
        """How many questions a threshold answers (``prediction_text`` gives their span)."""
        return bisect.bisect_right(self.margins, threshold)

    def f1(self, n_answered: int) -> float:
        """Mean F1 (0-100) with the first ``n_answered`` questions answered."""
        return self.totals[n_answered] / len(self.ids)

    def best(self) -> tuple[float, float]:
        """The first candidate with the highest F1: ``(threshold, F1)``; 0.0 stands in for an
        infinite threshold."""
        best_threshold, best_n = self.candidates[0]
        for threshold, n in self.candidates[1:]:
            if self.totals[n] > self.totals[best_n]:
                best_threshold, best_n = threshold, n
        if not math.isfinite(best_threshold):
            best_threshold = 0.0
        return float(best_threshold), self.f1(best_n)


def null_sweep(
    results: Mapping[str, SpanResult],
    references: Mapping[str, Sequence[str]],
    normalization: str = "mlqa-vi",
) -> NullSweep:
    """Every distinct no-answer threshold on ``results`` and the F1 it gives.

    Each question scores either its best span or "" (both scored by ``qa_core.evaluation.metrics``);
    sorting by margin, every threshold between two margins is tried.
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
    totals = [score]
    candidates = [(margins[0] - 1.0, 0)]  # -inf when some question has no null score
    for i, qid in enumerate(order):
        if not math.isfinite(margins[i]) and margins[i] > 0:
            break  # no span to answer with, whatever the threshold
        score += answered[qid] - null[qid]
        totals.append(score)
        nxt = margins[i + 1] if i + 1 < len(order) else math.inf
        if nxt != margins[i]:
            # Midway to the next margin: robust to tiny logit differences on new data.
            threshold = (margins[i] + nxt) / 2 if math.isfinite(nxt) else margins[i] + 1.0
            candidates.append((threshold, i + 1))
    # Questions without a span say "no answer" at any threshold: the total stays put.
    totals += [score] * (len(order) + 1 - len(totals))
    return NullSweep(tuple(order), tuple(margins), tuple(totals), tuple(candidates))


def best_null_threshold(
    results: Mapping[str, SpanResult],
    references: Mapping[str, Sequence[str]],
    normalization: str = "mlqa-vi",
) -> tuple[float, float]:
    """The threshold on :func:`null_margin` that maximises F1, and that F1.

    The official SQuAD v2 "best F1": the best of :func:`null_sweep`'s candidates.
    """
    return null_sweep(results, references, normalization).best()


def no_answer_auc(
    results: Mapping[str, SpanResult], references: Mapping[str, Sequence[str]]
) -> float | None:
    """How well the null margin tells unanswerable questions from answerable ones: the
    chance that a random unanswerable question has a larger margin than a random answerable
    one (ties count half). 0.5 is no signal at all, 1.0 a perfect ranking; with no signal no
    threshold can help, and the F1-best one says "no answer" to (almost) everything.

    None unless both kinds of question are present.

    >>> from qa_core.types import Answer
    >>> res = {q: SpanResult([Answer("x", 0, 1, 1.0, 0.5)], null_score=n)
    ...        for q, n in (("a", 0.0), ("b", 3.0), ("c", 9.0), ("d", 3.0))}
    >>> no_answer_auc(res, {"a": ["x"], "b": ["x"], "c": [], "d": []})
    0.875
    """
    scored = [(null_margin(results[q]), not any(refs))
              for q, refs in references.items() if q in results]
    return margin_auc([m for m, _ in scored], [u for _, u in scored])


def margin_auc(margins: Sequence[float], unanswerable: Sequence[bool]) -> float | None:
    """:func:`no_answer_auc` over plain margins (null score - best span score) and labels.

    >>> margin_auc([-1.0, 2.0, 8.0, 2.0], [False, False, True, True])
    0.875
    >>> margin_auc([1.0, 2.0], [True, True]) is None
    True
    """
    import numpy as np

    values = np.asarray(margins, dtype=float)
    positive = np.asarray(unanswerable, dtype=bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if not n_pos or not n_neg:
        return None
    # Mann-Whitney U from mid-ranks (ties share their ranks).
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)
    mid_ranks = (upper - (counts - 1) / 2.0)[inverse]
    u = mid_ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


# A threshold that says "no answer" to this share of the answerable questions (or more) makes
# the model useless: it answers almost nothing. Training, evaluation, cards and the app warn.
DEGENERATE_SHARE = 0.9


def no_answer_share(
    results: Mapping[str, SpanResult],
    references: Mapping[str, Sequence[str]],
    null_threshold: float,
) -> float | None:
    """The share of *answerable* questions answered "no answer" at ``null_threshold``.

    None when no reference has an answer (nothing to measure on).

    >>> from qa_core.types import Answer
    >>> res = {q: SpanResult([Answer("x", 0, 1, 1.0, 0.5)], null_score=n)
    ...        for q, n in (("a", 0.0), ("b", 3.0), ("c", 9.0))}
    >>> no_answer_share(res, {"a": ["x"], "b": ["x"], "c": []}, 1.0)
    0.5
    """
    answerable = [q for q, refs in references.items() if q in results and any(refs)]
    if not answerable:
        return None
    silent = sum(prediction_text(results[q], null_threshold) == "" for q in answerable)
    return silent / len(answerable)


def is_degenerate(share: float | None, limit: float = DEGENERATE_SHARE) -> bool:
    """True when a threshold answers "no answer" to at least ``limit`` of the answerable
    questions (``share`` from :func:`no_answer_share`; None, nothing measured, is not).

    >>> is_degenerate(0.97), is_degenerate(0.4), is_degenerate(None)
    (True, False, False)
    """
    return share is not None and share >= limit


_DEGENERATE = (
    'At this no-answer threshold the model says "no answer" to {share:.0%} of the answerable '
    "questions of {where}: its no-answer decision is degenerate (it answers almost nothing). "
    "Its best spans are still ranked"
)


def degenerate_warning(share: float, where: str, auc: float | None = None) -> Phrase:
    """The plain-words warning shown by training logs, ``train.evaluate``, cards and the app;
    with the :func:`no_answer_auc` of the same questions, it says when the model cannot tell
    the two kinds of question apart at all (so no threshold would help).

    >>> print(degenerate_warning(0.97, "the evaluation set"))
    At this no-answer threshold the model says "no answer" to 97% of the answerable questions of the evaluation set: its no-answer decision is degenerate (it answers almost nothing). Its best spans are still ranked; train longer or on more data, or pass a higher --null-threshold.
    >>> print(degenerate_warning(1.0, "the evaluation set", auc=0.49).split(". ", 2)[2])
    Its no-answer scores tell unanswerable questions from answerable ones no better than chance (AUC 0.49): it has not learned when there is no answer, so no threshold can fix that. Train longer or on more data.
    """
    if auc is not None and auc < CHANCE_AUC:
        return Phrase(
            _DEGENERATE + ". Its no-answer scores tell unanswerable questions from answerable ones no "
            "better than chance (AUC {auc:.2f}): it has not learned when there is no answer, so "
            "no threshold can fix that. Train longer or on more data.",
            share=share, where=where, auc=auc,
        )
    return Phrase(
        _DEGENERATE + "; train longer or on more data, or pass a higher --null-threshold.",
        share=share, where=where,
    )


# Below this no_answer_auc, the no-answer scores are as good as a coin.
CHANCE_AUC = 0.6
