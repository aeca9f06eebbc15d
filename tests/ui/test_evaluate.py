"""ui.evaluate: scores, the analysis of the same run, the misses filter and A against B, checked
against the reader, ``qa_core.evaluation.metrics`` and ``qa_core.evaluation.analysis`` run directly."""

from __future__ import annotations

import json

import gradio as gr
import pandas as pd
import pytest
from ui_helpers import make_state

from qa_core.evaluation.metrics import compute_all, exact_match_score, f1_score
from qa_core.evaluation.question_types import question_type
from ui import tables
from ui.evaluate import N_OUTPUTS, EvaluateHandlers, cleared_outputs
from ui.feedback import errors_shown_in
from ui.i18n import Labels

N = 24  # the first 24 questions of the sample hold answerable and unanswerable ones


@pytest.fixture(scope="module")
def evaluate(models_dir) -> EvaluateHandlers:
    return EvaluateHandlers(make_state(models_dir))


@pytest.fixture(scope="module")
def run(evaluate, models_dir):
    """One evaluation of the unigram checkpoint, and the same questions answered directly."""
    checkpoint = str(models_dir / "tiny-unigram")
    out = evaluate.evaluate(checkpoint, "sample", "validation", None, N, True, 0.0)
    rows = evaluate.app.dataset("sample", "validation").rows[:N]
    preds = evaluate.app.readers.get(evaluate.app.resolve(checkpoint)).answer_batch(
        [r["question"] for r in rows], [r["context"] for r in rows], top_n=1,
        allow_no_answer=True, null_threshold=0.0)
    refs = {r["id"]: r["answers"]["text"] for r in rows}
    results = {r["id"]: p for r, p in zip(rows, preds)}
    texts = {q: p.best_text for q, p in results.items()}
    return out, refs, results, texts


def frame(value) -> pd.DataFrame:
    """A Dataframe output as pandas (handlers return frames or ``gr.Dataframe`` updates)."""
    if isinstance(value, gr.Dataframe):
        value = value.value
        return pd.DataFrame(value["data"], columns=value["headers"])
    return value


def test_scores_follow_the_reader_and_the_metrics(run):
    (summary, metrics, *_), refs, _, texts = run
    expected = compute_all(refs, texts)
    em = metrics.set_index("metric").loc["EM"]
    assert em["SQuAD"] == round(expected["squad"]["exact_match"], 2)
    assert em["MLQA-vi"] == round(expected["mlqa-vi"]["exact_match"], 2)
    assert f"{N} questions" in summary and "ECE" in summary


def mean(values) -> float:
    values = list(values)
    return 100.0 * sum(values) / len(values)


def test_breakdowns_figures_and_no_answer_curve_are_the_analysis(run):
    # Expectations computed here from the official per-question scores and the question-type
    # rules, not through the analysis code the tab calls.
    out, refs, _, texts = run
    _, _, comparison, breakdowns, by_type, reliability, no_answer, *_ = out
    breakdowns = frame(breakdowns).set_index(["breakdown", "slice"])
    answerable = [q for q, golds in refs.items() if golds]
    shown = breakdowns.loc[("answerable", "answerable")]
    assert shown["count"] == len(answerable)
    expected_em = mean(max(exact_match_score(texts[q], g) for g in refs[q]) for q in answerable)
    assert shown["SQuAD EM"] == pytest.approx(round(expected_em, 2))
    unanswerable = [q for q, golds in refs.items() if not golds]
    shown = breakdowns.loc[("answerable", "unanswerable")]
    assert shown["count"] == len(unanswerable)
    assert shown["SQuAD EM"] == pytest.approx(round(mean(texts[q] == "" for q in unanswerable), 2))
    by_kind: dict[str, list[str]] = {}
    for r in evaluate_rows(run):
        by_kind.setdefault(question_type(r["question"]), []).append(r["id"])
    for kind, ids in by_kind.items():
        shown = breakdowns.loc[("question type", kind)]
        assert shown["count"] == len(ids)
        f1 = mean(max((f1_score(texts[q], g, "mlqa-vi") for g in refs[q]), default=float(
            texts[q] == "")) for q in ids)
        assert shown["MLQA-vi F1"] == pytest.approx(round(f1, 2))
    assert not comparison.visible  # no second checkpoint picked
    (bars,) = by_type.data
    assert sorted(bars.x) == sorted(by_kind)
    assert "ECE" in reliability.data[1].name
    # The sample has unanswerable questions and no answer is allowed: the curve is shown, with
    # the threshold in force marked.
    assert no_answer.visible and no_answer.value is not None


def evaluate_rows(run) -> list[dict]:
    """The questions the evaluation scored, as the dataset holds them."""
    refs = run[1]
    return [{"id": q, "question": run[2][q].question} for q in refs]


def test_no_curve_without_no_answer(evaluate, models_dir):
    out = evaluate.evaluate(str(models_dir / "tiny-unigram"), "sample", "validation", None, N,
                            False)
    assert not out[6].visible and "no-answer off" in out[0]


