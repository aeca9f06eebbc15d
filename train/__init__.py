"""Fine-tune, evaluate and publish Vietnamese extractive QA models.

Command lines: ``python -m train.finetune``, ``python -m train.evaluate``, ``python -m train.push``.
From Python::

    from train import parse_args, train
    metrics = train(parse_args(["--preset", "smoke"]))

Windows, labels, span search and metrics come from ``qa_core``; this package wires them to the
``transformers`` Trainer, the Hub and the command line.
"""

import importlib

# Names resolved on first use: importing ``train.finetune`` here would make
# ``python -m train.finetune`` import the module twice (runpy's RuntimeWarning).
_EXPORTS = {
    "FinetuneConfig": "train.args",
    "TrainConfigError": "train.args",
    "parse_args": "train.args",
    "TrainingStopped": "train.run_folder",
    "train": "train.finetune",
    "EvaluateArguments": "train.evaluate",
    "push_model": "train.push",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'train' has no attribute {name!r}")
