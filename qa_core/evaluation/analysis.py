"""One evaluation's analysis: breakdowns, calibration, the no-answer curve and per-question rows.

The glue over ``qa_core.evaluation.breakdowns``, ``qa_core.evaluation.calibration`` and ``qa_core.evaluation.compare`` that
``train.evaluate`` and the app's Evaluate tab share. Pure: the reader's predictions and the gold
answers in, dictionaries out; no model, no files.

>>> from qa_core.types import Answer, Prediction
>>> results = {"q1": Prediction([Answer("Ngô Quyền", 0, 9, 5.0, 0.9)], question="Ai chỉ huy?",
...                             n_windows=1)}
>>> a = analyse(results, {"q1": ["Ngô Quyền"]}, {"q1": "Ngô Quyền"})
>>> a.metrics()["by_question_type"]
{'who': {'count': 1, 'squad': {'exact': 100.0, 'f1': 100.0}, 'mlqa_vi': {'exact': 100.0, 'f1': 100.0}}}
>>> a.rows[0]["question_type"], round(a.metrics()["calibration"]["ece"], 4)
('who', 0.1)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qa_core.evaluation.breakdowns import (
    SLICE_ORDERS,
    QuestionScores,
    answer_length,
    answerability,
    breakdown,
    context_windows,
    is_answerable,
    metric_key,
    score_questions,
)
from qa_core.evaluation.calibration import calibration, no_answer_curve, top_candidate
from qa_core.evaluation.compare import N_RESAMPLES, SEED, compare
from qa_core.evaluation.metrics import NORMALIZATIONS
from qa_core.evaluation.question_types import question_type
from qa_core.types import Prediction

# The per-question label behind each breakdown (the names of metrics.json's keys).
_SLICE_COLUMNS = {
    "by_question_type": "question_type",
    "by_answer_length": "answer_length",
    "by_context_windows": "context_windows",
    "by_answerable": "answerable",
}


@dataclass(frozen=True)
class Analysis:
    """Everything an evaluation can say beyond its headline EM and F1.

    ``rows``: one per question, in ``scores.ids`` order: ``id``, ``question``, the four slice
    labels, ``answers`` (gold), ``prediction``, ``probability`` (of the top candidate, or
    ``None``) and the question's ``squad_exact``, ``squad_f1``, ``mlqa_vi_exact``,
    ``mlqa_vi_f1`` (each 0-1).
    """

    scores: QuestionScores
    labels: Mapping[str, tuple[str, ...]]  # breakdown name → one label per question
    calibration: dict
    no_answer_curve: dict | None  # None unless the data has unanswerable questions
    rows: list[dict]

    def breakdowns(self) -> dict[str, dict]:
        """``{"by_question_type": {slice: {count, squad: {exact, f1}, mlqa_vi: {...}}}, ...}``."""
        return {
            name: breakdown(self.scores, labels, SLICE_ORDERS[name])
            for name, labels in self.labels.items()
        }

    def metrics(self) -> dict:
        """What ``metrics.json`` gains: the breakdowns, ``calibration`` and, for data with
        unanswerable questions, ``no_answer_curve``."""
        out = {**self.breakdowns(), "calibration": self.calibration}
        if self.no_answer_curve is not None:
            out["no_answer_curve"] = self.no_answer_curve
        return out


def analyse(
    results: Mapping[str, Prediction],
    references: Mapping[str, Sequence[str]],
    predictions: Mapping[str, str],
    *,
    null_threshold: float | None = None,
    normalization: str = "mlqa-vi",
) -> Analysis:
    """Analyse one evaluation.

    Args:
        results: the reader's predictions by question id (their question text and windows
            label the slices, their candidates' probabilities are judged).
        references: gold answers by id, ``[]`` for unanswerable (``qa_core.evaluation.metrics``'s shape).
        predictions: the scored answer texts by id (``""`` for no answer), as in
            ``predictions.json``.
        null_threshold: the no-answer threshold the predictions used; ``None`` when the model
            may not answer "no answer" (then there is no no-answer curve).
        normalization: the one that decides calibration's exact match and the curve's F1.
    """
    missing = [qid for qid in references if qid not in results]
    if missing:
        raise ValueError(
            f"{len(missing)} questions have gold answers but no reader result (e.g. "
            f"{missing[:3]}); analyse the results of the same questions that were scored."
        )
    not_read = [qid for qid in references if not isinstance(results[qid], Prediction)]
    if not_read:
        raise ValueError(
            f"results[{not_read[0]!r}] is a {type(results[not_read[0]]).__name__}; the analysis "
            "needs the reader's Prediction (question text and windows), from Reader.answer_batch."
        )
    scores = score_questions(references, predictions)
    ids = scores.ids
    columns = {
        "question_type": tuple(question_type(results[q].question) for q in ids),
        "answer_length": tuple(answer_length(references[q]) for q in ids),
        "context_windows": tuple(context_windows(results[q].n_windows) for q in ids),
        "answerable": tuple(answerability(references[q]) for q in ids),
    }
    labels = {name: columns[column] for name, column in _SLICE_COLUMNS.items()}
    curve = None
    has_null = any(results[q].null_score is not None for q in ids)
    if (
        null_threshold is not None
        and has_null
        and not all(is_answerable(references[q]) for q in ids)
    ):
        curve = no_answer_curve(results, references, null_threshold, normalization)
    rows = []
    for i, qid in enumerate(ids):
        top = top_candidate(results[qid])
        row = {"id": qid, "question": results[qid].question}
        row.update({column: values[i] for column, values in columns.items()})
        row.update(
            answers=list(references[qid]),
            prediction=predictions.get(qid, ""),
            probability=top[1] if top else None,
        )
        for name in NORMALIZATIONS:
            row[f"{metric_key(name)}_exact"] = float(scores.exact[name][i])
            row[f"{metric_key(name)}_f1"] = float(scores.f1[name][i])
        rows.append(row)
    return Analysis(
        scores=scores,
        labels=labels,
        calibration=calibration(results, references, normalization),
        no_answer_curve=curve,
        rows=rows,
    )


def compare_analyses(
    a: Analysis,
    b: Analysis,
    *,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
    confidence: float = 0.95,
) -> dict:
    """``qa_core.evaluation.compare.compare`` of two analyses of the same questions, sliced as A is.

    Slices come from A: question type, answer length and answerability are the same for both;
    context windows are A's (B's tokenizer may cut the contexts differently).
    """
    return compare(
        a.scores,
        b.scores,
        a.labels,
        n_resamples=n_resamples,
        seed=seed,
        confidence=confidence,
    )
