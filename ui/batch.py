"""The Batch tab: a CSV/JSONL of questions and contexts in, predictions out (shown, and offered
as CSV and JSON downloads)."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import gradio as gr
import pandas as pd

from qa_core.textnorm import is_blank
from ui import display
from ui.state import ViqaApp
from ui.widgets import checkpoint_picker, errors_shown_in, follow_checkpoint, user_error

BATCH_FILE_TYPES = [".csv", ".jsonl", ".json"]
DOWNLOADS_MAX_AGE_S = 3600  # download folders older than this are removed
SHOWN_DECIMALS = 4  # probabilities in the page's table


class BatchHandlers:
    """Reading an uploaded file, answering every row and writing the downloads."""

    def __init__(self, app: ViqaApp, tmp_root: Path | None = None):
        self.app = app
        self.tmp_root = tmp_root or Path(tempfile.gettempdir()) / "viqa-app"

    def read_batch_file(self, path: str | None) -> pd.DataFrame:
        """An uploaded CSV/JSONL/JSON of questions and contexts, checked row by row."""
        settings = self.app.settings
        if not path:
            raise user_error("Upload a CSV or JSONL file with the columns question and context "
                             "(and optionally id).", title="No file")
        name = Path(path).name
        suffix = Path(path).suffix.lower()
        expected = ("Expected a UTF-8 CSV with a header row naming the columns question and "
                    "context (and optionally id), or JSON Lines with those keys.")
        try:
            if suffix == ".csv":
                df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
            elif suffix in (".jsonl", ".json"):
                try:
                    df = pd.read_json(path, lines=True, dtype=False, encoding="utf-8")
                except ValueError:
                    df = pd.read_json(path, dtype=False, encoding="utf-8")  # a JSON array
            else:
                raise user_error(f"{name}: unsupported file type {suffix!r}. {expected}")
        except gr.Error:
            raise
        except (UnicodeDecodeError, ValueError, OSError, pd.errors.ParserError) as exc:
            raise user_error(f"Could not read {name}: {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''}. {expected}",
                             title="Unreadable file") from exc
        df.columns = [str(c).strip().lower() for c in df.columns]
        missing = [c for c in ("question", "context") if c not in df.columns]
        if missing:
            raise user_error(f"{name} has no {' or '.join(missing)} column (found: "
                             f"{', '.join(df.columns) or 'none'}). {expected}",
                             title="Missing columns")
        if len(df) > settings.max_batch_rows:
            raise user_error(f"{name} has {len(df):,} rows; the limit is "
                             f"{settings.max_batch_rows:,} (VIQA_MAX_BATCH_ROWS). Split the file.")
        if "id" not in df.columns:
            df["id"] = [f"row-{i + 1}" for i in range(len(df))]
        df = df[["id", "question", "context"]].fillna("").astype(str)
        problems = []
        for i, (q, c) in enumerate(zip(df["question"], df["context"]), start=1):
            if is_blank(q):  # as the reader judges it: zero-width spaces are blank too
                problems.append(f"row {i}: empty question")
            elif is_blank(c):
                problems.append(f"row {i}: empty context")
            elif len(c) > settings.max_context_chars:
                problems.append(f"row {i}: context of {len(c):,} characters "
                                f"(limit {settings.max_context_chars:,})")
        if problems:
            more = f" and {len(problems) - 5} more" if len(problems) > 5 else ""
            raise user_error(f"{name}: {'; '.join(problems[:5])}{more}. Fix these rows and upload "
                             "again.", title="Bad rows")
        if df.empty:
            raise user_error(f"{name} has no rows.")
        return df

    def _output_dir(self) -> Path:
        """A fresh folder for downloads; folders older than an hour are removed."""
        self.tmp_root.mkdir(parents=True, exist_ok=True)
        for old in self.tmp_root.iterdir():
            if time.time() - old.stat().st_mtime > DOWNLOADS_MAX_AGE_S:
                shutil.rmtree(old, ignore_errors=True)
        return Path(tempfile.mkdtemp(dir=self.tmp_root, prefix="batch-"))

    def batch(self, path: str | None, checkpoint: str, allow_no_answer: bool,
              max_answer_length: float, progress: gr.Progress = gr.Progress()):  # noqa: B008
        """Batch tab: predictions for every row, shown and offered as CSV and JSON."""
        df = self.read_batch_file(path)
        reader = self.app.get_reader(checkpoint, progress)
        preds = self.app.answer_all(
            reader, list(df["question"]), list(df["context"]), "answer the batch", progress,
            max_answer_length=int(max_answer_length), allow_no_answer=bool(allow_no_answer),
        )
        records = display.prediction_records(list(df["id"]), preds)
        out = self._output_dir()
        table = pd.DataFrame(records, columns=display.PREDICTION_COLUMNS)
        table.to_csv(out / "predictions.csv", index=False, encoding="utf-8")
        (out / "predictions.json").write_text(
            json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
        # The page shows 4 decimals; the downloads keep every digit.
        shown = table.round({"probability": SHOWN_DECIMALS})
        return (f"Answered **{display.plural(len(records), 'question')}** with "
                f"**{display.escape_markdown(checkpoint)}**.", shown,
                [str(out / "predictions.csv"), str(out / "predictions.json")])


def build(app: ViqaApp, start_checkpoint: str) -> gr.Dropdown:
    """Lay out the Batch tab and wire its events (``batch_ui``); returns its picker."""
    handlers = BatchHandlers(app)
    with gr.Tab("Batch", id="batch"):
        gr.Markdown("Upload a **CSV** (header row `id,question,context`; `id` optional) "
                    "or **JSON Lines** (`{\"question\": ..., \"context\": ...}` per "
                    "line) and download the predictions as CSV and JSON.")
        with gr.Row(equal_height=False):
            file = gr.File(label="Questions file (.csv, .jsonl)", file_types=BATCH_FILE_TYPES,
                           type="filepath", scale=2, elem_id="b-file")
            with gr.Column(scale=2):
                checkpoint = checkpoint_picker(app.checkpoint_choices(), "Checkpoint",
                                               start_checkpoint, "b-ckpt")
                allow_null = gr.Checkbox(value=False, label="Allow “no answer”")
                max_len = gr.Slider(1, 100, value=30, step=1, label="Max answer length (tokens)")
                button = gr.Button("Answer all", variant="primary", elem_id="b-button")
        summary = gr.Markdown("", elem_id="b-summary")
        table = gr.Dataframe(headers=display.PREDICTION_COLUMNS, interactive=False, wrap=True,
                             label="Predictions", max_height=420, elem_classes=["viqa-table"],
                             elem_id="b-table",
                             column_widths=["10%", "32%", "24%", "11%", "7%", "7%", "9%"])
        files = gr.File(label="Downloads", file_count="multiple", interactive=False)

    follow_checkpoint(app, checkpoint, allow_no_answer=allow_null, max_answer_length=max_len)
    # A failed batch says why in the summary (after the toast) and shows no older results.
    batch = errors_shown_in(handlers.batch, 0, 3, lambda: {1: None, 2: None})
    button.click(batch, [file, checkpoint, allow_null, max_len], [summary, table, files],
                 concurrency_limit=1, concurrency_id="long-jobs", api_visibility="undocumented",
                 api_name="batch_ui")
    return checkpoint
