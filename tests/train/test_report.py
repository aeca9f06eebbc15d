"""train.report: the analysis tables print what the dictionaries hold."""

from __future__ import annotations

from train.report import format_breakdowns, format_comparison


def test_breakdowns_in_their_order_and_missing_ones_skipped():
    one = {"count": 1, "squad": {"exact": 0.0, "f1": 0.0}, "mlqa_vi": {"exact": 0.0, "f1": 0.0}}
    text = format_breakdowns(
        {"by_context_windows": {"3+": one}, "by_question_type": {"who": one}, "squad": {}}
    )
    assert text.index("| question type |") < text.index("| context length (windows) |")
    assert "answer length" not in text


def test_comparison_prints_per_slice_f1_side_by_side():
    m = {"a": 1.0, "b": 2.0, "delta": -1.0, "low": -3.0, "high": 1.0}
    side = {"exact": 0.0, "f1": 80.0}
    comparison = {
        "questions": 1,
        "n_resamples": 10,
        "seed": 3,
        "confidence": 0.9,
        "squad": {"exact": m, "f1": m, "wins": {"a": 0, "b": 1, "tie": 0}},
        "mlqa_vi": {"exact": m, "f1": m, "wins": {"a": 0, "b": 1, "tie": 0}},
        "by_answerable": {
            "answerable": {
                "count": 1,
                "a": {"squad": side, "mlqa_vi": side},
                "b": {"squad": {"exact": 0.0, "f1": 50.0}, "mlqa_vi": side},
                "delta": {
                    "squad": {"exact": 0.0, "f1": 30.0},
                    "mlqa_vi": {"exact": 0.0, "f1": 0.0},
                },
            }
        },
    }
    text = format_comparison(comparison)
    assert "90% paired bootstrap intervals (10 resamples, seed 3)" in text
    assert "| -1.00 | [-3.00, +1.00] | 0 | 1 | 0 |" in text
    assert "| answerable | 1 | 80.00 | 50.00 | +30.00 | 80.00 | 80.00 | +0.00 |" in text
