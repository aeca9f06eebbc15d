"""ui.tables: results as tables, with the numbers qa_core computes."""

from __future__ import annotations

from qa_core.evaluation.metrics import compute_all
from qa_core.types import Answer, Prediction
from ui import summaries, tables


def prediction(answers, no_answer=False, null_probability=None, n_windows=1) -> Prediction:
    return Prediction(answers=answers, no_answer=no_answer, null_probability=null_probability,
                      null_score=None if null_probability is None else 1.0, n_windows=n_windows)


SLICE = {"count": 4, "squad": {"exact": 25.0, "f1": 50.123}, "mlqa_vi": {"exact": 50.0, "f1": 60.0}}


def test_candidate_table_has_one_row_per_answer():
    answers = [Answer("Huế", 3, 6, 2.5, 0.8), Answer("Cố đô Huế", 0, 9, 1.5, 0.2)]
    table = tables.frame(tables.candidate_rows(answers), tables.CANDIDATE_COLUMNS)
    assert list(table.columns) == ["rank", "answer", "probability", "score", "start", "end"]
    assert table["rank"].tolist() == [1, 2]
    assert table["start"].tolist() == [3, 0] and table["end"].tolist() == [6, 9]


def test_misses_and_metrics_rows_follow_qa_core_metrics():
    from qa_core.evaluation.analysis import analyse

    ids = ["q1", "q2", "q3"]
    golds = [["Hà Nội"], ["1945", "năm 1945"], []]
    preds = [prediction([Answer("Hà Nội", 0, 6, 1, 0.9)]),
             prediction([Answer("năm 1954", 0, 8, 1, 0.6)]),
             prediction([Answer("x", 0, 1, 1, 0.3)])]
    for question, p in zip(["Ai?", "Năm nào?", "Ở đâu?"], preds):
        p.question, p.n_windows = question, 1
    texts = {i: p.best_text for i, p in zip(ids, preds)}
    analysis = analyse(dict(zip(ids, preds)), dict(zip(ids, golds)), texts)
    misses = tables.miss_rows(analysis.rows)
    assert [row[0] for row in misses] == ["q3", "q2"]  # worst F1 first
    assert misses[0][1:6] == ["where", "Ở đâu?", "(no answer)", "x", 0.3]
    assert misses[1][1] == "when" and misses[1][3] == "1945 | năm 1945"
    assert misses[1][6] == round(summaries.example_scores("năm 1954", golds[1])["f1_mlqa_vi"], 1)
    assert tables.misses_of_type(misses, "when") == [misses[1]]
    assert tables.misses_of_type(misses, tables.ALL_TYPES) == misses
    results = compute_all(dict(zip(ids, golds)), texts)
    rows = {row[0]: row[1:] for row in tables.metrics_rows(results)}
    assert rows["EM"] == [round(results["squad"]["exact_match"], 2),
                          round(results["mlqa-vi"]["exact_match"], 2)]
    assert rows["questions"] == [3, 3]


def test_breakdown_rows_cover_every_slice_with_both_normalisations():
    metrics = {"by_question_type": {"who": SLICE, "when": SLICE},
               "by_answerable": {"answerable": SLICE}, "calibration": {}}
    rows = tables.breakdown_rows(metrics)
    assert rows == [["question type", "who", 4, 25.0, 50.12, 50.0, 60.0],
                    ["question type", "when", 4, 25.0, 50.12, 50.0, 60.0],
                    ["answerable", "answerable", 4, 25.0, 50.12, 50.0, 60.0]]
    assert all(len(r) == len(tables.BREAKDOWN_COLUMNS) for r in rows)


def test_comparison_rows_give_deltas_intervals_and_wins():
    one = {"a": 60.0, "b": 50.0, "delta": 10.0, "low": -2.5, "high": 20.0}
    entry = {"exact": one, "f1": one, "wins": {"a": 3, "b": 1, "tie": 6}}
    comparison = {"questions": 10, "n_resamples": 1000, "seed": 0, "confidence": 0.95,
                  "squad": entry, "mlqa_vi": entry,
                  "by_question_type": {"who": {"count": 4, "a": SLICE, "b": SLICE,
                                               "delta": {"squad": {"exact": 0.0, "f1": 0.0},
                                                         "mlqa_vi": {"exact": 0.0, "f1": 0.0}}}}}
    rows = tables.comparison_rows(comparison)
    assert rows[0] == ["SQuAD EM", 60.0, 50.0, "+10.00", "[-2.50, +20.00]", "", "", ""]
    assert rows[3] == ["MLQA-vi F1", 60.0, 50.0, "+10.00", "[-2.50, +20.00]", 3, 1, 6]
    side = tables.compared_breakdown_rows(comparison)
    assert side == [["question type", "who", 4, 25.0, 25.0, 50.12, 50.12, 0.0,
                     50.0, 50.0, 60.0, 60.0, 0.0]]
    assert len(side[0]) == len(tables.BREAKDOWN_COMPARED_COLUMNS)
    md = summaries.comparison_markdown(comparison, "<b>a</b>", "b")
    assert "no clear difference" in md and "<b>" not in md and "10 questions" in md
    assert "1 question" not in md.replace("10 questions", "")
    one["low"] = 1.0
    assert "**A is better**" in summaries.comparison_markdown(comparison, "a", "b")


def test_headers_are_short_enough_not_to_break_inside_a_word():
    for columns in (tables.MISS_COLUMNS, tables.BREAKDOWN_COLUMNS,
                    tables.BREAKDOWN_COMPARED_COLUMNS, tables.COMPARISON_COLUMNS):
        for lang in ("en", "vi"):
            words = [w for h in tables.headers(columns, lang) for w in h.split()]
            assert "probability" not in words and all(len(w) <= 9 for w in words), (lang, words)
