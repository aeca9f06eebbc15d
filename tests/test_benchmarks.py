"""The quality benchmark's budgets turn into train.finetune arguments that parse (no training)."""

import importlib.util
import sys
from pathlib import Path

import pytest

from train.args import parse_args

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_quality.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_quality", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def test_small_budget_is_the_preset_on_1500_questions(bench, tmp_path):
    cfg = parse_args(bench.viqa_argv(bench.BUDGETS["small"], tmp_path, tmp_path / "out",
                                     tmp_path, []))
    assert cfg.data.max_train_samples == 1500 and cfg.data.max_eval_samples == 600
    assert cfg.training.learning_rate == pytest.approx(3e-4)  # the small-encoder preset's
    assert cfg.qa.null_window_rate == pytest.approx(0.03)


def test_gpu_budget_trains_on_everything_and_keeps_every_window(bench, tmp_path):
    cfg = parse_args(bench.viqa_argv(bench.BUDGETS["gpu"], tmp_path, tmp_path / "out",
                                     tmp_path, []))
    assert cfg.data.max_train_samples is None and cfg.data.max_eval_samples is None
    assert cfg.training.num_train_epochs == 8 and cfg.qa.max_length == 384
    assert cfg.training.learning_rate == pytest.approx(1e-4)
    assert cfg.training.per_device_train_batch_size == 32
    assert cfg.qa.null_window_rate == 1 and cfg.qa.unanswerable_window_rate == 1


def test_extra_arguments_come_last_and_win(bench, tmp_path):
    cfg = parse_args(bench.viqa_argv(bench.BUDGETS["gpu"], tmp_path, tmp_path / "out",
                                     tmp_path, ["--learning-rate", "5e-5"]))
    assert cfg.training.learning_rate == pytest.approx(5e-5)
