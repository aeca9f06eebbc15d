"""qa_core.evaluation.calibration: reliability bins, ECE and the no-answer curve, computed by hand."""

from __future__ import annotations

import pytest

from qa_core.evaluation.calibration import calibration, no_answer_curve, reliability, top_candidate
from qa_core.types import Answer, SpanResult


def span_result(text: str, score: float, prob: float, null=None, null_prob=None) -> SpanResult:
    answers = [Answer(text, 0, len(text), score, prob)] if text else []
    return SpanResult(answers=answers, null_score=null, null_probability=null_prob)


def test_reliability_by_hand():
    r = reliability([0.9, 0.6, 0.7, 0.45], [1, 0, 1, 0])
    assert r["ece"] == pytest.approx((0.1 + 0.6 + 0.3 + 0.45) / 4)
    assert len(r["bins"]) == 10
    counts = [b["count"] for b in r["bins"]]
    assert counts == [0, 0, 0, 0, 1, 0, 1, 1, 0, 1]
    assert r["bins"][4] == {
        "lo": 0.4,
        "hi": 0.5,
        "count": 1,
        "mean_probability": 0.45,
        "accuracy": 0.0,
    }
    assert r["bins"][0]["mean_probability"] is None and r["bins"][0]["accuracy"] is None


def test_bin_edges_are_exact():
    # 0.3 * 10 is not 3 in floating point; 0.3 still belongs to [0.3, 0.4). 1.0 is in the last.
    r = reliability([0.0, 0.3, 0.7, 1.0], [1, 1, 1, 1])
    assert [b["count"] for b in r["bins"]] == [1, 0, 0, 1, 0, 0, 0, 1, 0, 1]
    assert [b["lo"] for b in r["bins"]][:4] == [0.0, 0.1, 0.2, 0.3]


def test_a_perfectly_calibrated_model_has_zero_ece():
    assert reliability([0.25] * 4, [1, 0, 0, 0])["ece"] == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("probabilities", "correct", "n_bins", "match"),
    [
        ([0.5], [1, 0], 10, "same length"),
        ([1.5], [1], 10, r"\[0, 1\]"),
        ([float("nan")], [1], 10, r"\[0, 1\]"),
        ([0.5], [1], 0, "at least one bin"),
    ],
)
def test_reliability_rejects_bad_input(probabilities, correct, n_bins, match):
    with pytest.raises(ValueError, match=match):
        reliability(probabilities, correct, n_bins)


def test_reliability_of_nothing():
    assert reliability([], [])["ece"] == 0.0


def test_top_candidate_includes_no_answer():
    assert top_candidate(span_result("Huế", 2.0, 0.6, 1.0, 0.3)) == ("Huế", 0.6)
    assert top_candidate(span_result("Huế", 2.0, 0.2, 3.0, 0.7)) == ("", 0.7)
    assert top_candidate(span_result("Huế", 2.0, 0.5, 2.0, 0.5)) == ("Huế", 0.5)  # tie: span
    assert top_candidate(span_result("Huế", 2.0, 0.9)) == ("Huế", 0.9)  # no null scored
    assert top_candidate(SpanResult(null_score=1.0, null_probability=1.0)) == ("", 1.0)
    assert top_candidate(SpanResult()) is None


# Two answerable and two unanswerable questions, margins -4, -2, +2, +4 (null - best span).
REFS = {"a": ["Hà Nội"], "b": ["năm 1010"], "c": [], "d": []}
RESULTS = {
    "a": span_result("Hà Nội", 5.0, 0.9, 1.0, 0.05),  # right span, sure of it
    "b": span_result("sai", 4.0, 0.6, 2.0, 0.3),  # wrong span
    "c": span_result("x", 1.0, 0.2, 3.0, 0.7),  # "no answer" is its top candidate: right
    "d": span_result("y", 0.0, 0.45, 4.0, 0.45),  # tie goes to the (wrong) span
}


def test_calibration_of_results_by_hand():
    cal = calibration(RESULTS, REFS)
    assert cal["ece"] == pytest.approx((0.1 + 0.6 + 0.3 + 0.45) / 4)
    assert cal["normalization"] == "mlqa-vi"
    assert [b["accuracy"] for b in cal["bins"] if b["count"]] == [0.0, 0.0, 1.0, 1.0]


def test_calibration_skips_questions_without_candidates():
    cal = calibration({**RESULTS, "e": SpanResult()}, {**REFS, "e": ["z"]})
    assert sum(b["count"] for b in cal["bins"]) == 4


def test_no_answer_curve_by_hand():
    curve = no_answer_curve(RESULTS, REFS, chosen_threshold=0.0)
    got = [(p["threshold"], p["precision"], p["recall"], p["f1"]) for p in curve["points"]]
    # answered: none; a; a, b; a, b, c; all four
    assert got == [
        (-5.0, 0.5, 1.0, 50.0),
        (-3.0, pytest.approx(2 / 3), 1.0, 75.0),
        (0.0, 1.0, 1.0, 75.0),
        (3.0, 1.0, 0.5, 50.0),
        (5.0, None, 0.0, 25.0),  # nothing predicted "no answer": precision undefined
    ]
    assert curve["best"]["threshold"] == -3.0 and curve["best"]["f1"] == 75.0  # first best
    assert curve["chosen"] == {"threshold": 0.0, "precision": 1.0, "recall": 1.0, "f1": 75.0}
    assert no_answer_curve(RESULTS, REFS)["chosen"] is None
