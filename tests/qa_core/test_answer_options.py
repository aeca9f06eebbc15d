"""qa_core.answer_options: validated options, and a checkpoint's trained settings as the
defaults of its reader, the CLI and train.evaluate."""

from __future__ import annotations

import json
import logging
import shutil

import pytest

from qa_core.answer_options import (
    RECORD_FILE,
    AnswerOptions,
    checkpoint_defaults,
    read_trained_settings,
)
from qa_core.errors import InputError
from qa_core.reader import build_reader

CONTEXT = "Hà Nội là thủ đô của Việt Nam. Vua Lý Thái Tổ dời đô về Thăng Long năm 1010. " * 12
QUESTION = "Vua Lý Thái Tổ dời đô về Thăng Long năm nào?"
TRAINED = {"max_length": 64, "doc_stride": 16, "max_answer_length": 12, "max_question_length": 32}


def save_record(directory, allow_no_answer=True, null_threshold=1.5, **settings):
    """A ``viqa_training.json`` as ``train.finetune`` writes it (through its own record)."""
    from train.model_card import TrainingRecord

    TrainingRecord(
        base_model="tiny:unigram", train_datasets=["sample"], eval_datasets=["sample"],
        eval_split="validation", allow_no_answer=allow_no_answer, null_threshold=null_threshold,
        settings={**TRAINED, "learning_rate": 0.005, **settings},
    ).save(directory)


@pytest.fixture
def trained_checkpoint(tiny_checkpoints, tmp_path):
    path = shutil.copytree(tiny_checkpoints["unigram"], tmp_path / "trained")
    save_record(path)
    return path


def test_options_validate_once_and_overrides_skip_none():
    options = AnswerOptions(top_n=3.0)
    assert options.top_n == 3 and isinstance(options.top_n, int)
    assert options.with_overrides(top_n=None, null_threshold=None) is options
    assert options.with_overrides(null_threshold=2).null_threshold == 2.0
    with pytest.raises(InputError, match="finite"):
        options.with_overrides(null_threshold=float("nan"))
    with pytest.raises(InputError, match="doc_stride"):
        AnswerOptions(max_length=256, doc_stride=256)
    assert "windows of 384 tokens (stride 128)" in AnswerOptions().describe()
    assert "no-answer on (threshold 1.5)" in AnswerOptions(
        allow_no_answer=True, null_threshold=1.5
    ).describe()


def test_the_record_training_writes_is_read_back(tmp_path):
    save_record(tmp_path)
    trained = read_trained_settings(tmp_path)
    assert trained.overrides() == {**TRAINED, "allow_no_answer": True, "null_threshold": 1.5}
    options, source = checkpoint_defaults(tmp_path)
    assert source == f"as trained ({RECORD_FILE})"
    assert (options.max_length, options.doc_stride, options.null_threshold) == (64, 16, 1.5)
    assert options.top_n == AnswerOptions().top_n  # not a trained setting


def test_checkpoints_not_trained_here_use_the_library_defaults(tmp_path):
    assert read_trained_settings(tmp_path) is None
    assert read_trained_settings("deepset/xlm-roberta-base-squad2") is None
    assert checkpoint_defaults(tmp_path) == (AnswerOptions(), "library defaults")


@pytest.mark.parametrize("content", ["{not json", json.dumps({"settings": {"max_length": "x"}})])
def test_an_unreadable_record_is_logged_and_ignored(tmp_path, caplog, content):
    (tmp_path / RECORD_FILE).write_text(content)
    with caplog.at_level(logging.WARNING, logger="qa_core"):
        assert read_trained_settings(tmp_path) is None
    assert RECORD_FILE in caplog.text


def test_a_reader_answers_with_the_trained_settings_unless_told_otherwise(trained_checkpoint):
    reader = build_reader(trained_checkpoint, device="cpu", dtype="float32")
    assert reader.defaults.max_length == 64 and reader.defaults.allow_no_answer
    assert reader.describe_defaults().startswith(f"as trained ({RECORD_FILE}): windows of 64")
    default = reader.answer(QUESTION, CONTEXT)
    explicit = reader.answer(
        QUESTION, CONTEXT, max_length=64, doc_stride=16, max_answer_length=12,
        allow_no_answer=True, null_threshold=1.5, max_question_length=32,
    )
    assert default.n_windows == explicit.n_windows > 1
    assert default.null_score is not None  # no-answer on, as trained
    assert [(a.start, a.end) for a in default.answers] == [
        (a.start, a.end) for a in explicit.answers
    ]
    batch = reader.answer_batch([QUESTION], [CONTEXT])[0]
    assert batch.n_windows == default.n_windows
    overridden = reader.answer(QUESTION, CONTEXT, max_length=384, allow_no_answer=False)
    assert overridden.n_windows < default.n_windows and overridden.null_score is None


def test_the_cli_uses_the_trained_settings_too(trained_checkpoint, capsys):
    from qa_core.__main__ import main

    args = ["ask", "--checkpoint", str(trained_checkpoint), "--question", QUESTION,
            "--context", CONTEXT, "--dtype", "float32"]
    assert main(args) == 0
    trained = json.loads(capsys.readouterr().out)
    assert main([*args, "--max-length", "384", "--no-allow-no-answer"]) == 0
    told = json.loads(capsys.readouterr().out)
    assert trained["n_windows"] > told["n_windows"] >= 1
    assert trained["null_score"] is not None and told["null_score"] is None


def test_a_model_pushed_from_here_brings_its_settings_from_the_hub(trained_checkpoint, tmp_path):
    """A Hub id's ``viqa_training.json`` (train.push uploads it) is read from the Hub cache."""
    from qa_core.model.loading import load_checkpoint

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "cache" / "models--someone--trained"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    shutil.copytree(trained_checkpoint, repo / "snapshots" / commit)
    loaded = load_checkpoint("someone/trained", cache_dir=str(tmp_path / "cache"))  # offline
    assert loaded.trained.path == repo / "snapshots" / commit / RECORD_FILE
    options, source = checkpoint_defaults(loaded.trained.path.parent)
    assert source == f"as trained ({RECORD_FILE})" and options.max_length == 64
    # The app's pickers read the same settings before the model is loaded.
    assert checkpoint_defaults("someone/trained", cache_dir=str(tmp_path / "cache")) == (
        options, source)
    assert checkpoint_defaults("someone/other", cache_dir=str(tmp_path / "cache")) == (
        AnswerOptions(), "library defaults")


def test_train_evaluate_answers_with_the_settings_the_reader_uses(trained_checkpoint, tmp_path):
    from qa_core.reader import load_reader
    from qa_core.spans import column_values
    from train.data import load_questions
    from train.evaluate import EvaluateArguments, answer_and_score

    cfg = EvaluateArguments(
        checkpoint=str(trained_checkpoint), dataset=["sample"], max_samples=6, dtype="float32",
        dataset_cache_dir=str(tmp_path / "cache"),
    )
    results, scores = answer_and_score(cfg)
    assert scores.null_threshold == 1.5  # the trained one
    examples = load_questions(["sample"], None, 6, str(tmp_path / "cache"))
    reader = load_reader(str(trained_checkpoint), device="cpu", dtype="float32")
    preds = reader.answer_batch(
        column_values(examples["question"]), column_values(examples["context"]), top_n=20
    )
    for qid, pred in zip(column_values(examples["id"]), preds):
        assert results[qid].n_windows == pred.n_windows
        assert results[qid].best_text == pred.best_text
