"""SIGTERM mid-training leaves a loadable checkpoint; --resume continues at the right step."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from train_cli import REPO, subprocess_env, tiny_run

from qa_core import load_reader
from train.args import parse_args
from train.finetune import train
from train.run_folder import TrainingStopped, resume_point
from train.signals import StopOnSignal


@pytest.mark.slow
def test_sigterm_saves_a_checkpoint_then_resume_continues(tiny_checkpoints, tmp_path):
    out = tmp_path / "run"
    args = tiny_run(
        tiny_checkpoints["unigram"],
        out,
        "--eval-strategy",
        "no",
        "--max-length",
        "256",
        "--doc-stride",
        "64",
        "--logging-steps",
        "1",
        "--per-device-train-batch-size",
        "4",
        "--save-strategy",
        "steps",
        "--save-steps",
        "1000",
        eval_on_sample=False,
    )
    env = subprocess_env(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "train.finetune", *args, "--max-steps", "1000"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        seen = []
        deadline = time.monotonic() + 120
        for line in proc.stdout:  # wait until training is under way
            seen.append(line)
            if "'loss'" in line or time.monotonic() > deadline:
                break
        assert any("'loss'" in line for line in seen), "".join(seen)[-3000:]
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    log = "".join(seen) + rest
    assert proc.returncode == 128 + signal.SIGTERM, log[-3000:]
    assert "SIGTERM received" in log and "--resume" in log

    checkpoints = sorted(out.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    assert len(checkpoints) == 1, log[-3000:]
    stopped = int(checkpoints[0].name.split("-")[1])
    assert 1 <= stopped < 1000
    state = json.loads((checkpoints[0] / "trainer_state.json").read_text())
    assert state["global_step"] == stopped
    assert (checkpoints[0] / "optimizer.pt").is_file()
    assert (
        load_reader(str(checkpoints[0]), device="cpu", dtype="float32")
        .answer("Ai chỉ huy?", "Ngô Quyền chỉ huy quân dân Việt.")
        .answers
    )
    assert not (out / "config.json").exists()  # an interrupted run is not a final model

    target = stopped + 3
    resumed = subprocess.run(
        [sys.executable, "-m", "train.finetune", *args, "--max-steps", str(target), "--resume"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    final = json.loads((out / f"checkpoint-{target}" / "trainer_state.json").read_text())
    steps = [entry["step"] for entry in final["log_history"] if "loss" in entry]
    # The history runs on from the interrupted run: no step trained twice, none skipped.
    assert steps == list(range(1, target + 1)), steps
    assert json.loads((out / "viqa_training.json").read_text())["global_step"] == target


class _Args:
    world_size = 1
    device = "cpu"
    save_total_limit = 1
    load_best_model_at_end = True


class _Control:
    should_save = should_training_stop = should_evaluate = False


class _State:
    global_step = 7


def test_first_signal_stops_after_the_step_second_exits():
    stop = StopOnSignal()
    stop.install()
    try:
        assert signal.getsignal(signal.SIGTERM) == stop._handle
        control = stop.on_step_end(_Args(), _State(), _Control())
        assert not control.should_save and stop.stopped_at is None
        signal.raise_signal(signal.SIGTERM)
        control = stop.on_step_end(_Args(), _State(), _Control())
        assert control.should_save and control.should_training_stop and stop.stopped_at == 7
        control = stop.on_epoch_end(_Args(), _State(), _Control())  # same step: saved already
        assert not control.should_save and not control.should_evaluate
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    finally:
        stop.uninstall()
    assert signal.getsignal(signal.SIGTERM) != stop._handle


def test_install_outside_the_main_thread_is_a_no_op():
    import threading

    stop = StopOnSignal()
    before = signal.getsignal(signal.SIGTERM)
    worker = threading.Thread(target=stop.install)
    worker.start()
    worker.join()
    assert signal.getsignal(signal.SIGTERM) == before
    stop.uninstall()


def test_stopping_keeps_every_checkpoint_until_the_run_ends():
    # With save_total_limit 1 the Trainer would delete the checkpoint saved on the signal
    # (not the best one) when training ends; stopping switches that off for this run only.
    stop, args = StopOnSignal(), _Args()
    stop.on_step_end(args, _State(), _Control())
    assert (args.save_total_limit, args.load_best_model_at_end) == (1, True)  # no signal yet
    stop.received = signal.SIGTERM
    stop.on_step_end(args, _State(), _Control())
    stop.on_epoch_end(args, _State(), _Control())
    assert (args.save_total_limit, args.load_best_model_at_end) == (None, False)
    stop.on_train_end(args, _State(), _Control())
    assert (args.save_total_limit, args.load_best_model_at_end) == (1, True)


@pytest.mark.slow
def test_sigterm_checkpoint_survives_save_total_limit_1(tiny_checkpoints, tmp_path, monkeypatch):
    # The smoke preset's setting: evaluate and save every epoch, keep one checkpoint (and the
    # best). A signal after the first evaluation, mid-epoch, must leave its own checkpoint.
    out = tmp_path / "run"
    args = tiny_run(
        tiny_checkpoints["unigram"],
        out,
        *[
            "--max-length",
            "256",
            "--doc-stride",
            "64",
            "--per-device-train-batch-size",
            "4",
            "--max-train-samples",
            "12",
            "--max-eval-samples",
            "6",
            "--eval-strategy",
            "epoch",
            "--save-total-limit",
            "1",
            "--num-train-epochs",
            "4",
            "--logging-steps",
            "1",
        ],
        "--dataset-cache-dir",
        str(tmp_path / "cache"),
    )
    fired = {}

    def signal_mid_epoch(self, args, state, control, **kwargs):
        best = state.best_model_checkpoint
        if best and not fired and state.global_step > int(best.rsplit("-", 1)[1]):
            fired["step"] = state.global_step + 1  # the step now starting
            signal.raise_signal(signal.SIGTERM)
        return control

    monkeypatch.setattr(StopOnSignal, "on_step_begin", signal_mid_epoch, raising=False)
    with pytest.raises(TrainingStopped) as info:
        train(parse_args(args))
    step = fired["step"]
    saved = out / f"checkpoint-{step}"
    assert str(saved) in str(info.value)  # the message names the signal's checkpoint
    state = json.loads((saved / "trainer_state.json").read_text())
    assert state["global_step"] == step and state["best_model_checkpoint"] != str(saved)
    assert resume_point(out, resume=True, overwrite=False) == str(saved)

    metrics = train(parse_args([*args, "--resume", "--max-steps", str(step + 2)]))
    assert metrics["global_step"] == step + 2
