"""train.args: defaults from the issue, config files and presets, refusals with clear messages."""

from __future__ import annotations

import dataclasses
import importlib.util
import json

import pytest

from qa_core.model.precision import cpu_has_native_bf16
from train.args import (
    ARGUMENT_CLASSES,
    CONFIG_DIR,
    TrainConfigError,
    build_parser,
    default_run_name,
    parse_args,
    resolve_preset,
)


def test_defaults_follow_the_issue():
    cfg = parse_args([])
    assert cfg.model.model_name_or_path == "xlm-roberta-base"
    assert cfg.model.attn_implementation == "sdpa"
    assert cfg.data.train_dataset == ["mlqa-translate-train.vi"]
    assert (cfg.qa.max_length, cfg.qa.doc_stride) == (384, 128)
    t = cfg.training
    assert (t.learning_rate, t.num_train_epochs, t.warmup_steps, t.weight_decay) == (
        3e-5,
        2.0,
        0.1,
        0.01,
    )
    assert t.report_to == [] and t.train_sampling_strategy == "group_by_length"
    assert t.optim.value == "adamw_torch_fused"
    assert t.load_best_model_at_end and t.metric_for_best_model == "mlqa_vi_f1"
    assert t.eval_strategy.value == t.save_strategy.value == "epoch"
    assert not t.fp16 and t.bf16 == cpu_has_native_bf16()  # CPU-only here
    assert t.output_dir == "models/xlm-roberta-base_mlqa-translate-train.vi"


@pytest.mark.parametrize("cls", ARGUMENT_CLASSES, ids=lambda c: c.__name__)
def test_every_field_has_help(cls):
    missing = [f.name for f in dataclasses.fields(cls) if f.init and not f.metadata.get("help")]
    assert not missing


def test_help_lists_our_options(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for option in (
        "--model-name-or-path",
        "--train-dataset",
        "--max-train-samples",
        "--doc-stride",
        "--preset",
        "--resume",
        "--push-to-hub",
    ):
        assert option in out


def help_text(capsys, *argv: str, main=None) -> str:
    with pytest.raises(SystemExit) as done:
        (main or build_parser().parse_args)(list(argv))
    assert done.value.code == 0
    return capsys.readouterr().out


def test_the_help_is_short_and_lists_the_presets(capsys):
    from train.args import presets

    out = help_text(capsys, "--help")
    assert len(out.splitlines()) < 260  # viqa's options and the common training ones
    assert "--adam-beta1" not in out and "--learning-rate" in out and "--bf16" in out
    assert set(presets()) == {"smoke", "mlqa-vi", "uit-viquad2", "small-encoder", "phobert"}
    for name in presets():
        assert f"'{name}'" in out  # each preset, with what it is
    assert "--max_train_samples" not in out  # one spelling per option
    assert_defaults_said_once(out)
    assert "--adam-beta1" in help_text(capsys, "--help-all")


def assert_defaults_said_once(out: str) -> None:
    """No option's help states its default and then gets "(default: …)" appended as well."""
    import re

    assert "(default: None)" not in out
    blocks = re.split(r"\n  (?=-)", out)
    twice = [b for b in blocks if "(default:" in b and b.lower().count("default") > 1]
    assert not twice, twice


def test_the_evaluate_help_says_each_default_once(capsys):
    from train.evaluate import main

    out = help_text(capsys, "--help", main=main)
    assert "--max-samples" in out and "--max_samples" not in out
    assert_defaults_said_once(out)
    for name in ("predictions.json", "nbest_predictions.json", "metrics.json",
                 "predictions_detail.jsonl"):
        assert name in out
    assert "three files" not in out


def test_dashes_and_underscores_both_work():
    a = parse_args(["--max-train-samples", "5", "--doc_stride", "64"])
    assert a.data.max_train_samples == 5 and a.qa.doc_stride == 64


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_config_file_then_command_line(tmp_path, suffix):
    values = {
        "model_name_or_path": "tiny:wordpiece",
        "train_dataset": "sample",
        "learning-rate": 1e-3,
        "max_length": 256,
    }
    path = tmp_path / f"run{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(values))
    else:
        import yaml

        path.write_text(yaml.safe_dump(values))
    cfg = parse_args(["--config", str(path), "--max-length", "320"])
    assert cfg.model.model_name_or_path == "tiny:wordpiece"
    assert cfg.data.train_dataset == ["sample"]  # a single string becomes a list
    assert cfg.training.learning_rate == 1e-3
    assert cfg.qa.max_length == 320  # the command line wins
    assert cfg.training.output_dir == "models/tiny-wordpiece_sample"


def test_smoke_preset_is_offline_and_on_cpu():
    cfg = parse_args(["--preset", "smoke"])
    assert cfg.model.model_name_or_path.startswith("tiny:")
    assert cfg.data.train_dataset == ["sample"] and cfg.training.use_cpu
    assert {p.stem for p in CONFIG_DIR.glob("*.yaml")} >= {"smoke", "mlqa-vi", "uit-viquad2"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--preset", "nope"], "available: "),
        (["--model-name-or-path", "tiny:bpe"], "tiny:unigram"),
        (["--hub-token", "hf_secret"], "HF_TOKEN"),
        (["--push-to-hub"], "--hub-model-id"),
        (["--max-train-samples", "0"], "at least 1"),
        (["--max-length", "128", "--doc-stride", "100"], "doc_stride"),
        (["--not-an-option", "1"], "Unknown argument"),
        (["--threshold-split", "0.6"], r"threshold_split=0.6 must be a share in \[0, 0.5\)"),
        (["--threshold-split", "-0.1"], "or 0 to hold nothing out"),
        (["--null-window-rate", "0"], r"null_window_rate=0.0 must be in \(0, 1\]"),
        (["--unanswerable-window-rate", "1.5"], r"unanswerable_window_rate=1.5 must be in"),
        (["--attention-dropout", "-0.1"], r"attention_dropout=-0.1 must be in \[0, 1\)"),
        pytest.param(
            ["--report-to", "tensorboard"],
            "pip install tensorboard",
            marks=pytest.mark.skipif(
                importlib.util.find_spec("tensorboard") is not None,
                reason="tensorboard is installed",
            ),
        ),
    ],
)
def test_bad_arguments_say_what_to_do(argv, message):
    with pytest.raises(ValueError, match=message):
        parse_args(argv)


