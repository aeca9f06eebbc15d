"""qa_core.evaluation.compare: the paired bootstrap against a direct computation, win/tie/loss, slices."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from qa_core.evaluation.breakdowns import score_questions
from qa_core.evaluation.compare import bootstrap_indices, compare, paired_bootstrap, win_tie_loss


def percentile_by_hand(sorted_values: list[float], q: float) -> float:
    """numpy's default ("linear") percentile, written out."""
    rank = q / 100 * (len(sorted_values) - 1)
    lo = math.floor(rank)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (rank - lo) * (sorted_values[hi] - sorted_values[lo])


def test_interval_matches_a_direct_computation_with_the_same_draws():
    a = [1.0, 0.0, 1.0, 1.0, 0.0, 0.5]
    b = [0.0, 0.0, 1.0, 0.0, 1.0, 0.25]
    diff = [x - y for x, y in zip(a, b)]
    rng = np.random.default_rng(7)
    means = []
    for _ in range(1000):  # one resample at a time, plain Python sums
        draw = rng.integers(0, len(diff), size=len(diff))
        means.append(sum(diff[i] for i in draw) / len(diff))
    means.sort()
    delta, low, high = paired_bootstrap(a, b, n_resamples=1000, seed=7)
    assert delta == pytest.approx(sum(diff) / len(diff))
    assert low == pytest.approx(percentile_by_hand(means, 2.5), abs=1e-12)
    assert high == pytest.approx(percentile_by_hand(means, 97.5), abs=1e-12)
    assert low < delta < high


def test_interval_approaches_the_exact_bootstrap_distribution():
    # Three questions: all 27 resamples are equally likely; the exact 2.5% and 97.5% points
    # of their means are -1 and +1 (each extreme has probability 1/27 > 2.5%).
    diff = [1.0, 0.0, -1.0]
    exact = sorted(np.mean([diff[i] for i in idx]) for idx in itertools.product(range(3), repeat=3))
    low_exact, high_exact = np.percentile(exact, [2.5, 97.5], method="inverted_cdf")
    _, low, high = paired_bootstrap([1.0, 0.0, 0.0], [0.0, 0.0, 1.0])
    assert (low, high) == (low_exact, high_exact) == (-1.0, 1.0)


def test_seeded_and_resampled_by_question():
    assert np.array_equal(bootstrap_indices(5, 10, seed=3), bootstrap_indices(5, 10, seed=3))
    assert bootstrap_indices(5, 10).shape == (10, 5)
    a, b = np.random.default_rng(0).random((2, 50))  # continuous scores: no ties in the means
    assert paired_bootstrap(a, b, seed=1) == paired_bootstrap(a, b, seed=1)
    assert paired_bootstrap(a, b, seed=1) != paired_bootstrap(a, b, seed=2)
    # Narrower interval at a lower confidence.
    _, low90, high90 = paired_bootstrap(a, b, confidence=0.9)
    _, low95, high95 = paired_bootstrap(a, b)
    assert low95 <= low90 <= high90 <= high95


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "match"),
    [
        ([1.0], [1.0, 0.0], {}, "one score per question"),
        ([], [], {}, "at least one question"),
        ([1.0], [1.0], {"confidence": 1.0}, "between 0 and 1"),
        ([1.0], [1.0], {"n_resamples": 0}, "at least one resample"),
    ],
)
def test_bad_input(a, b, kwargs, match):
    with pytest.raises(ValueError, match=match):
        paired_bootstrap(a, b, **kwargs)


def test_win_tie_loss():
    assert win_tie_loss([1.0, 2 / 3, 0.0, 0.5], [0.0, 2 / 3, 0.0, 1.0]) == {
        "a": 1,
        "b": 1,
        "tie": 2,
    }


REFS = {"q1": ["Hà Nội"], "q2": ["Huế"], "q3": ["năm 1010"], "q4": []}
PRED_A = {"q1": "Hà Nội", "q2": "Huế", "q3": "1010", "q4": ""}
PRED_B = {"q1": "Hà Nội", "q2": "Sài Gòn", "q3": "năm 1010", "q4": "x"}


def test_compare_by_hand():
    a, b = score_questions(REFS, PRED_A), score_questions(REFS, PRED_B)
    out = compare(a, b, {"by_question_type": ["where", "where", "when", "what"]})
    squad = out["squad"]
    # A: EM 1, 1, 0, 1 → 75; B: 1, 0, 1, 0 → 50. F1 A: 1, 1, 2/3, 1; B: 1, 0, 1, 0.
    assert squad["exact"]["a"] == 75.0 and squad["exact"]["b"] == 50.0
    assert squad["exact"]["delta"] == 25.0
    assert squad["exact"]["low"] <= 25.0 <= squad["exact"]["high"]
    assert squad["f1"]["delta"] == pytest.approx(100 * (3 + 2 / 3 - 2) / 4)
    assert squad["wins"] == {"a": 2, "b": 1, "tie": 1}
    assert out["questions"] == 4 and out["n_resamples"] == 1000
    by_type = out["by_question_type"]
    assert list(by_type) == ["when", "where", "what"]  # the question-type order
    assert by_type["where"]["count"] == 2
    assert by_type["where"]["delta"]["squad"] == {"exact": 50.0, "f1": 50.0}
    assert by_type["when"]["a"]["mlqa_vi"]["f1"] == pytest.approx(100 * 2 / 3)
    assert by_type["when"]["delta"]["mlqa_vi"]["exact"] == -100.0


def test_compare_aligns_by_question_id():
    a = score_questions(REFS, PRED_A)
    b = score_questions(dict(reversed(REFS.items())), PRED_B)  # same questions, other order
    assert compare(a, b)["squad"]["exact"]["delta"] == 25.0


def test_compare_refuses_different_questions():
    a = score_questions(REFS, PRED_A)
    b = score_questions({"q1": ["Hà Nội"]}, PRED_B)
    with pytest.raises(ValueError, match="same data"):
        compare(a, b)
