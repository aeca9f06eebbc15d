"""ui.summaries: results in words, user text escaped."""

from __future__ import annotations

import pytest

from qa_core.types import Answer, Prediction
from ui import summaries


def prediction(answers, no_answer=False, null_probability=None, n_windows=1) -> Prediction:
    return Prediction(answers=answers, no_answer=no_answer, null_probability=null_probability,
                      null_score=None if null_probability is None else 1.0, n_windows=n_windows)


def test_outcome_markdown_says_no_answer_with_its_probability():
    md = summaries.outcome_markdown(prediction([Answer("x", 0, 1, 0.1, 0.2)], True, 0.734))
    assert "No answer" in md and "73.4%" in md
    md = summaries.outcome_markdown(prediction([Answer("<b>Huế</b>", 0, 10, 2.0, 0.91)]))
    assert "91.0%" in md and "<b>" not in md and "Huế" in md


@pytest.mark.parametrize(
    ("a", "b", "verdict"),
    [
        ([Answer("Huế", 3, 6, 1, 0.9)], [Answer("Huế", 3, 6, 1, 0.5)], "Agree"),
        ([Answer("Huế", 3, 6, 1, 0.9)], [Answer("đô Huế", 0, 6, 1, 0.5)], "Overlap"),
        ([Answer("Huế", 3, 6, 1, 0.9)], [Answer("Hà Nội", 20, 26, 1, 0.5)], "Disagree"),
    ],
)
def test_agreement_between_two_checkpoints(a, b, verdict):
    assert verdict in summaries.agreement_markdown(prediction(a), prediction(b))


def test_agreement_on_no_answer():
    yes, no = prediction([], True, 0.9), prediction([Answer("x", 0, 1, 1, 1)])
    assert "Agree" in summaries.agreement_markdown(yes, yes)
    assert "only B" in summaries.agreement_markdown(no, yes)


def test_example_scores_score_unanswerable_questions_as_the_metrics_do():
    assert summaries.example_scores("", [])["em_squad"] == 100.0
    assert summaries.example_scores("Huế", [])["f1_mlqa_vi"] == 0.0
    quoted = summaries.example_scores("“Hà Nội”", ["Hà Nội"])  # MLQA-vi drops the quotes
    assert (quoted["em_squad"], quoted["em_mlqa_vi"], quoted["f1_mlqa_vi"]) == (0.0, 100.0, 100.0)
