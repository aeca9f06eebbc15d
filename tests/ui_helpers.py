"""What the tests of the ui package share: one question about one passage, the app state built
on the tiny offline checkpoints, and readers of the components the handlers return."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from qa_core.checkpoints import ReaderCache
from ui.settings import Settings
from ui.state import ViqaApp

CONTEXT = (
    "Trận Bạch Đằng năm 938 là trận thủy chiến giữa quân dân Việt do Ngô Quyền chỉ huy và quân "
    "Nam Hán. Năm 939, Ngô Quyền xưng vương, đóng đô ở Cổ Loa."
)
QUESTION = "Ngô Quyền đóng đô ở đâu?"
FAMILIES = ["wordpiece", "unigram"]


def make_state(models_dir: Path) -> ViqaApp:
    """The app's state over ``models_dir`` with small limits the tests can reach."""
    settings = Settings(models_dir=str(models_dir), max_context_chars=5_000, max_batch_rows=50)
    return ViqaApp(settings, ReaderCache(maxsize=2))


def reference(viqa, checkpoint, question=QUESTION, context=CONTEXT, **options):
    """What the reader itself answers: the app must show exactly this."""
    return viqa.readers.get(checkpoint).reader.answer(question, context, **options)


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
