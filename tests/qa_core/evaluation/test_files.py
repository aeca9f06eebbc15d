"""qa_core.evaluation.files and ``python -m qa_core score``: files scored as the official scripts
and train.evaluate score them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from paths import REPO

from qa_core.__main__ import main as cli
from qa_core.errors import MetricInputError
from qa_core.evaluation.files import references_from_squad_json
from qa_core.evaluation.metrics import compute_all


def main(argv: list[str]) -> int:
    return cli(["score", *argv])


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
        [sys.executable, "-m", "qa_core", "score", str(data), str(preds)],
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
        [sys.executable, "-m", "qa_core", "score", str(tmp_path / "nope.json"), "x.json"],
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
    from qa_core.data.schema import labelled_only
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
