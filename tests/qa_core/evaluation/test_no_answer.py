"""qa_core.evaluation.no_answer: every point of the SQuAD v2 threshold sweep (null_sweep) is what scoring
the predictions at that threshold gives; degenerate thresholds are flagged."""

from __future__ import annotations

import math
import random

import pytest

from qa_core.evaluation.metrics import compute_metrics
from qa_core.evaluation.no_answer import (
    DEGENERATE_SHARE,
    best_null_threshold,
    degenerate_warning,
    is_degenerate,
    margin_auc,
    no_answer_auc,
    no_answer_share,
    null_sweep,
    predictions_at,
)
from qa_core.types import Answer, SpanResult


def random_case(rng: random.Random):
    words = ["Hà Nội", "Huế", "năm 1010", "sông Hồng"]
    results, refs = {}, {}
    for i in range(rng.randint(1, 8)):
        answers = [Answer(rng.choice(words), 0, 1, rng.choice([1.0, 2.0, 4 * rng.random()]), 0.5)]
        null = rng.choice([None, 1.0, 2.0, 4 * rng.random()])
        results[f"q{i}"] = SpanResult(
            answers=answers if rng.random() < 0.8 else [], null_score=null
        )
        refs[f"q{i}"] = [rng.choice(words)] if rng.random() < 0.6 else []
    return results, refs


@pytest.mark.parametrize("seed", range(40))
def test_every_candidate_scores_as_its_predictions(seed):
    results, refs = random_case(random.Random(seed))
    sweep = null_sweep(results, refs)
    for threshold, n in sweep.candidates:
        if not math.isfinite(threshold):
            continue
        assert sweep.answered_at(threshold) == n
        direct = compute_metrics(refs, predictions_at(results, threshold), "mlqa-vi")["f1"]
        assert sweep.f1(n) == pytest.approx(direct)
    threshold, f1 = best_null_threshold(results, refs)
    assert f1 == max(sweep.f1(n) for _, n in sweep.candidates)
    assert (threshold, f1) == sweep.best()


def span_result(text: str, score: float, null: float) -> SpanResult:
    return SpanResult(answers=[Answer(text, 0, len(text), score, 0.5)], null_score=null)


# Ten answerable questions whose null score always beats the span (a CLS-dominated model), and
# five unanswerable ones: the F1-best threshold says "no answer" to everything.
CLS_DOMINATED = {
    **{f"a{i}": span_result("sai", 2.8, 8.8) for i in range(10)},
    **{f"n{i}": span_result("x", 2.8, 8.8) for i in range(5)},
}
REFS = {**{f"a{i}": ["Hà Nội"] for i in range(10)}, **{f"n{i}": [] for i in range(5)}}


def test_a_cls_dominated_model_is_flagged_degenerate():
    threshold, _ = best_null_threshold(CLS_DOMINATED, REFS)
    share = no_answer_share(CLS_DOMINATED, REFS, threshold)
    assert share == 1.0 and is_degenerate(share)
    warning = degenerate_warning(share, "the evaluation set")
    assert "100%" in warning and "degenerate" in warning and "--null-threshold" in warning


@pytest.mark.parametrize(
    ("threshold", "share", "degenerate"),
    [(-100.0, 1.0, True), (0.0, 0.9, True), (3.0, 0.8, False), (6.1, 0.0, False)],
)
def test_share_counts_only_answerable_questions(threshold, share, degenerate):
    # "No answer" when margin > threshold. a0..a7: margin 6; a8: margin 2; a9: margin -1 (a
    # confident span); the unanswerable ones do not count, whatever their margin.
    results = {f"a{i}": span_result("Hà Nội", 0.0, 6.0) for i in range(8)}
    results["a8"] = span_result("Hà Nội", 0.0, 2.0)
    results["a9"] = span_result("Hà Nội", 1.0, 0.0)
    results.update({f"n{i}": span_result("x", 0.0, 9.0) for i in range(5)})
    refs = {**{f"a{i}": ["Hà Nội"] for i in range(10)}, **{f"n{i}": [] for i in range(5)}}
    assert no_answer_share(results, refs, threshold) == pytest.approx(share)
    assert is_degenerate(no_answer_share(results, refs, threshold)) is degenerate


def test_no_answer_auc_ranks_unanswerable_questions_by_their_margin():
    # Margins: a0..a2 -1, 0, 1 (answerable); n0, n1 2, 0 (unanswerable).
    results = {f"a{i}": span_result("Hà Nội", 0.0, float(i - 1)) for i in range(3)}
    results.update(n0=span_result("x", 0.0, 2.0), n1=span_result("x", 0.0, 0.0))
    refs = {**{f"a{i}": ["Hà Nội"] for i in range(3)}, "n0": [], "n1": []}
    # n0 beats all three; n1 beats a0, ties a1 (half), loses to a2: (3 + 1.5) / 6.
    assert no_answer_auc(results, refs) == pytest.approx(0.75)
    assert no_answer_auc(CLS_DOMINATED, REFS) == 0.5  # one margin for all: no signal
    assert no_answer_auc(results, {"a0": ["Hà Nội"]}) is None  # one kind only
    assert margin_auc([1.0, 2.0], [False, True]) == 1.0
    assert margin_auc([2.0, 1.0], [False, True]) == 0.0


def test_nothing_answerable_is_not_degenerate():
    refs = {"n0": [], "n1": []}
    assert no_answer_share(CLS_DOMINATED, refs, 0.0) is None
    assert not is_degenerate(None)
    assert DEGENERATE_SHARE == 0.9
