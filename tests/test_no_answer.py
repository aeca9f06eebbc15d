"""qa_core.no_answer.null_sweep: every point of the SQuAD v2 threshold sweep is what scoring
the predictions at that threshold gives."""

from __future__ import annotations

import math
import random

import pytest

from qa_core.metrics import compute_metrics
from qa_core.no_answer import best_null_threshold, null_sweep, predictions_at
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
