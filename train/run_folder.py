"""The output folder of a training run: its checkpoints, where a run resumes, and the clean-up
that leaves no half-made folder behind when a run fails before saving anything."""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

from train.args import TrainConfigError

logger = logging.getLogger("train.finetune")

_CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")


class TrainingStopped(Exception):
    """Training stopped on SIGTERM/SIGINT after saving a checkpoint."""

    def __init__(self, signum: int, checkpoint: str | None, resume_hint: str):
        self.signum = signum
        self.checkpoint = checkpoint
        name = signal.Signals(signum).name
        super().__init__(
            f"Stopped by {name}; checkpoint saved at {checkpoint}. Continue with: {resume_hint}"
        )


def last_complete_checkpoint(output_dir: str | Path) -> str | None:
    """The newest ``checkpoint-N`` with its ``trainer_state.json`` (written last, so a
    checkpoint cut short by a crash is never picked)."""
    root = Path(output_dir)
    if not root.is_dir():
        return None
    steps = []
    for child in root.iterdir():
        match = _CHECKPOINT_RE.match(child.name)
        if match and (child / "trainer_state.json").is_file():
            steps.append((int(match.group(1)), child))
    return str(max(steps)[1]) if steps else None


def stopped_checkpoint(output_dir: str | Path, step: int | None) -> str | None:
    """The checkpoint saved when a signal stopped training at ``step`` (the newest complete
    one if that is missing)."""
    path = Path(output_dir) / f"checkpoint-{step}"
    if step is not None and (path / "trainer_state.json").is_file():
        return str(path)
    return last_complete_checkpoint(output_dir)


@contextlib.contextmanager
def removed_on_failure(output_dir: str | Path, is_main: bool = True) -> Iterator[None]:
    """Remove ``output_dir`` when the block fails, if the block created it and it holds
    nothing worth keeping (no complete checkpoint to resume from, no saved model)."""
    root = Path(output_dir)
    existed = root.exists()
    try:
        yield
    except BaseException:
        worthless = last_complete_checkpoint(root) is None and not (root / "config.json").exists()
        if is_main and not existed and root.is_dir() and worthless:
            shutil.rmtree(root, ignore_errors=True)
            logger.info("Removed %s: the run failed before saving anything in it.", root)
        raise


def resume_point(output_dir: str | Path, resume: bool, overwrite: bool) -> str | None:
    """The checkpoint to resume from, or None to start afresh; refuses to mix two runs."""
    last = last_complete_checkpoint(output_dir)
    if resume:
        if last is None:
            raise TrainConfigError(
                f"--resume: {output_dir} has no complete checkpoint to continue from. Drop "
                "--resume to start a new run, or point --output-dir at the earlier run."
            )
        return last
    if last is not None and not overwrite:
        raise TrainConfigError(
            f"{output_dir} already holds checkpoints of an earlier run (last: {Path(last).name}). "
            "Pass --resume to continue it, --overwrite-output-dir to start afresh, or choose "
            "another --output-dir."
        )
    return None


def clear_checkpoints(output_dir: Path) -> None:
    """Delete the ``checkpoint-N`` folders of an earlier run (``--overwrite-output-dir``)."""
    for child in output_dir.glob("checkpoint-*"):
        if child.is_dir():
            shutil.rmtree(child)