def test_misses_are_filtered_by_question_type_without_the_model(run, evaluate):
    out, refs, results, texts = run
    kind, kept, table = out[7], out[8], out[9]
    # A miss is a question whose answer is not an exact match (SQuAD), by the official score.
    wrong = {q for q in refs if not (max((exact_match_score(texts[q], g) for g in refs[q]),
                                         default=float(texts[q] == "")))}
    assert set(table["id"]) == wrong and [m[0] for m in kept] == list(table["id"])
    assert [m[1] for m in kept] == [question_type(results[m[0]].question) for m in kept]
    types = [value for _, value in kind.choices]
    assert types[0] == tables.ALL_TYPES and set(types[1:]) == {m[1] for m in kept}
    for qtype in types[1:]:
        shown = evaluate.filter_misses(kept, qtype)
        assert set(shown["type"]) == {tables.slice_name(qtype)}
        assert len(shown) == sum(1 for m in kept if m[1] == qtype)
    assert len(evaluate.filter_misses(kept, tables.ALL_TYPES)) == len(kept)
    assert evaluate.filter_misses(None, "who").empty  # before any evaluation


def test_a_second_checkpoint_is_compared_on_the_same_questions(evaluate, models_dir):
    a, b = str(models_dir / "tiny-unigram"), str(models_dir / "tiny-wordpiece")
    out = evaluate.evaluate(a, "sample", "validation", None, N, True, 0.0, b)
    summary, metrics, comparison, breakdowns = out[:4]
    assert comparison.visible
    # Expectations from the two runs' own scores, not from the comparison code the tab calls.
    single = [evaluate.evaluate(c, "sample", "validation", None, N, True, 0.0) for c in (a, b)]
    f1 = [run[1].set_index("metric").loc["F1", "SQuAD"] for run in single]
    row = frame(comparison).set_index("metric").loc["SQuAD F1"]
    assert (row["A"], row["B"]) == (f1[0], f1[1])
    assert float(row["Δ (A − B)"]) == pytest.approx(f1[0] - f1[1], abs=0.011)
    low, high = (float(x) for x in row["95% interval"].strip("[]").split(","))
    assert low <= float(row["Δ (A − B)"]) <= high
    assert row["A wins"] + row["B wins"] + row["ties"] == N
    assert len(breakdowns.column_widths) == len(tables.BREAKDOWN_COMPARED_COLUMNS)
    assert "A = **" in summary and "paired bootstrap" in summary
    assert list(metrics.columns)[1:] == ["SQuAD A", "MLQA-vi A", "SQuAD B", "MLQA-vi B"]
    assert len(out[4].data) == 2 and len(bars(out[5])) == 2  # A and B in both figures


def bars(fig):
    return [t for t in fig.data if t.type == "bar"]


def test_a_checkpoint_compared_with_itself_ties_everywhere(evaluate, models_dir):
    a = str(models_dir / "tiny-unigram")
    comparison = frame(evaluate.evaluate(a, "sample", "validation", None, 8, True, 0.0, a)[2])
    f1 = comparison.set_index("metric").loc["SQuAD F1"]
    assert f1["Δ (A − B)"] == "+0.00" and f1["95% interval"] == "[+0.00, +0.00]"
    assert (f1["A wins"], f1["B wins"], f1["ties"]) == (0, 0, 8)


def squad_file(path, answered: int, unlabelled: int):
    """A SQuAD v2 file: ``answered`` questions with answers, then ``unlabelled`` published
    without them (``answers: []`` and ``is_impossible: false``, as public test sets are)."""
    context = "Năm 939, Ngô Quyền xưng vương, đóng đô ở Cổ Loa."
    qas = [{"id": f"a{i}", "question": "Ngô Quyền đóng đô ở đâu?", "is_impossible": False,
            "answers": [{"text": "Cổ Loa", "answer_start": context.index("Cổ Loa")}]}
           for i in range(answered)]
    qas += [{"id": f"u{i}", "question": "Ngô Quyền xưng vương năm nào?", "answers": [],
             "is_impossible": False} for i in range(unlabelled)]
    data = {"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"context": context,
                                                                     "qas": qas}]}]}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_a_split_without_gold_answers_is_refused(evaluate, models_dir, tmp_path):
    path = squad_file(tmp_path / "test.json", answered=0, unlabelled=3)
    with pytest.raises(gr.Error, match="no gold answers"):
        evaluate.evaluate(str(models_dir / "tiny-unigram"), "upload", "train", path, 10, True)


def test_a_mixed_split_scores_only_the_labelled_questions(evaluate, models_dir, tmp_path):
    path = squad_file(tmp_path / "mixed.json", answered=2, unlabelled=1)
    out = evaluate.evaluate(str(models_dir / "tiny-unigram"), "upload", "train", path, 10, True)
    assert "2 questions" in out[0] and "Not scored: 1 question without gold answers" in out[0]
    assert out[1].set_index("metric").loc["questions", "SQuAD"] == 2


def test_an_error_stays_in_the_summary_and_clears_the_old_results(evaluate):
    handler = errors_shown_in(evaluate.evaluate, 0, N_OUTPUTS, cleared_outputs)
    out = handler("", "sample", "validation", None, 5, True)
    assert len(out) == N_OUTPUTS
    assert out[0].startswith("**⚠") and "No checkpoint chosen" in out[0]
    assert out[1] is None and out[8] == [] and not out[2].visible


def test_the_tab_lays_out_only_its_own_components(models_dir):
    """Values made for outputs (cleared tables, figures) must not land on the page."""
    from ui import evaluate as tab

    app = make_state(models_dir)
    with gr.Blocks() as demo, gr.Tabs():
        tab.build(app, Labels(), str(models_dir / "tiny-unigram"))
    kinds = [type(b).__name__ for b in demo.blocks.values()]
    assert kinds.count("Plot") == 3 and kinds.count("Dataframe") == 4
    assert kinds.count("Dropdown") == 5  # A, B, source, split and the misses filter
