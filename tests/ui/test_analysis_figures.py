"""ui.analysis_figures: the figures draw exactly the numbers of the analysis dictionaries."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from qa_core.evaluation.analysis import analyse
from qa_core.types import Answer, Prediction
from ui.analysis_figures import (
    breakdown_figure,
    f1_by_question_type_figure,
    no_answer_figure,
    reliability_figure,
)


def pred(question: str, text: str, prob: float, margin: float, null_prob: float) -> Prediction:
    return Prediction(
        answers=[Answer(text, 0, len(text), 5.0, prob)],
        null_score=5.0 + margin,
        null_probability=null_prob,
        question=question,
        n_windows=1,
    )


@pytest.fixture(scope="module")
def analysis():
    refs = {"a": ["Ngô Quyền"], "b": ["Cổ Loa"], "c": []}
    results = {
        "a": pred("Ai chỉ huy?", "Ngô Quyền", 0.92, -3.0, 0.02),
        "b": pred("Đóng đô ở đâu?", "Hoa Lư", 0.55, -1.0, 0.2),
        "c": pred("Có bao nhiêu thuyền?", "trăm", 0.1, 2.0, 0.85),
    }
    predictions = {"a": "Ngô Quyền", "b": "Hoa Lư", "c": ""}
    return analyse(results, refs, predictions, null_threshold=0.0)


def bars(fig: go.Figure) -> list[go.Bar]:
    return [t for t in fig.data if isinstance(t, go.Bar)]


def test_reliability_bars_are_the_non_empty_bins(analysis):
    cal = analysis.calibration
    fig = reliability_figure({"A": cal, "B": cal})
    a, b = bars(fig)
    non_empty = [bin_ for bin_ in cal["bins"] if bin_["count"]]
    assert list(a.y) == [bin_["accuracy"] for bin_ in non_empty]
    assert [c[2] for c in a.customdata] == [bin_["count"] for bin_ in non_empty]
    assert a.name == f"A (ECE {cal['ece']:.3f})" and b.name.startswith("B (ECE")
    # B's bar sits beside A's inside the same bin, not on top of it.
    assert all(a_off < b_off for a_off, b_off in zip(a.offset, b.offset))
    assert fig.data[0].x == (0, 1) and fig.data[0].y == (0, 1)  # the diagonal


def test_no_answer_curve_marks_the_chosen_threshold_and_the_best(analysis):
    curve = analysis.no_answer_curve
    fig = no_answer_figure(curve)
    lines = {t.name: t for t in fig.data}
    assert list(lines['precision of “no answer”'].x) == [p["threshold"] for p in curve["points"]]
    assert list(lines["F1, all questions (mlqa-vi)"].y) == [p["f1"] for p in curve["points"]]
    recall = [100 * p["recall"] for p in curve["points"]]
    assert list(lines['recall of “no answer”'].y) == recall
    assert lines["best F1"].x == (curve["best"]["threshold"],)
    (chosen,) = fig.layout.shapes
    assert chosen.x0 == chosen.x1 == 0.0
    (label,) = fig.layout.annotations
    assert "chosen 0.000" in label.text
    # The label sits at the bottom, on a background: the precision line runs along the top.
    assert label.yanchor == "bottom" and label.y < 0.5 and label.bgcolor


def test_f1_bars_by_question_type_side_by_side(analysis):
    by_type = analysis.metrics()["by_question_type"]
    fig = f1_by_question_type_figure({"A": by_type, "B": {"who": by_type["who"]}},
                                     title="F1 by question type")
    a, b = bars(fig)
    assert list(a.x) == ["who", "where", "how many"] and list(b.x) == ["who"]
    assert list(a.y) == [by_type[k]["mlqa_vi"]["f1"] for k in a.x]
    assert fig.layout.title.text == "F1 by question type" and fig.layout.barmode == "group"
    squad = breakdown_figure({"A": by_type}, normalization="squad", metric="exact")
    assert list(bars(squad)[0].y) == [by_type[k]["squad"]["exact"] for k in a.x]
    assert squad.layout.yaxis.title.text == "EM (SQuAD)"


def test_names_from_users_are_text_not_markup(analysis):
    fig = reliability_figure({"<b>run</b>": analysis.calibration}, title="<i>t</i>")
    assert bars(fig)[0].name.startswith("&lt;b&gt;run&lt;/b&gt;")
    assert fig.layout.title.text == "&lt;i&gt;t&lt;/i&gt;"


@pytest.mark.parametrize(
    "fig",
    [
        lambda: no_answer_figure(None),
        lambda: no_answer_figure({"points": []}),
        lambda: breakdown_figure({"A": {}}),
        lambda: reliability_figure(
            {"A": {"ece": 0.0, "bins": [{"lo": 0.0, "hi": 1.0, "count": 0}]}}
        ),
    ],
)
def test_nothing_to_draw_gives_a_message(fig):
    figure = fig()
    assert not figure.data and figure.layout.annotations[0].text


def test_the_figures_speak_vietnamese(analysis):
    fig = no_answer_figure(analysis.no_answer_curve, lang="vi")
    names = {t.name for t in fig.data}
    assert not names & {"best F1", "precision of “no answer”"}
    assert fig.layout.xaxis.title.text != "no-answer threshold (null score − best span score)"
    by_type = analysis.metrics()["by_question_type"]
    (bars_,) = f1_by_question_type_figure({"A": by_type}, lang="vi").data
    assert "who" not in list(bars_.x)  # question types in Vietnamese
