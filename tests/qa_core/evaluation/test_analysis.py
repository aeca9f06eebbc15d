"""qa_core.evaluation.analysis: one evaluation's breakdowns, calibration, curve and rows from predictions."""

from __future__ import annotations

import pytest

from qa_core.evaluation.analysis import analyse, compare_analyses
from qa_core.types import Answer, Prediction, SpanResult


def pred(question, text, prob, n_windows=1, null_prob=None, margin=-1.0) -> Prediction:
    answers = [Answer(text, 0, len(text), 5.0, prob)] if text else []
    null = None if null_prob is None else 5.0 + margin
    return Prediction(
        answers=answers,
        null_score=null,
        null_probability=null_prob,
        question=question,
        n_windows=n_windows,
    )


REFS = {
    "q1": ["Ngô Quyền"],
    "q2": ["sông Tiền Đường"],
    "q3": ["Đại hội đại biểu toàn quốc lần thứ VI của Đảng"],
    "q4": [],
}
RESULTS = {
    "q1": pred("Ai chỉ huy quân dân Việt?", "Ngô Quyền", 0.9, 1, 0.05, margin=-4.0),
    "q2": pred("Thúy Kiều gieo mình xuống con sông nào?", "Tiền Đường", 0.6, 2, 0.3, -2.0),
    "q3": pred("Đổi mới khởi xướng tại đại hội nào?", "Đại hội VI", 0.5, 5, 0.4, -1.0),
    "q4": pred("Nguyễn Du mất tại đâu?", "Nghi Xuân", 0.3, 1, 0.6, margin=3.0),
}
PREDICTIONS = {"q1": "Ngô Quyền", "q2": "Tiền Đường", "q3": "Đại hội VI", "q4": ""}


def test_metrics_by_hand():
    m = analyse(RESULTS, REFS, PREDICTIONS, null_threshold=0.0).metrics()
    assert list(m["by_question_type"]) == ["who", "where", "which"]
    assert m["by_question_type"]["which"]["count"] == 2
    assert m["by_question_type"]["who"]["squad"] == {"exact": 100.0, "f1": 100.0}
    assert m["by_question_type"]["where"]["mlqa_vi"]["exact"] == 100.0  # no answer, rightly
    assert list(m["by_answer_length"]) == ["2-3", "8+", "no answer"]  # 2, 3, 11, 0 words
    # q2: "tiền đường" against "sông tiền đường": P 1, R 2/3, F1 0.8; q1 is exactly right.
    assert m["by_answer_length"]["2-3"]["squad"]["f1"] == pytest.approx(90.0)
    assert m["by_context_windows"] == {
        "1": {
            "count": 2,
            "squad": {"exact": 100.0, "f1": 100.0},
            "mlqa_vi": {"exact": 100.0, "f1": 100.0},
        },
        "2": {
            "count": 1,
            "squad": {"exact": 0.0, "f1": pytest.approx(80.0)},
            "mlqa_vi": {"exact": 0.0, "f1": pytest.approx(80.0)},
        },
        "3+": m["by_answer_length"]["8+"],
    }
    assert {k: v["count"] for k, v in m["by_answerable"].items()} == {
        "answerable": 3,
        "unanswerable": 1,
    }
    # Top candidates: q1 0.9 right, q2 0.6 wrong, q3 0.5 wrong, q4 "" at 0.6 right.
    cal = m["calibration"]
    # Bins: [0.5, 0.6) holds q3 (acc 0); [0.6, 0.7) q2 and q4 (mean 0.6, acc 0.5); [0.9, 1] q1.
    assert cal["ece"] == pytest.approx((0.5 + 2 * 0.1 + 0.1) / 4)
    assert [b["count"] for b in cal["bins"]] == [0, 0, 0, 0, 0, 1, 2, 0, 0, 1]
    curve = m["no_answer_curve"]
    assert curve["chosen"]["threshold"] == 0.0 and curve["chosen"]["recall"] == 1.0


def test_rows_carry_labels_and_scores():
    rows = analyse(RESULTS, REFS, PREDICTIONS, null_threshold=0.0).rows
    assert [r["id"] for r in rows] == ["q1", "q2", "q3", "q4"]
    assert rows[1] == {
        "id": "q2",
        "question": "Thúy Kiều gieo mình xuống con sông nào?",
        "question_type": "which",
        "answer_length": "2-3",
        "context_windows": "2",
        "answerable": "answerable",
        "answers": ["sông Tiền Đường"],
        "prediction": "Tiền Đường",
        "probability": 0.6,
        "squad_exact": 0.0,
        "squad_f1": pytest.approx(0.8),
        "mlqa_vi_exact": 0.0,
        "mlqa_vi_f1": pytest.approx(0.8),
    }
    assert rows[3]["probability"] == 0.6  # "no answer" was q4's top candidate


def test_no_curve_without_no_answer_or_unanswerable_questions():
    assert analyse(RESULTS, REFS, PREDICTIONS).no_answer_curve is None  # not allowed
    answerable = {q: r for q, r in REFS.items() if r}
    a = analyse(RESULTS, answerable, PREDICTIONS, null_threshold=0.0)
    assert a.no_answer_curve is None and "no_answer_curve" not in a.metrics()


def test_needs_the_readers_predictions_for_every_question():
    with pytest.raises(ValueError, match="no reader result"):
        analyse({"q1": RESULTS["q1"]}, REFS, PREDICTIONS)
    with pytest.raises(ValueError, match="Reader.answer_batch"):
        analyse({**RESULTS, "q1": SpanResult()}, REFS, PREDICTIONS)


def test_compare_analyses_slices_as_a():
    a = analyse(RESULTS, REFS, PREDICTIONS, null_threshold=0.0)
    b = analyse(RESULTS, REFS, {**PREDICTIONS, "q1": "", "q4": "Nghi Xuân"}, null_threshold=0.0)
    out = compare_analyses(a, b)
    assert out["squad"]["exact"]["delta"] == 50.0
    assert out["mlqa_vi"]["wins"] == {"a": 2, "b": 0, "tie": 2}
    assert set(out) >= {"by_question_type", "by_answer_length", "by_context_windows"}
    assert out["by_question_type"]["who"]["delta"]["squad"]["exact"] == 100.0
