"""python -m train.evaluate on a tiny untrained checkpoint: files, table, settings, errors."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from qa_core import question_type
from train.evaluate import EvaluateArguments, evaluate, main
from train.model_card import TrainingRecord


def evaluate_cli(checkpoint, dataset, out, *extra: str) -> int:
    """``python -m train.evaluate --checkpoint C --dataset D --output-dir O EXTRA`` in this
    process: its exit code."""
    return main(["--checkpoint", str(checkpoint), "--dataset", str(dataset),
                 "--output-dir", str(out), *extra])


def test_writes_squad_files_and_prints_both_normalisations(tiny_checkpoints, tmp_path, capsys):
    out = tmp_path / "eval"
    code = evaluate_cli(tiny_checkpoints["unigram"], "sample", out, "--split", "validation[:12]",
                        "--dtype", "float32")
    assert code == 0
    predictions = json.loads((out / "predictions.json").read_text(encoding="utf-8"))
    nbest = json.loads((out / "nbest_predictions.json").read_text(encoding="utf-8"))
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert len(predictions) == 12 and all(isinstance(t, str) for t in predictions.values())
    assert set(nbest) == set(predictions) and all(len(v) >= 1 for v in nbest.values())
    assert {"squad", "mlqa-vi"} <= set(metrics) and metrics["squad"]["total"] == 12
    assert metrics["null_threshold"] == 0.0  # the sample has unanswerable questions
    table = capsys.readouterr().out
    assert "SQuAD (official script)" in table and "MLQA-vi" in table


def test_analysis_files_and_a_comparison(tiny_checkpoints, tmp_path, capsys):
    out = tmp_path / "eval"
    code = evaluate_cli(tiny_checkpoints["unigram"], "sample", out, "--compare-to",
                        str(tiny_checkpoints["wordpiece"]), "--max-samples", "12",
                        "--dtype", "float32")
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    predictions = json.loads((out / "predictions.json").read_text(encoding="utf-8"))
    assert all(isinstance(t, str) for t in predictions.values())  # still the official format
    for name in ("by_question_type", "by_answer_length", "by_context_windows", "by_answerable"):
        assert sum(s["count"] for s in metrics[name].values()) == 12
        for s in metrics[name].values():
            assert set(s) == {"count", "squad", "mlqa_vi"} and set(s["squad"]) == {"exact", "f1"}
    assert len(metrics["calibration"]["bins"]) == 10 and 0 <= metrics["calibration"]["ece"] <= 1
    assert metrics["no_answer_curve"]["chosen"]["threshold"] == metrics["null_threshold"]
    detail = (out / "predictions_detail.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in detail.splitlines()]
    assert [r["id"] for r in rows] == list(predictions)
    assert all(r["question_type"] == question_type(r["question"]) for r in rows)
    assert all(r["prediction"] == predictions[r["id"]] for r in rows)
    types = Counter(r["question_type"] for r in rows)
    assert {k: v["count"] for k, v in metrics["by_question_type"].items()} == types

    comparison = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    b_metrics = json.loads((out / "compare_to" / "metrics.json").read_text(encoding="utf-8"))
    assert comparison["questions"] == 12 and comparison["n_resamples"] == 1000
    f1 = comparison["mlqa_vi"]["f1"]
    assert f1["a"] == pytest.approx(metrics["mlqa-vi"]["f1"])
    assert f1["b"] == pytest.approx(b_metrics["mlqa-vi"]["f1"])
    assert f1["delta"] == pytest.approx(f1["a"] - f1["b"])
    assert f1["low"] <= f1["delta"] <= f1["high"]
    assert sum(comparison["squad"]["wins"].values()) == 12
    assert set(comparison["by_question_type"]) == set(metrics["by_question_type"])
    printed = capsys.readouterr().out
    assert "| question type | questions |" in printed and "expected calibration error" in printed
    assert "95% paired bootstrap intervals (1000 resamples, seed 0)" in printed


def test_uses_the_threshold_saved_by_training(tiny_checkpoints, tmp_path):
    model_dir = tmp_path / "model"
    # A copy of the tiny checkpoint with a training record beside it.
    import shutil

    shutil.copytree(tiny_checkpoints["wordpiece"], model_dir)
    TrainingRecord(
        base_model="tiny:wordpiece",
        train_datasets=["sample"],
        eval_datasets=["sample"],
        eval_split="validation",
        allow_no_answer=True,
        null_threshold=123.0,
    ).save(model_dir)
    result = evaluate(
        EvaluateArguments(
            checkpoint=str(model_dir),
            dataset=["sample"],
            max_samples=6,
            output_dir=str(tmp_path / "out"),
            dtype="float32",
        )
    )
    assert result["null_threshold"] == 123.0
    assert result["squad"]["total"] == 6
    predictions = json.loads((tmp_path / "out" / "predictions.json").read_text(encoding="utf-8"))
    assert all(text for text in predictions.values())  # huge threshold: always a span


def test_bad_dataset_is_a_clear_error(tiny_checkpoints, tmp_path, capsys):
    code = evaluate_cli(tiny_checkpoints["unigram"], "no-such-data", tmp_path)
    assert code == 2 and "Unknown source" in capsys.readouterr().err


def test_conflicting_threshold_options():
    with pytest.raises(ValueError, match="not both"):
        EvaluateArguments(
            checkpoint="x", dataset=["sample"], null_threshold=1.0, tune_null_threshold=True
        )


def _squad_file(path, qas, context="Huế là cố đô của Việt Nam. Hà Nội là thủ đô."):
    data = {
        "version": "v2.0",
        "data": [{"title": "t", "paragraphs": [{"context": context, "qas": qas}]}],
    }
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def _no_model(monkeypatch):
    """Fail the test if a model is loaded: data errors must come first."""
    import qa_core.reader

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the data was checked")

    monkeypatch.setattr(qa_core.reader, "load_reader", refuse)


@pytest.mark.parametrize(
    ("qas", "message"),
    [
        ([{"id": "t1", "question": "?", "answers": [], "is_impossible": False}], "no gold answers"),
        ([{"id": "t1", "question": "?", "answers": "Huế"}], "'answers' is a string"),
    ],
)
def test_data_errors_come_before_the_model_and_leave_no_folder(
    tiny_checkpoints, tmp_path, capsys, monkeypatch, qas, message
):
    _no_model(monkeypatch)
    out = tmp_path / "out"
    data = _squad_file(tmp_path / "test.json", qas)
    code = evaluate_cli(tiny_checkpoints["unigram"], data, out)
    assert code == 2 and message in capsys.readouterr().err
    assert not out.exists()


def test_predictions_of_a_file_with_repeated_ids_score_the_same_in_the_metrics_cli(
    tiny_checkpoints, tmp_path, capsys, caplog
):
    from qa_core.__main__ import main as cli

    hue = [{"text": "Huế", "answer_start": 0}]
    data = _squad_file(
        tmp_path / "dups.json",
        [
            {"id": "d", "question": "Cố đô?", "answers": hue},
            {"id": "d", "question": "Thủ đô?", "answers": [{"text": "Hà Nội", "answer_start": 27}]},
            {"id": "d", "question": "Thủ đô Lào?", "answers": [], "is_impossible": True},
            {"id": "u", "question": "Sông?", "answers": [], "is_impossible": False},
        ],
    )
    out = tmp_path / "eval"
    with caplog.at_level("INFO"):
        code = evaluate_cli(tiny_checkpoints["unigram"], data, out, "--dtype", "float32")
    assert code == 0
    assert "[whole file]" in caplog.text and "[train]" not in caplog.text
    assert "1 questions have no gold answer and are skipped; 3 are evaluated" in caplog.text
    capsys.readouterr()
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert set(json.loads((out / "predictions.json").read_text(encoding="utf-8"))) == {
        "d",
        "d-2",
        "d-3",
    }
    assert cli(["score", data, str(out / "predictions.json"), "--normalization", "both"]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored == {"squad": metrics["squad"], "mlqa-vi": metrics["mlqa-vi"]}
    assert scored["squad"]["total"] == 3 and scored["squad"]["missing"] == 0
