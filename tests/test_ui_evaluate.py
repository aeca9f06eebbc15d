"""ui.evaluate: EM/F1 on the first N examples, checked against the reader and the metrics."""

from __future__ import annotations

import pytest
from ui_helpers import make_state

from qa_core.metrics import compute_all
from ui import display
from ui.evaluate import EvaluateHandlers


@pytest.fixture(scope="module")
def evaluate(models_dir) -> EvaluateHandlers:
    return EvaluateHandlers(make_state(models_dir))

def test_evaluate_scores_n_examples_with_both_normalisations(evaluate, models_dir):
    checkpoint = str(models_dir / "tiny-unigram")
    summary, metrics, misses = evaluate.evaluate(checkpoint, "sample", "validation", None, 12, True)
    rows = evaluate.app.dataset("sample", "validation").rows[:12]
    preds = evaluate.app.readers.get(checkpoint).reader.answer_batch(
        [r["question"] for r in rows], [r["context"] for r in rows], top_n=1,
        allow_no_answer=True)
    expected = compute_all({r["id"]: r["answers"]["text"] for r in rows},
                           {r["id"]: p.best_text for r, p in zip(rows, preds)})
    em = metrics.set_index("metric").loc["EM"]
    assert em["SQuAD"] == round(expected["squad"]["exact_match"], 2)
    assert em["MLQA-vi"] == round(expected["mlqa-vi"]["exact_match"], 2)
    assert "12 questions" in summary
    assert list(misses.columns) == display.MISS_COLUMNS
    assert set(misses["id"]) <= {r["id"] for r in rows}
