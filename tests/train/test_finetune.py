"""End to end on CPU, offline: a tiny model memorises the sample (so labels and span search
are right), its output evaluates and loads in the reader; two processes train together."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from local_server import free_port
from train_cli import REPO, subprocess_env, tiny_run

from qa_core import load_reader
from qa_core.checkpoints import discover_local_checkpoints
from train.args import parse_args
from train.evaluate import EvaluateArguments, evaluate
from train.finetune import train
from train.run_folder import resume_point

QUESTION = "Ai chỉ huy quân dân Việt trong trận Bạch Đằng năm 938?"


def evaluate_on_sample(checkpoint, output_dir) -> dict:
    """``train.evaluate`` of ``checkpoint`` on the bundled sample, in float32."""
    return evaluate(EvaluateArguments(checkpoint=str(checkpoint), dataset=["sample"],
                                      output_dir=str(output_dir), dtype="float32"))


@pytest.mark.slow
def test_the_smoke_model_memorises_the_sample(smoke_model, tiny_checkpoints, tmp_path):
    """The quick start's model (conftest: ``--preset smoke``): labels and span search are
    right when a tiny model learns its training questions; its files evaluate and load."""
    before = evaluate_on_sample(tiny_checkpoints["unigram"], tmp_path / "before")
    own = json.loads((smoke_model / "eval" / "metrics.json").read_text(encoding="utf-8"))
    assert before["mlqa-vi"]["HasAns_f1"] < 15
    assert own["mlqa-vi"]["f1"] > 80, own["mlqa-vi"]  # what the README's quick start promises
    for name in ("config.json", "model.safetensors", "tokenizer.json", "README.md",
                 "viqa_training.json", "eval/predictions.json"):
        assert (smoke_model / name).is_file(), name
    record = json.loads((smoke_model / "viqa_training.json").read_text(encoding="utf-8"))
    assert record["allow_no_answer"] and record["null_threshold"] is not None

    after = evaluate_on_sample(smoke_model, tmp_path / "after")
    assert after["null_threshold"] == record["null_threshold"]  # taken from the record
    # Training evaluates under bf16 autocast where the CPU computes bf16 natively, this in
    # float32: a few questions near the tuned no-answer threshold can flip between the two.
    assert after["mlqa-vi"]["f1"] == pytest.approx(own["mlqa-vi"]["f1"], abs=6.0)
    assert after["mlqa-vi"]["f1"] > 80
    assert {p.name for p in (tmp_path / "after").iterdir()} == {
        "predictions.json",
        "nbest_predictions.json",
        "metrics.json",
        "predictions_detail.jsonl",  # train.evaluate's per-question analysis
    }
    # Training's own evaluation gets the same files and analysis as train.evaluate's.
    assert {p.name for p in (smoke_model / "eval").iterdir()} == {
        p.name for p in (tmp_path / "after").iterdir()}
    assert {"by_question_type", "calibration", "no_answer_curve"} <= set(own)

    reader = load_reader(str(smoke_model), device="cpu", dtype="float32")
    prediction = reader.answer(
        QUESTION,
        "Trận Bạch Đằng năm 938 là trận thủy chiến giữa quân "
        "dân Việt do Ngô Quyền chỉ huy và quân Nam Hán do Lưu Hoằng Tháo "
        "cầm đầu.",
    )
    assert prediction.answers
    found = {c.path for c in discover_local_checkpoints(smoke_model.parent)}
    assert smoke_model in found  # the app lists it


@pytest.mark.slow
def test_two_processes_on_cpu(tiny_checkpoints, tmp_path):
    out = tmp_path / "ddp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        str(free_port()),  # a fixed port collides with a run still closing its sockets
        "-m",
        "train.finetune",
        *tiny_run(
            tiny_checkpoints["unigram"],
            out,
            "--max-steps",
            "3",
            "--per-device-train-batch-size",
            "4",
            "--eval-strategy",
            "steps",
            "--eval-steps",
            "3",
            "--max-eval-samples",
            "10",
            "--logging-steps",
            "1",
        ),
    ]
    proc = subprocess.run(
        cmd, cwd=REPO, env=subprocess_env(tmp_path, OMP_NUM_THREADS="1"), capture_output=True,
        text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((out / "viqa_training.json").read_text(encoding="utf-8"))
    assert record["world_size"] == 2 and record["global_step"] == 3
    assert record["metrics"]["squad"]["total"] == 10  # every question scored exactly once
    assert "4 per device × 1 accumulation × 2 processes = 8" in record["settings"]["batch"]


def test_output_dir_of_another_run_is_not_mixed_in(tmp_path):
    (tmp_path / "checkpoint-7").mkdir()
    (tmp_path / "checkpoint-7" / "trainer_state.json").write_text("{}")
    (tmp_path / "checkpoint-9").mkdir()  # cut short by a crash: no trainer_state.json
    with pytest.raises(ValueError, match="--resume"):
        resume_point(tmp_path, resume=False, overwrite=False)
    assert resume_point(tmp_path, resume=True, overwrite=False).endswith("checkpoint-7")
    assert resume_point(tmp_path, resume=False, overwrite=True) is None
    with pytest.raises(ValueError, match="no complete checkpoint"):
        resume_point(tmp_path / "new", resume=True, overwrite=False)


def test_a_failure_after_training_keeps_the_model(tiny_checkpoints, tmp_path, monkeypatch):
    from train import model_card

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(model_card, "write_model_card", broken)
    out = tmp_path / "run"
    cfg = parse_args(
        tiny_run(
            tiny_checkpoints["wordpiece"],
            out,
            "--max-steps",
            "2",
            "--eval-strategy",
            "no",
            "--per-device-train-batch-size",
            "4",
            "--max-length",
            "128",
            "--doc-stride",
            "32",
            "--dataset-cache-dir",
            str(tmp_path / "c"),
        )
    )
    with pytest.raises(OSError, match="disk full"):
        train(cfg)
    assert (out / "model.safetensors").is_file()  # saved before anything that can fail
    assert load_reader(str(out), device="cpu", dtype="float32").answer("Ai?", "Ngô Quyền.").answers


def test_a_failed_final_evaluation_exits_non_zero_and_says_how_to_evaluate(
        tiny_checkpoints, tmp_path, monkeypatch, capsys):
    import train.finetune as finetune
    from train.evaluate import evaluate_command

    def crash(trainer):
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    monkeypatch.setattr(finetune, "_final_evaluation", crash)
    out = tmp_path / "run"
    code = finetune.main(tiny_run(tiny_checkpoints["unigram"], out, "--max-steps", "1",
                                  "--eval-strategy", "no", "--do-eval", "--max-length", "128",
                                  "--doc-stride", "32", "--dataset-cache-dir",
                                  str(tmp_path / "c")))
    assert code == 1
    err = capsys.readouterr().err
    assert "The final evaluation failed (RuntimeError: CUDA error" in err
    assert evaluate_command(out, ["sample"], "validation") in err
    assert (out / "model.safetensors").is_file() and (out / "README.md").is_file()
    assert load_reader(str(out), device="cpu", dtype="float32").answer("Ai?", "Ngô Quyền.").answers


def _no_model(monkeypatch):
    """Fail the test if a base model is built or loaded: data errors must come first."""
    from train import model

    def refuse(*args, **kwargs):
        raise AssertionError("a model was built before the data was checked")

    monkeypatch.setattr(model, "load_model_and_tokenizer", refuse)
    monkeypatch.setattr(model, "resolve_checkpoint", refuse)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"answers": "Huế"}, "'answers' is a string"),
        ({"answers": [], "is_impossible": False}, "have no gold answer and are not marked"),
    ],
)
def test_data_errors_come_before_the_model_and_leave_no_folder(
    tmp_path, monkeypatch, capsys, row, message
):
    from train.finetune import main

    _no_model(monkeypatch)
    data = tmp_path / "bad.jsonl"
    data.write_text(
        json.dumps({"id": "x", "context": "Huế là cố đô.", "question": "?", **row}), "utf-8"
    )
    out = tmp_path / "models" / "run"
    assert main(["--model-name-or-path", "tiny:unigram", "--train-dataset", str(data),
                 "--output-dir", str(out), "--use-cpu", "--eval-strategy", "no"]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()  # not even the tiny base model's folder


def test_bad_data_with_overwrite_keeps_the_earlier_run(tmp_path, monkeypatch):
    _no_model(monkeypatch)
    out = tmp_path / "run"
    (out / "checkpoint-3").mkdir(parents=True)
    (out / "checkpoint-3" / "trainer_state.json").write_text("{}")
    cfg = parse_args(["--train-dataset", str(tmp_path / "missing.json"), "--output-dir", str(out),
                      "--overwrite-output-dir", "--use-cpu", "--eval-strategy", "no"])
    with pytest.raises(ValueError, match="not a file"):
        train(cfg)
    assert (out / "checkpoint-3" / "trainer_state.json").is_file()


def test_a_failed_run_removes_only_the_folder_it_made(tmp_path):
    from train.run_folder import removed_on_failure

    made = tmp_path / "made"
    with pytest.raises(RuntimeError), removed_on_failure(made):
        (made / ".tiny-base").mkdir(parents=True)
        raise RuntimeError("out of memory")
    assert not made.exists()
    resumable = tmp_path / "resumable"
    with pytest.raises(RuntimeError), removed_on_failure(resumable):
        (resumable / "checkpoint-2").mkdir(parents=True)
        (resumable / "checkpoint-2" / "trainer_state.json").write_text("{}")
        raise RuntimeError("killed")
    assert (resumable / "checkpoint-2").is_dir()  # --resume continues from it
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    with pytest.raises(RuntimeError), removed_on_failure(earlier):
        raise RuntimeError("failed")
    assert earlier.is_dir()  # not made by this run


def test_held_out_passages_are_whole_and_never_trained_on():
    from train.finetune import split_by_passage

    contexts = [f"p{i // 3}" for i in range(60)]  # 20 passages of 3 questions
    kept, held = split_by_passage(contexts, 0.05, seed=0)
    assert len(held) >= 3 and sorted(kept + held) == list(range(60))
    assert not {contexts[i] for i in kept} & {contexts[i] for i in held}
    assert split_by_passage(contexts, 0.05, seed=0) == (kept, held)  # seeded
    assert split_by_passage(contexts, 0.0, seed=0) == (list(range(60)), [])
    assert split_by_passage(["one"] * 5, 0.3, seed=0) == (list(range(5)), [])  # one passage


def test_answerless_windows_are_down_sampled():
    import numpy as np

    from train.finetune import null_window_rows, sample_null_windows

    ids = [[101, 7, 8, 9]] * 6
    starts = [0, 2, 0, 0, 3, 0]  # windows 0, 2, 3, 5 point at CLS
    is_null = null_window_rows(ids, starts, cls_token_id=101)
    assert is_null.tolist() == [True, False, True, True, False, True]
    rows = sample_null_windows({"null": is_null}, {"null": 0.5}, seed=0)
    assert {1, 4} <= set(rows.tolist()) and len(rows) == 4 and np.all(np.diff(rows) > 0)
    assert sample_null_windows({"null": is_null}, {"null": 1.0}, seed=0).tolist() == list(range(6))
    # Two groups thinned apart: rows 0, 2 (rate 0.5 → one kept) and 3, 5 (rate 1 → both).
    groups = {"a": np.array([1, 0, 1, 0, 0, 0], bool), "b": np.array([0, 0, 0, 1, 0, 1], bool)}
    rows = sample_null_windows(groups, {"a": 0.5, "b": 1.0}, seed=0).tolist()
    assert len(rows) == 5 and {1, 3, 4, 5} <= set(rows)


@pytest.mark.parametrize("unanswerable_rate", [1.0, 0.5])
def test_the_two_kinds_of_answerless_window_are_thinned_apart(
    tiny_checkpoints, tmp_path, unanswerable_rate
):
    from transformers import AutoTokenizer

    from train.data import load_run_questions, tokenize
    from train.finetune import load_data

    model = tiny_checkpoints["unigram"]
    cache = str(tmp_path / "cache")
    cfg = parse_args(tiny_run(
        model, tmp_path / "out", "--max-length", "96", "--doc-stride", "16",
        "--max-question-length", "32", "--threshold-split", "0", "--dataset-cache-dir", cache,
        "--null-window-rate", "0.01", "--unanswerable-window-rate", str(unanswerable_rate),
    ))
    tokenizer = AutoTokenizer.from_pretrained(model)
    questions = load_run_questions(cfg.data, evaluate=False)
    every = tokenize("train", questions.train, tokenizer, cfg.qa.windows(), cache_dir=cache)
    kept = load_data(cfg, tokenizer, cfg.qa.windows(), questions).train_features
    assert "answerable" not in kept.column_names  # not a model input

    rows = list(zip(map(tuple, every["input_ids"]), every["answerable"],
                    every["start_positions"]))
    no_answer = {ids for ids, answerable, _ in rows if not answerable}
    with_answer = {ids for ids, answerable, start in rows if answerable and start}
    elsewhere = len(rows) - len(no_answer) - len(with_answer)
    assert no_answer and elsewhere > 100  # the sample has both kinds
    kept_ids = set(map(tuple, kept["input_ids"]))
    assert with_answer <= kept_ids  # every window with an answer is trained on
    kept_no_answer = len(kept_ids & no_answer)
    assert kept_no_answer == max(1, round(unanswerable_rate * len(no_answer)))
    kept_elsewhere = len(kept) - len(with_answer) - kept_no_answer
    assert kept_elsewhere == round(0.01 * elsewhere)


@pytest.mark.slow
def test_threshold_is_tuned_on_held_out_training_passages(tiny_checkpoints, tmp_path):
    from train.scoring import TUNED_HERE

    out = tmp_path / "models" / "held"
    cache = ["--dataset-cache-dir", str(tmp_path / "cache")]
    short = ["--max-steps", "3", "--per-device-train-batch-size", "8", "--max-length", "256",
             "--eval-strategy", "steps", "--eval-steps", "3", "--bf16", "false", *cache]
    metrics = train(parse_args(tiny_run(tiny_checkpoints["unigram"], out, *short)))
    record = json.loads((out / "viqa_training.json").read_text(encoding="utf-8"))
    source = record["null_threshold_source"]
    assert source.startswith("held-out slice of the training data"), source
    assert metrics["eval_null_threshold_source"] == source
    assert record["settings"]["train_questions"] < 54  # the held-out passages are not trained on
    share = record["no_answer_share"]
    assert record["degenerate_no_answer"] == (share >= 0.9)
    saved = json.loads((out / "eval" / "metrics.json").read_text(encoding="utf-8"))
    assert saved["null_threshold"] == record["null_threshold"]
    assert saved["null_threshold_source"] == source and "span_quality" in saved
    assert source in (out / "README.md").read_text(encoding="utf-8")

    # train.evaluate: the saved threshold, labelled; tuning on the reported data only if asked.
    after = evaluate_on_sample(out, tmp_path / "after")
    assert after["null_threshold"] == record["null_threshold"]
    assert after["null_threshold_source"] == f"saved by training: {source}"
    tuned = evaluate(EvaluateArguments(checkpoint=str(out), dataset=["sample"], dtype="float32",
                                       output_dir=str(tmp_path / "tuned"),
                                       tune_null_threshold=True))
    assert tuned["null_threshold_source"] == TUNED_HERE

    # Nothing held out: the evaluation set tunes it, and says so.
    out0 = tmp_path / "models" / "none"
    metrics0 = train(parse_args(tiny_run(tiny_checkpoints["unigram"], out0, *short,
                                         "--threshold-split", "0")))
    assert metrics0["eval_null_threshold_source"] == TUNED_HERE


def test_training_logs_carry_no_model_shard_bars():
    import transformers

    from train.finetune import setup_logging

    try:
        setup_logging(True)
        assert not transformers.utils.logging.is_progress_bar_enabled()
    finally:
        transformers.utils.logging.enable_progress_bar()


def test_a_failed_analysis_costs_only_the_analysis(caplog):
    import logging
    from types import SimpleNamespace

    from train.finetune import analysis_or_none

    broken = SimpleNamespace(eval_features={}, eval_examples={})  # no example ids at all
    with caplog.at_level(logging.ERROR, logger="train.finetune"):
        assert analysis_or_none(broken, {}, None) is None
    assert "scores are written without it" in caplog.text
