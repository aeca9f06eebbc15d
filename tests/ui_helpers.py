"""What the tests of the ui package share: one question about one passage, the app state built
on the tiny offline checkpoints, and readers of the components the handlers return."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from ui.settings import Settings
from ui.state import ViqaApp

CONTEXT = (
    "Trận Bạch Đằng năm 938 là trận thủy chiến giữa quân dân Việt do Ngô Quyền chỉ huy và quân "
    "Nam Hán. Năm 939, Ngô Quyền xưng vương, đóng đô ở Cổ Loa."
)
QUESTION = "Ngô Quyền đóng đô ở đâu?"
FAMILIES = ["wordpiece", "unigram"]


def make_state(models_dir: Path, **settings) -> ViqaApp:
    """The app's state over ``models_dir`` with small limits the tests can reach (and any
    other ``Settings`` field given)."""
    settings = Settings(**{"models_dir": str(models_dir), "max_context_chars": 5_000,
                           "max_batch_rows": 50, "cache_size": 2, **settings})
    return ViqaApp(settings)


# What a run of train.finetune saves beside the model: its windows, span limit and tuned threshold.
TRAINED = dict(max_length=128, doc_stride=32, max_answer_length=12, allow_no_answer=True,
               null_threshold=-1.25)


def trained_copy(source: Path, target: Path, record: dict | None = None, **trained) -> Path:
    """A copy of the checkpoint ``source`` with the ``viqa_training.json`` that training writes
    (settings ``TRAINED`` unless given; ``record``: more of its fields)."""
    import shutil

    from train.model_card import TrainingRecord

    values = {**TRAINED, **trained}
    shutil.copytree(source, target, symlinks=False)
    TrainingRecord(
        base_model="tiny:wordpiece", train_datasets=["sample"], eval_datasets=["sample"],
        eval_split="validation", allow_no_answer=values["allow_no_answer"],
        null_threshold=values["null_threshold"], null_threshold_source="tuned on sample",
        settings={k: values[k] for k in ("max_length", "doc_stride", "max_answer_length")},
        **(record or {}),
    ).save(target)
    return target


def reference(viqa, checkpoint, question=QUESTION, context=CONTEXT, **options):
    """What the reader itself answers: the app must show exactly this."""
    options.setdefault("include_tokens", True)
    return viqa.readers.get(viqa.resolve(checkpoint)).answer(question, context, **options)


def joined(highlighted: gr.HighlightedText) -> str:
    return "".join(piece["token"] for piece in highlighted.value)


def labelled_offsets(highlighted: gr.HighlightedText) -> dict[str, tuple[int, int, str]]:
    """First piece of each label: (start, end, text) in the context."""
    out, pos = {}, 0
    for piece in highlighted.value:
        label, token = piece["class_or_confidence"], piece["token"]
        if label is not None and label not in out:
            out[label] = (pos, pos + len(token), token)
        pos += len(token)
    return out
