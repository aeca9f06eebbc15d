"""python -m train.evaluate on a tiny untrained checkpoint: files, table, settings, errors."""

from __future__ import annotations

import json

import pytest

from train.evaluate import EvaluateArguments, evaluate, main
from train.model_card import TrainingRecord


def test_writes_squad_files_and_prints_both_normalisations(tiny_checkpoints, tmp_path, capsys):
    out = tmp_path / "eval"
    code = main(
        [
            "--checkpoint",
            str(tiny_checkpoints["unigram"]),
            "--dataset",
            "sample",
            "--split",
            "validation[:12]",
            "--output-dir",
            str(out),
            "--dtype",
            "float32",
        ]
    )
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
    code = main(
        [
            "--checkpoint",
            str(tiny_checkpoints["unigram"]),
            "--dataset",
            "no-such-data",
            "--output-dir",
            str(tmp_path),
        ]
    )
    assert code == 2 and "Unknown source" in capsys.readouterr().err


def test_conflicting_threshold_options():
    with pytest.raises(ValueError, match="not both"):
        EvaluateArguments(
            checkpoint="x", dataset=["sample"], null_threshold=1.0, tune_null_threshold=True
        )
