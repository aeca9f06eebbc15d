"""Tests for qa_core.metrics: hand-computed scores, Vietnamese normalisation, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_core.metrics import (
    MetricInputError,
    compute_all,
    compute_metrics,
    exact_match_score,
    f1_score,
    main,
    metric_max_over_ground_truths,
    normalize_answer,
    references_from_squad_json,
)

REPO = Path(__file__).resolve().parent.parent
BOTH = ["squad", "mlqa-vi"]


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# --- normalisation --------------------------------------------------------------------------


@pytest.mark.parametrize("normalization", BOTH)
def test_diacritics_are_significant(normalization):
    assert exact_match_score("ha noi", "Hà Nội", normalization) == 0.0
    assert f1_score("ha noi", "Hà Nội", normalization) == 0.0
    assert exact_match_score("HÀ NỘI", "hà nội", normalization) == 1.0


@pytest.mark.parametrize(
    "prediction",
    ["“Hà Nội”", "«Hà Nội»", "Hà Nội –", "Hà Nội…", "‘Hà Nội’", "Hà Nội。"],
)
def test_unicode_punctuation_removed_only_in_mlqa_vi(prediction):
    assert exact_match_score(prediction, "Hà Nội", "mlqa-vi") == 1.0
    assert exact_match_score(prediction, "Hà Nội", "squad") == 0.0


@pytest.mark.parametrize("normalization", BOTH)
def test_ascii_punctuation_removed_in_both(normalization):
    assert normalize_answer("(Hà Nội), 1945!", normalization) == "hà nội 1945"


def test_ascii_symbols_removed_in_mlqa_too():
    # "$" and "+" are Unicode symbols (S*), not punctuation; MLQA adds string.punctuation.
    assert normalize_answer("$5 + 3", "mlqa-vi") == "5 3"


def test_vietnamese_articles():
    assert exact_match_score("thủ đô của Việt Nam", "thủ đô Việt Nam", "mlqa-vi") == 1.0
    assert exact_match_score("thủ đô của Việt Nam", "thủ đô Việt Nam", "squad") == 0.0
    assert normalize_answer("Những chiếc thuyền là cái", "mlqa-vi") == "thuyền"
    # Whole words only: "làm" and "cáim" are not articles.
    assert normalize_answer("làm việc cáim", "mlqa-vi") == "làm việc cáim"


def test_squad_english_articles_hit_vietnamese_names():
    # Why SQuAD normalisation is not enough for Vietnamese: "A Lưới" is a district.
    assert normalize_answer("A Lưới", "squad") == "lưới"
    assert normalize_answer("A Lưới", "mlqa-vi") == "a lưới"


def test_whitespace_collapsed():
    assert normalize_answer("  Hà \t Nội\n", "mlqa-vi") == "hà nội"


def test_unknown_normalization():
    with pytest.raises(MetricInputError, match="Use one of: squad, mlqa-vi"):
        normalize_answer("x", "english")


def test_pure_functions_do_not_nfc_like_the_official_scripts():
    assert exact_match_score(nfd("Hà Nội"), "Hà Nội") == 0.0


# --- scores ---------------------------------------------------------------------------------


def test_f1_partial_overlap_by_hand():
    # prediction 4 tokens, gold 3, common 3: P = 3/4, R = 1, F1 = 2 * 0.75 / 1.75 = 6/7.
    assert f1_score("quân dân Việt Nam", "quân dân Việt") == pytest.approx(6 / 7)
    # Counter overlap: common = {nam: 1, bắc: 1} -> P = R = 2/3.
    assert f1_score("nam nam bắc", "nam bắc bắc") == pytest.approx(2 / 3)
    # No common token.
    assert f1_score("Huế", "Hà Nội") == 0.0


def test_f1_empty_sides_follow_squad_v2():
    assert f1_score("", "") == 1.0
    assert f1_score("the", "") == 1.0  # "the" normalises to nothing in SQuAD mode
    assert f1_score("x", "") == 0.0
    assert f1_score("", "x") == 0.0


def test_metric_max_over_ground_truths():
    golds = ["năm 1945", "1945", "tháng 9 năm 1945"]
    assert metric_max_over_ground_truths(exact_match_score, "1945", golds) == 1.0
    # Best F1 is against "năm 1945": P = 2/2, R = 2/2.
    assert metric_max_over_ground_truths(f1_score, "năm 1945.", golds) == 1.0
    assert metric_max_over_ground_truths(f1_score, "tháng 9", golds) == pytest.approx(
        2 * 1.0 * 0.5 / 1.5
    )


def test_compute_metrics_by_hand():
    references = {"q1": ["Hà Nội"], "q2": ["quân dân Việt"], "q3": ["1945", "năm 1945"]}
    predictions = {"q1": "Hà Nội", "q2": "quân dân Việt Nam", "q3": "năm 1945"}
    result = compute_metrics(references, predictions)
    assert result["total"] == 3
    assert result["exact_match"] == pytest.approx(100 * 2 / 3)
    assert result["f1"] == pytest.approx(100 * (1 + 6 / 7 + 1) / 3)
    assert result["missing"] == 0
    assert "HasAns_total" not in result  # no unanswerable question: v1.1 shape


def test_nfd_prediction_matches_in_compute_metrics():
    references = {"q1": ["Hà Nội"], "q2": [nfd("Thành phố Hồ Chí Minh")]}
    predictions = {"q1": nfd("Hà Nội"), "q2": "thành phố Hồ Chí Minh"}
    for normalization in BOTH:
        assert compute_metrics(references, predictions, normalization)["exact_match"] == 100.0
        raw = compute_metrics(references, predictions, normalization, nfc=False)
        assert raw["exact_match"] == 0.0


@pytest.mark.parametrize(
    ("prediction", "expected"),
    [("", 100.0), ("Hà Nội", 0.0)],
)
@pytest.mark.parametrize("normalization", BOTH)
def test_no_answer(prediction, expected, normalization):
    result = compute_metrics({"q": []}, {"q": prediction}, normalization)
    assert result["exact_match"] == result["f1"] == expected
    assert result["NoAns_total"] == 1 and result["NoAns_exact_match"] == expected
    assert "HasAns_total" not in result  # no answerable question to report on


def test_has_ans_and_no_ans_split():
    references = {"a1": ["Huế"], "a2": ["Đà Nẵng"], "n1": [], "n2": [""]}
    predictions = {"a1": "Huế", "a2": "", "n1": "", "n2": "Huế"}
    result = compute_metrics(references, predictions)
    assert result["exact_match"] == 50.0
    assert (result["HasAns_exact_match"], result["HasAns_total"]) == (50.0, 2)
    assert (result["NoAns_exact_match"], result["NoAns_f1"], result["NoAns_total"]) == (
        50.0,
        50.0,
        2,
    )


def test_missing_predictions_count_as_empty():
    references = {"a": ["Huế"], "b": ["Huế"], "n": []}
    result = compute_metrics(references, {"a": "Huế"})
    assert result["missing"] == 2
    assert result["total"] == 3
    # "b" is wrong (""), "n" is right ("" is the no-answer).
    assert result["exact_match"] == pytest.approx(100 * 2 / 3)


def test_extra_predictions_are_ignored():
    result = compute_metrics({"a": ["Huế"]}, {"a": "Huế", "zzz": "x"})
    assert result["total"] == 1 and result["exact_match"] == 100.0


def test_compute_all_has_both_normalisations():
    result = compute_all({"q": ["thủ đô Việt Nam"]}, {"q": "“thủ đô của Việt Nam”"})
    assert result["mlqa-vi"]["exact_match"] == 100.0
    assert result["squad"]["exact_match"] == 0.0


@pytest.mark.parametrize(
    ("references", "predictions", "message"),
    [
        ({}, {}, "nothing to score"),
        ([["Huế"]], {}, "nothing to score"),
        ({"q": "Huế"}, {"q": "Huế"}, r"references\['q'\] is a str"),
        ({"q": [1945]}, {"q": "1945"}, "every gold answer must be a string"),
        ({"q": ["Huế"]}, {"q": None}, r"predictions\['q'\] is a NoneType"),
        ({"q": ["Huế"]}, ["Huế"], "predictions is a list"),
    ],
)
def test_bad_inputs(references, predictions, message):
    with pytest.raises(MetricInputError, match=message):
        compute_metrics(references, predictions)


def test_errors_are_value_errors():
    assert issubclass(MetricInputError, ValueError)


# --- properties -----------------------------------------------------------------------------

WORDS = ["Hà", "Nội", "của", "là", "the", "a", "“", "”", "–", ",", ".", "năm", "1945", "Huế", " "]
answers = st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(answers, answers, st.sampled_from(BOTH))
def test_score_properties(prediction, gold, normalization):
    f1 = f1_score(prediction, gold, normalization)
    assert 0.0 <= f1 <= 1.0
    assert f1 == f1_score(gold, prediction, normalization)
    if exact_match_score(prediction, gold, normalization):
        assert f1 == 1.0
    once = normalize_answer(prediction, normalization)
    assert normalize_answer(once, normalization) == once


# --- SQuAD files and the CLI ----------------------------------------------------------------

SQUAD_V2 = {
    "version": "v2.0",
    "data": [
        {
            "title": "Huế",
            "paragraphs": [
                {
                    "context": "Huế là cố đô của Việt Nam.",
                    "qas": [
                        {
                            "id": "q1",
                            "question": "Cố đô của Việt Nam là gì?",
                            "answers": [{"text": "Huế", "answer_start": 0}],
                        },
                        {
                            "id": "q2",
                            "question": "Huế là gì?",
                            "answers": [
                                {"text": "cố đô của Việt Nam", "answer_start": 7},
                                {"text": "cố đô", "answer_start": 7},
                            ],
                        },
                        {"id": "q3", "question": "Ai?", "answers": [], "is_impossible": True},
                    ],
                }
            ],
        }
    ],
}
PREDICTIONS = {"q1": "Huế", "q2": "cố đô Việt Nam", "q3": ""}


def test_references_from_squad_json():
    assert references_from_squad_json(SQUAD_V2) == {
        "q1": ["Huế"],
        "q2": ["cố đô của Việt Nam", "cố đô"],
        "q3": [],
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "No 'data' list"),
        ({"version": "1.1"}, "No 'data' list"),
        ({"data": [{"title": "x"}]}, r"data\[0\] has no 'paragraphs'"),
        ({"data": [{"paragraphs": [{"context": "c"}]}]}, "has no 'qas'"),
        ({"data": [{"paragraphs": [{"qas": [{"answers": []}]}]}]}, "has no 'id'"),
        ({"data": [{"paragraphs": [{"qas": [{"id": "q", "answers": ["x"]}]}]}]}, "'answers'"),
    ],
)
def test_references_from_bad_squad_json(data, message):
    with pytest.raises(MetricInputError, match=message):
        references_from_squad_json(data)


@pytest.fixture
def squad_files(tmp_path):
    data = tmp_path / "data.json"
    preds = tmp_path / "preds.json"
    data.write_text(json.dumps(SQUAD_V2, ensure_ascii=False), encoding="utf-8")
    preds.write_text(json.dumps(PREDICTIONS, ensure_ascii=False), encoding="utf-8")
    return data, preds


def test_cli_subprocess(squad_files):
    data, preds = squad_files
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [sys.executable, "-m", "qa_core.metrics", str(data), str(preds)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    # q2 in SQuAD mode keeps "của": against "cố đô của Việt Nam" P = 4/4, R = 4/5, F1 = 8/9
    # (better than "cố đô": P = 2/4, R = 1, F1 = 2/3); EM 0.
    assert result["exact_match"] == pytest.approx(100 * 2 / 3)
    assert result["f1"] == pytest.approx(100 * (1 + 8 / 9 + 1) / 3)
    assert (result["HasAns_total"], result["NoAns_total"], result["total"]) == (2, 1, 3)


def test_cli_both_normalisations(squad_files, capsys):
    data, preds = squad_files
    assert main([str(data), str(preds), "--normalization", "both"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"squad", "mlqa-vi"}
    assert result["mlqa-vi"]["exact_match"] == 100.0  # "của" is an article in mlqa-vi


@pytest.mark.parametrize(
    ("data_text", "preds_text", "message"),
    [
        (None, json.dumps(PREDICTIONS), "not found"),
        ("{not json", json.dumps(PREDICTIONS), "not valid JSON"),
        (json.dumps({"version": "1.1"}), json.dumps(PREDICTIONS), "neither a SQuAD file"),
        (json.dumps(SQUAD_V2), json.dumps(["Huế"]), "expected a JSON object"),
        (json.dumps(SQUAD_V2), json.dumps({"q1": 3}), "non-string values"),
    ],
)
def test_cli_bad_files(tmp_path, capsys, data_text, preds_text, message):
    data = tmp_path / "data.json"
    preds = tmp_path / "preds.json"
    if data_text is not None:
        data.write_text(data_text, encoding="utf-8")
    preds.write_text(preds_text, encoding="utf-8")
    assert main([str(data), str(preds)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_missing_file_subprocess(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "qa_core.metrics", str(tmp_path / "nope.json"), "x.json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert run.returncode == 2
    assert "not found" in run.stderr and "Traceback" not in run.stderr


# --- the CLI reads data as the loaders and train.evaluate do ---------------------------------


def _flat_rows(squad_data: dict) -> list[dict]:
    """The SQuAD file as Hub-layout rows (answers as {text: [...], answer_start: [...]})."""
    rows = []
    for article in squad_data["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                rows.append(
                    {
                        "id": qa["id"],
                        "title": article.get("title", ""),
                        "context": paragraph["context"],
                        "question": qa["question"],
                        "answers": {
                            "text": [a["text"] for a in qa["answers"]],
                            "answer_start": [a["answer_start"] for a in qa["answers"]],
                        },
                        "is_impossible": bool(qa.get("is_impossible", False)),
                    }
                )
    return rows


def test_cli_reads_every_format_the_loaders_read(squad_files, tmp_path, capsys):
    import datasets

    data, preds = squad_files
    assert main([str(data), str(preds), "--normalization", "both"]) == 0
    expected = json.loads(capsys.readouterr().out)
    hub = datasets.Dataset.from_list(_flat_rows(SQUAD_V2))
    hub.to_json(str(tmp_path / "data.jsonl"), force_ascii=False)
    hub.to_parquet(str(tmp_path / "data.parquet"))
    hub.to_csv(str(tmp_path / "data.csv"))  # answers cells as numpy reprs
    for name in ("data.jsonl", "data.parquet", "data.csv"):
        assert main([str(tmp_path / name), str(preds), "--normalization", "both"]) == 0, name
        assert json.loads(capsys.readouterr().out) == expected, name


DUPLICATES = {
    "version": "v2.0",
    "data": [
        {
            "title": "Huế",
            "paragraphs": [
                {
                    "context": "Huế là cố đô của Việt Nam. Hà Nội là thủ đô.",
                    "qas": [
                        {
                            "id": "d",
                            "question": "Cố đô?",
                            "answers": [{"text": "Huế", "answer_start": 0}],
                        },
                        # The same id again, as in real copies of UIT-ViQuAD 2.0.
                        {
                            "id": "d",
                            "question": "Thủ đô?",
                            "answers": [{"text": "Hà Nội", "answer_start": 28}],
                        },
                        {
                            "id": "d",
                            "question": "Thủ đô Lào?",
                            "answers": [],
                            "is_impossible": True,
                        },
                        {"id": "e", "question": "Sông?", "answers": [], "is_impossible": False},
                    ],
                }
            ],
        }
    ],
}


def test_cli_scores_evaluate_predictions_of_a_file_with_repeated_ids(tmp_path, capsys):
    from qa_core.sources import labelled_only
    from qa_core.spans import references_of
    from train.data import load_questions

    data = tmp_path / "dups.json"
    data.write_text(json.dumps(DUPLICATES, ensure_ascii=False), encoding="utf-8")
    # What train.evaluate scores: the questions as load_questions gives them, labelled only.
    examples, skipped = labelled_only(load_questions([str(data)], None))
    assert examples["id"] == ["d", "d-2", "d-3"] and skipped == 1
    predictions = {"d": "Hà Nội", "d-2": "Hà Nội", "d-3": ""}  # wrong, right, right
    expected = compute_all(references_of(examples), predictions)
    preds = tmp_path / "predictions.json"
    preds.write_text(json.dumps(predictions, ensure_ascii=False), encoding="utf-8")

    assert main([str(data), str(preds), "--normalization", "both"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == expected
    assert expected["squad"]["exact_match"] == pytest.approx(200 / 3)
    assert expected["squad"]["missing"] == 0
    assert "1 of 4 questions have no gold answer and were skipped" in captured.err
    assert "duplicate ids renamed" in captured.err


def test_cli_refuses_a_split_without_gold_answers(tmp_path, capsys):
    unlabelled = json.loads(json.dumps(SQUAD_V2))
    for qa in unlabelled["data"][0]["paragraphs"][0]["qas"]:
        qa.update(answers=[], is_impossible=False)
    data = tmp_path / "test.json"
    data.write_text(json.dumps(unlabelled, ensure_ascii=False), encoding="utf-8")
    preds = tmp_path / "empty.json"
    preds.write_text(json.dumps({"q1": "", "q2": "", "q3": ""}), encoding="utf-8")
    assert main([str(data), str(preds)]) == 2  # not F1 100 for predicting nothing
    err = capsys.readouterr().err
    assert "has no gold answers" in err and "none of its 3 questions" in err


def test_cli_notes_predictions_that_match_no_question(squad_files, tmp_path, capsys):
    data, _ = squad_files
    preds = tmp_path / "other.json"
    preds.write_text(json.dumps({**PREDICTIONS, "zz": "x"}), encoding="utf-8")
    assert main([str(data), str(preds)]) == 0
    assert "1 predictions have ids that are not in the data ('zz')" in capsys.readouterr().err