def test_unknown_config_key_is_named(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("learning_rat: 0.1\n")
    with pytest.raises(TrainConfigError, match="learning_rat"):
        parse_args(["--config", str(path)])


def test_token_never_reaches_the_arguments():
    # Neither our fields nor a config file can carry a token.
    with pytest.raises(ValueError, match="not accepted"):
        parse_args(["--hub-token", "hf_x"])


def test_resolve_preset_and_run_names():
    assert resolve_preset("smoke").name == "smoke.yaml"
    assert default_run_name("org/model", ["a.csv", "uit-viquad2:train"]) == "model_a+uit-viquad2"


def test_eval_off_turns_best_model_off():
    cfg = parse_args(["--eval-strategy", "no"])
    assert not cfg.training.load_best_model_at_end
    assert cfg.training.save_strategy.value == "epoch"
    steps = parse_args(["--eval-strategy", "steps", "--eval-steps", "20"]).training
    assert steps.save_strategy.value == "steps" and steps.save_steps == 20


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_config_parses(path):
    cfg = parse_args(["--config", str(path)])
    assert cfg.data.train_dataset and cfg.training.output_dir.startswith("models/")


def test_threshold_split_and_null_window_defaults():
    cfg = parse_args([])
    assert cfg.data.threshold_split == 0.05  # the threshold is never tuned on the eval set
    assert cfg.qa.null_window_rate == 1.0  # every window, until a budget shows a better rate
    assert cfg.qa.unanswerable_window_rate == 1.0 and cfg.model.attention_dropout is None
    cfg = parse_args(["--threshold-split", "0", "--null-window-rate", "0.3"])
    assert cfg.data.threshold_split == 0.0 and cfg.qa.null_window_rate == 0.3


def test_small_encoder_preset_holds_the_measured_recipe_and_yields_to_the_command_line():
    cfg = parse_args(["--preset", "small-encoder", "--model-name-or-path", "minilm"])
    assert cfg.model.model_name_or_path == "minilm"
    assert cfg.training.learning_rate == 3e-4 and cfg.training.per_device_train_batch_size == 8
    assert cfg.qa.max_answer_length == 64
    assert cfg.qa.null_window_rate == cfg.qa.unanswerable_window_rate == 0.03
    cfg = parse_args(["--preset", "small-encoder", "--unanswerable-window-rate", "1"])
    assert cfg.qa.unanswerable_window_rate == 1.0
