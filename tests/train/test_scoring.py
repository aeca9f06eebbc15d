"""train.scoring on hand-made span results: threshold sweep, both normalisations, files' shapes."""

from __future__ import annotations

import math

import pytest

from qa_core.evaluation.no_answer import best_null_threshold, null_margin, prediction_text
from qa_core.types import Answer, SpanResult
from train.scoring import TUNED_HERE, nbest, score_results


def result(text: str, score: float, null: float | None = None) -> SpanResult:
    answers = [Answer(text, 0, len(text), score, 0.9)] if text else []
    return SpanResult(answers=answers, null_score=null, no_answer=False)


REFS = {"a": ["Hà Nội"], "b": ["năm 1010"], "c": [], "d": []}


def test_null_margin_and_text():
    r = result("Hà Nội", 5.0, null=3.0)
    assert null_margin(r) == -2.0
    assert prediction_text(r, -3.0) == "" and prediction_text(r, -1.0) == "Hà Nội"
    assert null_margin(SpanResult(null_score=1.0)) == math.inf
    assert null_margin(result("x", 1.0)) == -math.inf


def test_threshold_sweep_finds_the_separating_value():
    # Answerable questions have low margins, unanswerable ones high: a threshold between them
    # gets everything right.
    results = {
        "a": result("Hà Nội", 5.0, null=1.0),  # margin -4
        "b": result("năm 1010", 4.0, null=2.0),  # margin -2
        "c": result("sông Hồng", 1.0, null=3.0),  # margin +2
        "d": result("Huế", 0.0, null=4.0),  # margin +4
    }
    threshold, f1 = best_null_threshold(results, REFS)
    assert -2.0 < threshold < 2.0 and f1 == pytest.approx(100.0)
    scores = score_results(results, REFS, allow_no_answer=True)
    assert scores.predictions == {"a": "Hà Nội", "b": "năm 1010", "c": "", "d": ""}
    assert scores.metrics["squad"]["f1"] == 100.0
    assert scores.metrics["mlqa-vi"]["NoAns_f1"] == 100.0
    flat = scores.flat()
    assert flat["squad_f1"] == flat["mlqa_vi_exact_match"] == 100.0
    assert flat["null_threshold"] == scores.null_threshold


def test_all_unanswerable_prefers_no_answer():
    results = {"c": result("x", 1.0, null=0.5), "d": result("y", 1.0, null=0.9)}
    threshold, f1 = best_null_threshold(results, {"c": [], "d": []})
    assert f1 == 100.0
    assert all(prediction_text(r, threshold) == "" for r in results.values())


def test_fixed_threshold_and_no_null():
    results = {"a": result("Hà Nội", 5.0, null=4.8), "b": result("sai", 1.0, null=0.0)}
    refs = {"a": ["Hà Nội"], "b": ["năm 1010"]}
    fixed = score_results(results, refs, allow_no_answer=True, null_threshold=-0.5)
    assert fixed.predictions == {"a": "", "b": "sai"} and fixed.null_threshold == -0.5
    plain = score_results(results, refs)
    assert plain.predictions == {"a": "Hà Nội", "b": "sai"} and plain.null_threshold is None
    assert plain.metrics["squad"]["exact_match"] == 50.0


def test_every_threshold_says_where_it_came_from():
    results = {"a": result("Hà Nội", 5.0, null=1.0), "c": result("sông Hồng", 1.0, null=3.0)}
    refs = {"a": ["Hà Nội"], "c": []}
    tuned = score_results(results, refs, allow_no_answer=True)
    assert tuned.threshold_source == TUNED_HERE and "tuned on this set" in TUNED_HERE
    held = "held-out slice of the training data (7 questions, 1 passages not trained on)"
    fixed = score_results(
        results, refs, allow_no_answer=True, null_threshold=0.0, threshold_source=held
    )
    info = fixed.threshold_info()
    assert info == {
        "null_threshold": 0.0,
        "null_threshold_source": held,
        "no_answer_share_of_answerable": 0.0,
        "degenerate_no_answer": False,
        "no_answer_auc": 1.0,  # the unanswerable "c" has the larger margin
    }
    assert score_results(results, refs).threshold_info()["null_threshold_source"] is None


def test_degenerate_threshold_is_flagged_and_span_quality_kept():
    # A CLS-dominated model: every null score beats every span by 6.
    results = {q: result("Hà Nội", 2.8, null=8.8) for q in ("a", "b")}
    results["c"] = result("sai", 2.8, null=8.8)
    refs = {"a": ["Hà Nội"], "b": ["Huế"], "c": []}
    scores = score_results(results, refs, allow_no_answer=True, null_threshold=0.0)
    assert scores.predictions == {"a": "", "b": "", "c": ""}
    assert scores.no_answer_share == 1.0 and scores.degenerate
    assert "100%" in scores.warning("the evaluation set")
    # Every margin is the same: the no-answer scores carry no signal, and the warning says so.
    assert scores.no_answer_auc == 0.5 and scores.threshold_info()["no_answer_auc"] == 0.5
    assert "no better than chance (AUC 0.50)" in scores.warning("the evaluation set")
    # Span quality: the answerable questions with the best span always given.
    assert scores.span_metrics["mlqa-vi"]["total"] == 2
    assert scores.span_metrics["mlqa-vi"]["exact_match"] == 50.0
    flat = scores.flat()
    assert flat["degenerate_no_answer"] == 1.0 and flat["span_mlqa_vi_exact_match"] == 50.0
    assert flat["no_answer_auc"] == 0.5
    fine = score_results(results, refs, allow_no_answer=True, null_threshold=10.0)
    assert not fine.degenerate and fine.warning() is None


def test_normalisations_differ_on_vietnamese_punctuation():
    scores = score_results({"q": result("“Hà Nội”", 1.0)}, {"q": ["Hà Nội"]})
    assert scores.metrics["squad"]["exact_match"] == 0.0  # curly quotes survive SQuAD's
    assert scores.metrics["mlqa-vi"]["exact_match"] == 100.0


def test_nbest_lists_spans_then_null():
    out = nbest({"a": result("Hà Nội", 5.0, null=1.0)})
    assert [e["text"] for e in out["a"]] == ["Hà Nội", ""]
    assert set(out["a"][0]) == {"text", "start", "end", "score", "probability"}


def test_no_matching_ids_is_an_error():
    with pytest.raises(ValueError, match="nothing to tune"):
        best_null_threshold({"x": result("a", 1.0, 0.0)}, {"y": []})
