"""Stop cleanly on SIGTERM/SIGINT: finish the current step, save a checkpoint, exit.

Schedulers (Slurm, Kubernetes, spot instances) send SIGTERM before killing a job, and Ctrl-C
sends SIGINT. The first signal only sets a flag; at the end of the running optimizer step the
callback asks the Trainer to save a checkpoint and stop, so ``--resume`` continues from exactly
there. A second signal exits at once. In a distributed run every process must stop at the same
step (saving is collective), so the flag is agreed on with an all-reduce each step.

The checkpoint saved on the way out must survive the Trainer's clean-up. With
``save_total_limit: 1`` and a best checkpoint from an earlier evaluation, the Trainer deletes
every checkpoint but the best one when training ends, which would be the one just saved, and
the run would resume from the older best one. So once stopping, ``save_total_limit`` and
``load_best_model_at_end`` are switched off for the rest of this run (put back at its end):
nothing is deleted, and the newest checkpoint is the one ``--resume`` picks. Changing the
Trainer's arguments mid-run is not documented API: ``tests/test_library_contracts.py`` checks
that the Trainer still reads these two when it uses them.
"""

from __future__ import annotations

import logging
import signal
import threading

from transformers import TrainerCallback

logger = logging.getLogger(__name__)

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopOnSignal(TrainerCallback):
    """Trainer callback: save a checkpoint and stop after the step during which a signal came."""

    def __init__(self) -> None:
        self.received: int | None = None  # the signal number, once one has arrived
        self.stopped_at: int | None = None  # global step of the checkpoint saved on the way out
        self._previous: dict[int, object] = {}
        self._kept_args: dict[str, object] = {}  # settings switched off while stopping

    # ---- handlers ----------------------------------------------------------------------
    def install(self) -> None:
        """Route SIGTERM and SIGINT here. Python allows this in the main thread only; when
        training runs in another thread (an app's worker), signals keep their handlers."""
        if threading.current_thread() is not threading.main_thread():
            logger.info("Not in the main thread: SIGTERM/SIGINT will not save a checkpoint.")
            return
        for sig in HANDLED_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)

    def uninstall(self) -> None:
        """Give the signals back to whoever had them before."""
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()

    def _handle(self, signum: int, frame) -> None:
        if self.received is not None:
            self.uninstall()
            raise KeyboardInterrupt(f"second {signal.Signals(signum).name}: exiting without saving")
        self.received = signum
        logger.warning(
            "%s received: saving a checkpoint after the current step, then stopping. "
            "Send it again to exit at once.",
            signal.Signals(signum).name,
        )

    # ---- callback ----------------------------------------------------------------------
    def _agreed(self, args) -> bool:
        """True when any process has received a signal."""
        flag = self.received is not None
        if args.world_size > 1:
            import torch
            import torch.distributed as dist

            if dist.is_available() and dist.is_initialized():
                tensor = torch.tensor([int(flag)], device=args.device)
                dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
                flag = bool(tensor.item())
        if flag and self.received is None:
            self.received = signal.SIGTERM  # another process got it
        return flag

    def _keep_every_checkpoint(self, args) -> None:
        """Let no checkpoint be deleted from now on (the one about to be saved included), and
        skip loading the best model at the end: this run stops, it does not finish."""
        for name, off in (("save_total_limit", None), ("load_best_model_at_end", False)):
            if name not in self._kept_args:
                self._kept_args[name] = getattr(args, name)
                setattr(args, name, off)

    def on_step_end(self, args, state, control, **kwargs):
        if self._agreed(args):
            self._keep_every_checkpoint(args)
            control.should_save = True
            control.should_training_stop = True
            self.stopped_at = state.global_step
        return control

    def on_epoch_end(self, args, state, control, **kwargs):
        if self._agreed(args):
            self._keep_every_checkpoint(args)
            # The checkpoint of this step is saved already: skip the end-of-epoch evaluation.
            control.should_evaluate = False
            control.should_save = self.stopped_at != state.global_step
            control.should_training_stop = True
            self.stopped_at = state.global_step
        return control

    def on_train_end(self, args, state, control, **kwargs):
        for name, value in self._kept_args.items():
            setattr(args, name, value)
        self._kept_args.clear()
        if self.stopped_at is not None:
            logger.warning(
                "Stopped at step %d; checkpoint-%d is kept for --resume.",
                self.stopped_at,
                self.stopped_at,
            )
        return control
