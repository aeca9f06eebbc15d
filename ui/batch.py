"""The Batch tab: a CSV/JSONL of questions and contexts in, predictions out (shown, and offered
as CSV and JSON downloads). Reading the file and writing the predictions is
``qa_core.batch``'s, the same code as ``python -m qa_core predict``."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import gradio as gr
import pandas as pd

from qa_core.batch import (
    PREDICTION_FIELDS,
    prediction_records,
    read_batch_file,
    write_predictions,
)
from ui import tables
from ui.feedback import errors_shown_in, user_error, user_errors
from ui.i18n import DEFAULT_LANGUAGE, Labels, language, t
from ui.state import ViqaApp
from ui.text import escape_markdown
from ui.widgets import checkpoint_picker, follow_checkpoint

BATCH_FILE_TYPES = [".csv", ".jsonl", ".json"]
DOWNLOADS_MAX_AGE_S = 3600  # download folders older than this are removed
SHOWN_DECIMALS = 4  # probabilities in the page's table


class BatchHandlers:
    """Reading an uploaded file, answering every row and writing the downloads."""

    def __init__(self, app: ViqaApp, tmp_root: Path | None = None):
        self.app = app
        self.tmp_root = tmp_root or Path(tempfile.gettempdir()) / "viqa-app"

    def _output_dir(self) -> Path:
        """A fresh folder for downloads; folders older than an hour are removed."""
        self.tmp_root.mkdir(parents=True, exist_ok=True)
        for old in self.tmp_root.iterdir():
            if time.time() - old.stat().st_mtime > DOWNLOADS_MAX_AGE_S:
                shutil.rmtree(old, ignore_errors=True)
        return Path(tempfile.mkdtemp(dir=self.tmp_root, prefix="batch-"))

    def batch(self, path: str | None, checkpoint: str, allow_no_answer: bool,
              max_answer_length: float, request: gr.Request = None,
              progress: gr.Progress = gr.Progress()):  # noqa: B008
        """Batch tab: predictions for every row, shown and offered as CSV and JSON."""
        lang = language(request)
        if not path:
            raise user_error(t("error.no_batch_file", lang), t("title.no_file", lang))
        settings = self.app.settings
        with user_errors("read_file", lang):
            rows = read_batch_file(path, settings.max_batch_rows, settings.max_context_chars)
        reader = self.app.get_reader(checkpoint, lang, progress)
        options = self.app.options_for(reader, lang, top_n=1,
                                       max_answer_length=int(max_answer_length),
                                       allow_no_answer=bool(allow_no_answer))
        preds = self.app.answer_all(checkpoint, rows.questions, rows.contexts, options, lang,
                                    progress)
        records = prediction_records(rows.ids, preds)
        paths = write_predictions(records, self._output_dir())
        # The page shows 4 decimals; the downloads keep every digit.
        shown = pd.DataFrame(records, columns=list(PREDICTION_FIELDS)).round(
            {"probability": SHOWN_DECIMALS})
        shown.columns = tables.headers(PREDICTION_FIELDS, lang)
        return (t("batch.summary", lang, questions=t("count.questions", lang, n=len(records)),
                  checkpoint=escape_markdown(checkpoint)), shown, [str(p) for p in paths])



def cleared_results(lang: str = DEFAULT_LANGUAGE) -> dict[int, object]:
    """What a failed batch leaves under its message: no table, no files of an earlier run."""
    return {1: None, 2: None}


def build(app: ViqaApp, labels: Labels, start_checkpoint: str) -> gr.Dropdown:
    """Lay out the Batch tab and wire its events (``batch_ui``); returns its picker."""
    handlers = BatchHandlers(app)
    with labels(gr.Tab(t("tab.batch"), id="batch"), label="tab.batch"):
        labels(gr.Markdown(t("batch.intro")), value="batch.intro")
        with gr.Row(equal_height=False):
            file = labels(gr.File(label=t("batch.file"), file_types=BATCH_FILE_TYPES,
                                  type="filepath", scale=2, elem_id="b-file", min_width=280),
                          label="batch.file")
            with gr.Column(scale=2, min_width=280):
                checkpoint = checkpoint_picker(app, labels, "ask.checkpoint", start_checkpoint,
                                               "b-ckpt")
                allow_null = labels(gr.Checkbox(value=False, label=t("data.allow_no_answer")),
                                    label="data.allow_no_answer")
                max_len = labels(gr.Slider(1, 100, value=30, step=1,
                                           label=t("options.max_answer_length")),
                                 label="options.max_answer_length")
                button = labels(gr.Button(t("batch.button"), variant="primary",
                                          elem_id="b-button"), value="batch.button")
        summary = gr.Markdown("", elem_id="b-summary")
        table = gr.Dataframe(headers=tables.headers(PREDICTION_FIELDS), interactive=False,
                             wrap=True, label=t("batch.table"), max_height=420,
                             elem_classes=["viqa-table"], elem_id="b-table",
                             column_widths=["10%", "32%", "24%", "11%", "7%", "7%", "9%"])
        labels.custom(table, lambda lang: gr.Dataframe(
            value=tables.frame([], PREDICTION_FIELDS, lang), label=t("batch.table", lang)))
        files = labels(gr.File(label=t("batch.downloads"), file_count="multiple",
                               interactive=False), label="batch.downloads")

    follow_checkpoint(app, checkpoint, allow_no_answer=allow_null, max_answer_length=max_len)
    # A failed batch says why in the summary (after the toast) and shows no older results.
    batch = errors_shown_in(handlers.batch, 0, 3, cleared_results)
    button.click(batch, [file, checkpoint, allow_null, max_len], [summary, table, files],
                 concurrency_limit=1, concurrency_id="long-jobs", api_visibility="undocumented",
                 api_name="batch_ui")
    return checkpoint
