"""The Evaluate tab: EM and F1 under both normalisations on the first N examples of a split,
and a table of the misses."""

from __future__ import annotations

import time

import gradio as gr
import pandas as pd

from qa_core.metrics import compute_all
from ui import display
from ui.state import ViqaApp
from ui.widgets import (
    DATA_FILE_TYPES,
    checkpoint_picker,
    source_changed,
    source_choices,
    user_error,
    user_errors,
    warn_user,
)

METRIC_COLUMNS = ["metric", "SQuAD", "MLQA-vi"]


class EvaluateHandlers:
    """The Evaluate button."""

    def __init__(self, app: ViqaApp):
        self.app = app

    def evaluate(self, checkpoint: str, source: str, split: str, upload: str | None, n: float,
                 allow_no_answer: bool, null_threshold: float = 0.0,
                 progress: gr.Progress = gr.Progress()):  # noqa: B008
        """Evaluate tab: EM/F1 under both normalisations on the first N examples, and misses."""
        app, limit = self.app, self.app.settings.max_context_chars
        view = app.dataset(app.source_of(source, upload), split)
        rows = view.rows[: max(1, int(n))]
        if not rows:
            raise user_error("The dataset is empty.")
        too_long = [r["id"] for r in rows if len(r["context"]) > limit]
        if too_long:
            warn_user(f"{len(too_long)} examples have contexts over {limit:,} characters; they "
                      "are skipped.")
            rows = [r for r in rows if len(r["context"]) <= limit]
        reader = app.get_reader(checkpoint, progress)
        started = time.perf_counter()
        preds = app.answer_all(
            reader, [r["question"] for r in rows], [r["context"] for r in rows], "evaluate",
            progress, allow_no_answer=bool(allow_no_answer), null_threshold=float(null_threshold),
        )
        elapsed = time.perf_counter() - started
        ids = [r["id"] for r in rows]
        golds = [r["answers"]["text"] for r in rows]
        with user_errors("score the predictions"):
            results = compute_all(dict(zip(ids, golds)), {i: p.best_text for i, p in zip(ids, preds)})
        metrics = pd.DataFrame(display.metrics_rows(results), columns=METRIC_COLUMNS)
        misses = pd.DataFrame(
            display.miss_rows(ids, [r["question"] for r in rows], golds, preds),
            columns=display.MISS_COLUMNS,
        )
        summary = (
            f"**{display.escape_markdown(checkpoint)}** on {len(rows):,} questions of "
            f"{display.escape_markdown(view.label)}: EM **{results['squad']['exact_match']:.1f}**, "
            f"F1 **{results['squad']['f1']:.1f}** (SQuAD) · EM "
            f"**{results['mlqa-vi']['exact_match']:.1f}**, F1 **{results['mlqa-vi']['f1']:.1f}** "
            f"(MLQA-vi) · {len(misses)} misses · {elapsed:.1f} s "
            f"({len(rows) / max(elapsed, 1e-9):.1f} questions/s)."
        )
        return summary, metrics, misses


def build(app: ViqaApp, start_checkpoint: str) -> gr.Dropdown:
    """Lay out the Evaluate tab and wire its events (``evaluate_ui``); returns its picker."""
    handlers = EvaluateHandlers(app)
    with gr.Tab("Evaluate", id="evaluate"):
        with gr.Row(equal_height=True):
            checkpoint = checkpoint_picker(app.checkpoint_choices(), "Checkpoint",
                                           start_checkpoint, "ev-ckpt", scale=3)
            source = gr.Dropdown(source_choices(), value="sample", label="Source", scale=2)
            split = gr.Dropdown(["validation", "train"], value="validation", label="Split",
                                scale=1)
        upload = gr.File(label="SQuAD-format file (.json, .jsonl, .csv, .parquet)",
                         file_types=DATA_FILE_TYPES, type="filepath", visible=False)
        with gr.Row(equal_height=True):
            n = gr.Slider(1, 2000, value=54, step=1, scale=3,
                          label="Number of examples (the first N of the split)")
            allow_null = gr.Checkbox(value=True, label="Allow “no answer” (for SQuAD 2.0 "
                                     "data: the sample, UIT-ViQuAD)", scale=2)
            threshold = gr.Slider(-10, 10, value=0.0, step=0.1, scale=2,
                                  label="No-answer threshold")
        button = gr.Button("Evaluate", variant="primary", elem_id="ev-button")
        summary = gr.Markdown("", elem_id="ev-summary")
        metrics = gr.Dataframe(headers=METRIC_COLUMNS, interactive=False, label="Scores (%)",
                               elem_classes=["viqa-table"])
        misses = gr.Dataframe(headers=display.MISS_COLUMNS, interactive=False, wrap=True,
                              label="Misses (click a header to sort)", max_height=480,
                              elem_classes=["viqa-table"],
                              column_widths=["12%", "32%", "18%", "17%", "7%", "7%", "7%"])

    source.change(source_changed, source, [split, upload], api_visibility="private")
    button.click(handlers.evaluate,
                 [checkpoint, source, split, upload, n, allow_null, threshold],
                 [summary, metrics, misses], concurrency_limit=1, concurrency_id="long-jobs",
                 api_visibility="undocumented", api_name="evaluate_ui")
    return checkpoint
