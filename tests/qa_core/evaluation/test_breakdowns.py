"""qa_core.evaluation.breakdowns: slice labels and per-slice EM/F1, checked by hand."""

from __future__ import annotations

import pytest

from qa_core.evaluation.breakdowns import (
    answer_length,
    answerability,
    breakdown,
    context_windows,
    score_questions,
)
from qa_core.evaluation.metrics import compute_all


@pytest.mark.parametrize(
    ("golds", "expected"),
    [
        (["1945"], "1"),
        (["Hà Nội"], "2-3"),
        (["ngày 19 tháng 4"], "4-7"),  # four words
        (["Đại hội đại biểu toàn quốc lần thứ VI"], "8+"),  # eight words
        (["", "sáu quốc gia"], "2-3"),  # the first non-empty answer decides
        (["cọc gỗ", "hàng nghìn cọc gỗ lớn"], "2-3"),  # the first, not the longest
        ([], "no answer"),
        ([""], "no answer"),
    ],
)
def test_answer_length_buckets(golds, expected):
    assert answer_length(golds) == expected


def test_context_windows_buckets_and_a_missing_count():
    assert [context_windows(n) for n in (1, 2, 3, 4, 40)] == ["1", "2", "3+", "3+", "3+"]
    with pytest.raises(ValueError, match="at least one window"):
        context_windows(0)


def test_answerability_follows_squad_v2():
    assert answerability(["x"]) == "answerable"
    assert answerability([]) == answerability([""]) == "unanswerable"


REFS = {"a": ["Hà Nội"], "b": ["thủ đô Hà Nội"], "c": ["“Huế”"], "d": []}
PREDS = {"a": "Hà Nội", "b": "Hà Nội", "c": "Huế", "d": "Sài Gòn"}


def test_question_scores_by_hand():
    s = score_questions(REFS, PREDS)
    assert s.ids == ("a", "b", "c", "d")
    assert s.exact["squad"].tolist() == [1.0, 0.0, 0.0, 0.0]  # SQuAD keeps the curly quotes
    assert s.exact["mlqa-vi"].tolist() == [1.0, 0.0, 1.0, 0.0]
    # b: 2 of 2 predicted tokens are among 4 gold ones: P = 1, R = 1/2, F1 = 2/3
    assert s.f1["squad"].tolist() == pytest.approx([1.0, 2 / 3, 0.0, 0.0])


def test_a_missing_prediction_scores_as_no_answer():
    s = score_questions({"a": ["x"], "d": []}, {})
    assert s.exact["squad"].tolist() == [0.0, 1.0]


def test_breakdown_by_hand_and_matches_compute_metrics_on_each_slice():
    s = score_questions(REFS, PREDS)
    labels = ["short", "long", "short", "none"]
    out = breakdown(s, labels, order=["none", "short", "long", "never seen"])
    assert list(out) == ["none", "short", "long"]  # empty slices are left out
    assert out["short"] == {
        "count": 2,
        "squad": {"exact": 50.0, "f1": 50.0},
        "mlqa_vi": {"exact": 100.0, "f1": 100.0},
    }
    assert out["long"]["squad"]["f1"] == pytest.approx(100 * 2 / 3)
    for label in out:
        ids = [q for q, lab in zip(REFS, labels) if lab == label]
        official = compute_all({q: REFS[q] for q in ids}, {q: PREDS[q] for q in ids})
        for name, key in (("squad", "squad"), ("mlqa-vi", "mlqa_vi")):
            assert out[label][key]["exact"] == pytest.approx(official[name]["exact_match"])
            assert out[label][key]["f1"] == pytest.approx(official[name]["f1"])


def test_breakdown_keeps_unexpected_labels_and_checks_lengths():
    s = score_questions(REFS, PREDS)
    assert list(breakdown(s, ["x", "y", "x", "z"], order=["y"])) == ["y", "x", "z"]
    with pytest.raises(ValueError, match="one label per"):
        breakdown(s, ["x"])
