"""EM and F1 per slice of the questions: by question type, answer length, context length...

Every question is scored once per normalisation (:func:`score_questions`, through
``qa_core.evaluation.metrics`` so the numbers are the official scripts'); a breakdown then averages those
scores over the questions that share a label. Labels come from small pure functions:

- :func:`answer_length`: words (white-space separated syllables) of the first gold answer:
  ``1``, ``2-3``, ``4-7``, ``8+``, or ``no answer`` for an unanswerable question;
- :func:`context_windows`: windows the reader cut the context into: ``1``, ``2``, ``3+``;
- :func:`answerability`: ``answerable`` or ``unanswerable``;
- ``qa_core.evaluation.question_types.question_type``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from qa_core.evaluation.metrics import NORMALIZATIONS, compute_metrics
from qa_core.evaluation.question_types import QUESTION_TYPES

ANSWER_LENGTHS = ("1", "2-3", "4-7", "8+", "no answer")
CONTEXT_WINDOWS = ("1", "2", "3+")
ANSWERABILITY = ("answerable", "unanswerable")
# Each breakdown's name (its key in metrics.json) and the order of its slices.
SLICE_ORDERS: dict[str, tuple[str, ...]] = {
    "by_question_type": QUESTION_TYPES,
    "by_answer_length": ANSWER_LENGTHS,
    "by_context_windows": CONTEXT_WINDOWS,
    "by_answerable": ANSWERABILITY,
}


def metric_key(normalization: str) -> str:
    """``"mlqa-vi"`` → ``"mlqa_vi"``: the key a normalisation has in breakdowns and files."""
    return normalization.replace("-", "_")


def is_answerable(golds: Sequence[str]) -> bool:
    """SQuAD v2.0's rule, as ``qa_core.evaluation.metrics`` applies it: some gold answer is not ``""``."""
    return any(gold != "" for gold in golds)


def answerability(golds: Sequence[str]) -> str:
    """``"answerable"`` or ``"unanswerable"``.

    >>> answerability(["Hà Nội"]), answerability([])
    ('answerable', 'unanswerable')
    """
    return ANSWERABILITY[0] if is_answerable(golds) else ANSWERABILITY[1]


def answer_length(golds: Sequence[str]) -> str:
    """Bucket of the first non-empty gold answer's length in words (white-space separated).

    The first answer is the one the annotator of the question gave (SQuAD dev sets list the
    others' after it). Unanswerable questions have their own bucket.

    >>> [answer_length(g) for g in (["1945"], ["Hà Nội", "thủ đô Hà Nội"], ["x y z w"], [])]
    ['1', '2-3', '4-7', 'no answer']
    """
    words = next((len(g.split()) for g in golds if g.strip()), 0)
    if words == 0:
        return "no answer"
    if words == 1:
        return "1"
    if words <= 3:
        return "2-3"
    return "4-7" if words <= 7 else "8+"


def context_windows(n_windows: int) -> str:
    """Bucket of the number of windows (``Prediction.n_windows``) a context took.

    >>> [context_windows(n) for n in (1, 2, 3, 9)]
    ['1', '2', '3+', '3+']
    """
    if n_windows < 1:
        raise ValueError(
            f"n_windows={n_windows}: a read context has at least one window. Pass the "
            "Prediction.n_windows the reader returned."
        )
    return CONTEXT_WINDOWS[min(n_windows, 3) - 1]


@dataclass(frozen=True)
class QuestionScores:
    """Per-question exact match and F1 (each 0-1), aligned with ``ids``, per normalisation."""

    ids: tuple[str, ...]
    exact: Mapping[str, np.ndarray]  # normalization → (n,)
    f1: Mapping[str, np.ndarray]  # normalization → (n,)

    def __len__(self) -> int:
        return len(self.ids)


def score_questions(
    references: Mapping[str, Sequence[str]], predictions: Mapping[str, str]
) -> QuestionScores:
    """Score every referenced question under both normalisations (a missing prediction is
    ``""``), exactly as ``qa_core.evaluation.metrics.compute_metrics`` scores it.

    >>> s = score_questions({"a": ["Hà Nội"], "b": []}, {"a": "“Hà Nội”", "b": ""})
    >>> s.exact["squad"].tolist(), s.exact["mlqa-vi"].tolist()
    ([0.0, 1.0], [1.0, 1.0])
    """
    ids = tuple(references)
    exact = {name: np.empty(len(ids)) for name in NORMALIZATIONS}
    f1 = {name: np.empty(len(ids)) for name in NORMALIZATIONS}
    for i, qid in enumerate(ids):
        one_ref, one_pred = {qid: references[qid]}, {qid: predictions.get(qid, "")}
        for name in NORMALIZATIONS:
            m = compute_metrics(one_ref, one_pred, name)
            exact[name][i] = m["exact_match"] / 100.0
            f1[name][i] = m["f1"] / 100.0
    return QuestionScores(ids, exact, f1)


def breakdown(
    scores: QuestionScores, labels: Sequence[str], order: Sequence[str] | None = None
) -> dict[str, dict]:
    """``{label: {count, squad: {exact, f1}, mlqa_vi: {exact, f1}}}`` over the questions with
    each label (percentages, as ``qa_core.evaluation.metrics``). Labels without questions are left out;
    the rest come in ``order`` (default: first seen).

    >>> s = score_questions({"a": ["Hà Nội"], "b": ["Huế"], "c": []},
    ...                     {"a": "Hà Nội", "b": "Sài Gòn", "c": ""})
    >>> breakdown(s, ["who", "who", "what"], ["who", "what"])["who"]
    {'count': 2, 'squad': {'exact': 50.0, 'f1': 50.0}, 'mlqa_vi': {'exact': 50.0, 'f1': 50.0}}
    """
    if len(labels) != len(scores):
        raise ValueError(
            f"Got {len(labels)} labels for {len(scores)} scored questions; pass one label per "
            "question, in the order of scores.ids."
        )
    labels = np.asarray(labels, dtype=object)
    seen = list(dict.fromkeys(labels.tolist()))
    keys = [k for k in order if k in seen] if order is not None else seen
    keys += [k for k in seen if k not in keys]  # a label ``order`` did not expect
    out: dict[str, dict] = {}
    for key in keys:
        mask = labels == key
        out[key] = {"count": int(mask.sum())}
        for name in NORMALIZATIONS:
            out[key][metric_key(name)] = {
                "exact": float(100.0 * scores.exact[name][mask].mean()),
                "f1": float(100.0 * scores.f1[name][mask].mean()),
            }
    return out
