"""viqa's Gradio app: ask a question about a Vietnamese passage and see why the model answers.

Tabs: **Ask** (every candidate at its exact offsets, the top-n table, start/end heatmap, the
start × end score map), **Compare** (two checkpoints side by side), **Datasets** (browse the
bundled sample, MLQA-vi, XQuAD-vi, UIT-ViQuAD 2.0 or a SQuAD-format upload), **Evaluate** (EM
and F1 on N examples) and **Batch** (CSV/JSONL in, predictions out). A named endpoint
``/answer`` serves ``gradio_client``.

This file only builds the interface and turns ``qa_core`` results into components. Importing it
builds the Blocks (no model is loaded, no server started): models load on first use into a
bounded cache. ``python app.py`` serves it, honouring ``GRADIO_SERVER_NAME``/``GRADIO_SERVER_PORT``.

Environment: ``VIQA_MODELS_DIR`` (local checkpoints, default ``models/``), ``VIQA_MODEL_CACHE_SIZE``
(readers kept in memory, default 2), ``VIQA_MAX_CONTEXT_CHARS`` (default 20,000),
``VIQA_CONCURRENCY`` (requests run at once, default 2), ``VIQA_MAX_BATCH_ROWS`` (default 1,000),
``VIQA_DTYPE`` (the readers' precision: auto, float32, bfloat16 or float16; default auto).
"""

from __future__ import annotations

import html
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import gradio as gr
import pandas as pd

from qa_core import display
from qa_core.checkpoints import (
    DEFAULT_CACHE_SIZE,
    ReaderCache,
    cache_size_from_env,
    checkpoint_choices,
    default_checkpoint,
    load_uncached_reader,
    models_dir,
    positive_int_env,
)
from qa_core.errors import QAError
from qa_core.metrics import compute_all
from qa_core.reader import dtype_name, validate_text
from qa_core.sources import NAMED_SOURCES, LoadedSource, load_source
from qa_core.types import Prediction

logger = logging.getLogger("viqa.app")

TITLE = "viqa — Vietnamese question answering"
PAGE_SIZE = 10
UPLOAD = "upload"  # the source value that means "the file uploaded beside the picker"
SOURCE_LABELS = {
    "sample": "Bundled sample (54 questions, offline)",
    "mlqa.vi.vi": "MLQA vi–vi",
    "mlqa-translate-train.vi": "MLQA translate-train vi",
    "xquad.vi": "XQuAD vi",
    "uit-viquad2": "UIT-ViQuAD 2.0",
}
# A handful of the bundled questions, one click away: short and long passages, one unanswerable.
EXAMPLE_IDS = ("vi-sample-001", "vi-sample-013", "vi-sample-010", "vi-sample-027", "vi-sample-041",
               "vi-sample-017", "vi-sample-004")
DATA_FILE_TYPES = [".json", ".jsonl", ".csv", ".parquet"]
BATCH_FILE_TYPES = [".csv", ".jsonl", ".json"]


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------
def _dtype_env(name: str) -> str:
    """A precision from the environment, checked at start-up (``auto`` when unset)."""
    raw = os.environ.get(name, "")
    try:
        return dtype_name(raw)
    except ValueError:
        raise ValueError(
            f"{name}={raw!r} is not a precision; use auto, float32, bfloat16 or float16."
        ) from None


@dataclass(frozen=True)
class Settings:
    """What the app allows, read once from the environment at start-up."""

    max_context_chars: int = 20_000  # longer contexts are refused with a message
    cache_size: int = DEFAULT_CACHE_SIZE  # readers kept in memory at once
    concurrency: int = 2  # requests the queue runs at once
    max_batch_rows: int = 1_000  # rows per batch upload
    models_dir: str | None = None  # None: $VIQA_MODELS_DIR or models/
    # Readers' precision; "auto" is what the hardware runs natively (bf16 matmuls on a CPU
    # with AVX512-BF16), "float32" trades that speed for float32's exact scores.
    dtype: str = "auto"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            max_context_chars=positive_int_env("VIQA_MAX_CONTEXT_CHARS", cls.max_context_chars),
            cache_size=cache_size_from_env(),
            concurrency=positive_int_env("VIQA_CONCURRENCY", cls.concurrency),
            max_batch_rows=positive_int_env("VIQA_MAX_BATCH_ROWS", cls.max_batch_rows),
            dtype=_dtype_env("VIQA_DTYPE"),
        )


# ---------------------------------------------------------------------------------------------
# Errors → messages in the page
# ---------------------------------------------------------------------------------------------
def user_error(message: str, title: str = "Cannot do that", print_exception: bool = False) -> gr.Error:
    """A ``gr.Error`` whose message is shown as text: Gradio renders these messages as HTML, and
    they may quote the user's input (a checkpoint name, a file name)."""
    return gr.Error(html.escape(message, quote=False), title=title, print_exception=print_exception)


def warn_user(message: str) -> None:
    """``gr.Warning`` with the message shown as text (see :func:`user_error`)."""
    gr.Warning(html.escape(message, quote=False))


@contextmanager
def user_errors(action: str) -> Iterator[None]:
    """Turn anything raised inside into a ``gr.Error`` shown in the page (never a traceback):
    the engine's own messages as they are, anything unexpected with its type and the action."""
    try:
        yield
    except gr.Error:
        raise
    except (QAError, ValueError) as exc:  # the engine's errors say what to change
        raise user_error(str(exc), title=f"Cannot {action}") from exc
    except Exception as exc:
        logger.exception("Unexpected error while trying to %s", action)
        raise user_error(
            f"Unexpected {type(exc).__name__} while trying to {action}: {exc}. The app is still "
            "running; check the input and try again.",
            title=f"Cannot {action}", print_exception=True,
        ) from exc


@dataclass
class DatasetView:
    """A loaded split with what browsing needs precomputed."""

    loaded: LoadedSource
    rows: list[dict]
    index: list[str]  # folded question + context, for search

    @property
    def label(self) -> str:
        source = self.loaded.source
        name = SOURCE_LABELS.get(source, Path(source).name)
        return f"{name} · {self.loaded.split}"


# ---------------------------------------------------------------------------------------------
# Handlers
# ---------------------------------------------------------------------------------------------
class ViqaApp:
    """The handlers behind every button, sharing the settings, the reader cache and the
    loaded datasets (instead of module globals, so that tests build their own)."""

    def __init__(self, settings: Settings | None = None, readers: ReaderCache | None = None):
        self.settings = settings or Settings.from_env()
        self.readers = readers or ReaderCache(
            self.settings.cache_size, partial(load_uncached_reader, dtype=self.settings.dtype))
        self._datasets: OrderedDict[tuple[str, str], DatasetView] = OrderedDict()
        self._datasets_lock = threading.Lock()
        self._tmp_root = Path(tempfile.gettempdir()) / "viqa-app"

    # ---- checkpoints ----------------------------------------------------------------------
    def checkpoint_choices(self) -> list[tuple[str, str]]:
        return checkpoint_choices(self.settings.models_dir)

    def default_checkpoint(self) -> str:
        return default_checkpoint(self.settings.models_dir)

    def refresh_checkpoints(self, *current: str):
        """Rescan the models directory; keep each picker's value."""
        choices = self.checkpoint_choices()
        n_local = sum(1 for _, v in choices if Path(v).exists())
        gr.Info(html.escape(f"{n_local} local checkpoint(s) in "
                            f"{models_dir(self.settings.models_dir)}.", quote=False))
        return [gr.Dropdown(choices=choices, value=value, allow_custom_value=True)
                for value in current]

    def get_reader(self, checkpoint: str, progress: gr.Progress | None = None):
        """The reader for ``checkpoint``, loading it with a progress message if needed."""
        checkpoint = (checkpoint or "").strip()
        if not checkpoint:
            raise user_error("No checkpoint chosen: pick one from the list or type a Hub id or a "
                             "local path.", title="Cannot load the model")
        if progress is not None and checkpoint not in self.readers:
            progress(0, desc=f"Loading {checkpoint} (first use)…")
        with user_errors("load the model"):
            entry = self.readers.get(checkpoint)
        for message in entry.warnings:
            warn_user(message)
        return entry.reader

    # ---- asking ---------------------------------------------------------------------------
    def check_input(self, question: str, context: str) -> None:
        """Empty or too long input is refused before any model is loaded."""
        with user_errors("answer"):
            validate_text(question, context)
        limit = self.settings.max_context_chars
        if len(context) > limit:
            raise user_error(
                f"The context has {len(context):,} characters; this app accepts at most {limit:,} "
                "(VIQA_MAX_CONTEXT_CHARS). Keep the paragraphs that hold the answer.",
                title="Context too long",
            )

    def predict(
        self, context: str, question: str, checkpoint: str, top_n: int = 5,
        max_answer_length: int = 30, allow_no_answer: bool = False, null_threshold: float = 0.0,
        progress: gr.Progress | None = None,
    ) -> Prediction:
        """Validate, load (cached) and answer: the one path every tab and the API share."""
        self.check_input(question, context)
        reader = self.get_reader(checkpoint, progress)
        if progress is not None:
            progress(0.5, desc="Answering…")
        with user_errors("answer"):
            return reader.answer(
                question, context, top_n=int(top_n), max_answer_length=int(max_answer_length),
                allow_no_answer=bool(allow_no_answer), null_threshold=float(null_threshold),
            )

    @staticmethod
    def render_prediction(pred: Prediction, title: str | None = None):
        """Outcome text, highlighted context, heatmap and candidate table of one prediction."""
        segments, colors = display.answer_highlights(pred.context, pred.answers, pred.no_answer)
        return (
            display.outcome_markdown(pred),
            gr.HighlightedText(value=segments, color_map=colors),
            display.token_heatmap(pred.tokens, [] if pred.no_answer else pred.answers, title=title),
            display.candidate_table(pred.answers),
        )

    def ask(
        self, context: str, question: str, checkpoint: str, top_n: int = 5,
        max_answer_length: int = 30, allow_no_answer: bool = False, null_threshold: float = 0.0,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio injects it by default value
    ):
        """Ask tab: outcome, highlighted context, heatmap, top-n table and score map."""
        pred = self.predict(context, question, checkpoint, top_n, max_answer_length,
                            allow_no_answer, null_threshold, progress)
        return (
            *self.render_prediction(pred),
            display.span_score_map(pred.tokens, pred.answers, int(max_answer_length)),
        )

    def answer_api(
        self, context: str, question: str, checkpoint: str = "", top_n: int = 5,
        max_answer_length: int = 30, allow_no_answer: bool = False, null_threshold: float = 0.0,
    ) -> dict:
        """Answer candidates for a question about a passage, as JSON.

        Returns {"best_text", "no_answer", "null_probability", "answers": [{"text", "start",
        "end", "score", "probability"}, ...], ...}; start/end index the context. An empty
        checkpoint means the app's default.
        """
        pred = self.predict(context, question, checkpoint or self.default_checkpoint(), top_n,
                            max_answer_length, allow_no_answer, null_threshold)
        return pred.to_dict()

    def compare(
        self, context: str, question: str, checkpoint_a: str, checkpoint_b: str, top_n: int = 5,
        max_answer_length: int = 30, allow_no_answer: bool = False, null_threshold: float = 0.0,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ):
        """Compare tab: both checkpoints on the same input, then whether they agree."""
        self.check_input(question, context)
        preds = []
        for k, checkpoint in enumerate((checkpoint_a, checkpoint_b)):
            progress(k / 2, desc=f"Checkpoint {'AB'[k]}: {checkpoint}")
            preds.append(self.predict(context, question, checkpoint, top_n, max_answer_length,
                                      allow_no_answer, null_threshold))
        a, b = preds
        return (
            display.agreement_markdown(a, b, "A", "B"),
            *self.render_prediction(a, title=f"A · {checkpoint_a}"),
            *self.render_prediction(b, title=f"B · {checkpoint_b}"),
        )

    # ---- datasets -------------------------------------------------------------------------
    @staticmethod
    def source_of(source: str, upload: str | None) -> str:
        """What ``load_source`` takes: a named source, or the uploaded file's path."""
        if source == UPLOAD:
            if not upload:
                raise user_error("Choose a file to upload (SQuAD .json, .jsonl, .csv or .parquet) "
                                 "or pick a named source.", title="No file")
            return str(upload)
        return source

    def dataset(self, source: str, split: str | None) -> DatasetView:
        """A loaded split, from the app's small cache (four splits) or freshly loaded."""
        key = (source, split or "")
        with self._datasets_lock:
            if key in self._datasets:
                self._datasets.move_to_end(key)
                return self._datasets[key]
        with user_errors("load the dataset"):
            loaded = load_source(source, split or None)
        rows = loaded.dataset.to_list()
        view = DatasetView(loaded, rows, display.search_index(
            [r["question"] for r in rows], [r["context"] for r in rows]))
        with self._datasets_lock:
            self._datasets[key] = view
            while len(self._datasets) > 4:
                self._datasets.popitem(last=False)
        return view

    @staticmethod
    def splits_for(source: str):
        """The split picker for a source: its named splits, or one split for a file."""
        info = NAMED_SOURCES.get(source)
        if info is None:
            return gr.Dropdown(choices=["train"], value="train")
        return gr.Dropdown(choices=list(info.splits), value=info.default_split)

    def page_table(self, view: DatasetView, indices: list[int], page: int):
        """Rows of one page, the page number (clamped) and 'page x of y'."""
        pages = max(1, -(-len(indices) // PAGE_SIZE))
        page = min(max(1, int(page or 1)), pages)
        chunk = indices[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        rows = []
        for i in chunk:
            r = view.rows[i]
            golds = r["answers"]["text"]
            rows.append([i, r["id"], r["question"], golds[0] if golds else "(unanswerable)"])
        table = pd.DataFrame(rows, columns=["#", "id", "question", "gold answer"])
        return table, page, f"Page {page} of {pages} · {len(indices):,} matching examples"

    def load_dataset(self, source: str, split: str, upload: str | None,
                     progress: gr.Progress = gr.Progress()):  # noqa: B008
        """Datasets tab: load a split and show its first page and first example."""
        progress(0, desc="Loading the dataset…")
        view = self.dataset(self.source_of(source, upload), split)
        indices = list(range(len(view.rows)))
        if not indices:
            raise user_error("This split has no examples.")
        report = view.loaded.report
        plural = "" if len(indices) == 1 else "s"
        status = f"**{display.escape_markdown(view.label)}**: {len(indices):,} question{plural}."
        if not report.clean:
            status += f" Repairs on load: {display.escape_markdown(report.summary().splitlines()[0])}"
        table, page, page_info = self.page_table(view, indices, 1)
        key = [view.loaded.source, split or ""]
        return (status, key, indices, table, page, page_info, *self.show_example(key, indices[0]))

    def _view(self, key: list[str] | None) -> DatasetView:
        if not key:
            raise user_error("Load a dataset first (pick a source and press Load).")
        return self.dataset(key[0], key[1])

    def search_dataset(self, key: list[str], query: str):
        """Filter by a query in questions and contexts (case and diacritics ignored)."""
        view = self._view(key)
        indices = display.search_indices(view.index, query or "")
        table, page, page_info = self.page_table(view, indices, 1)
        if not indices:
            warn_user(f"No question or context contains “{query}”.")
        return indices, table, page, page_info

    def goto_page(self, key: list[str], indices: list[int], page: float, step: int = 0):
        """Show page ``page + step`` (clamped to the pages there are)."""
        view = self._view(key)
        return self.page_table(view, indices or [], int(page or 1) + step)

    def previous_page(self, key: list[str], indices: list[int], page: float):
        return self.goto_page(key, indices, page, -1)

    def next_page(self, key: list[str], indices: list[int], page: float):
        return self.goto_page(key, indices, page, 1)

    def select_example(self, key: list[str], table: pd.DataFrame, evt: gr.SelectData):
        """A click on a row of the page shows that example."""
        row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        index = int(pd.DataFrame(table).iloc[int(row), 0])
        return self.show_example(key, index)

    def random_example(self, key: list[str], indices: list[int]):
        if not indices:
            raise user_error("No examples to pick from: clear the search.")
        return self.show_example(key, random.choice(indices))

    def show_example(self, key: list[str], index: int):
        """The example's question, gold answers and its context with the gold highlighted."""
        view = self._view(key)
        r = view.rows[int(index)]
        golds = r["answers"]["text"]
        gold_md = ", ".join(f"“{display.escape_markdown(t)}”" for t in golds) or "*unanswerable*"
        header = (
            f"**{display.escape_markdown(r['title'] or r['id'])}** · `{r['id']}`\n\n"
            f"**Question:** {display.escape_markdown(r['question'])}\n\n**Gold:** {gold_md}"
        )
        segments = display.gold_segments(r["context"], golds, r["answers"]["answer_start"])
        return (int(index), header,
                gr.HighlightedText(value=segments, color_map=display.GOLD_COLOR_MAP), "")

    def ask_this(self, key: list[str], index: int | None):
        """Send the shown example to the Ask tab and switch to it."""
        if index is None:
            raise user_error("Pick an example first.")
        r = self._view(key).rows[int(index)]
        return r["context"], r["question"], gr.Tabs(selected="ask")

    def run_on_example(self, key: list[str], index: int | None, checkpoint: str,
                       allow_no_answer: bool, progress: gr.Progress = gr.Progress()):  # noqa: B008
        """Gold versus predicted on the shown example, with EM and F1."""
        if index is None:
            raise user_error("Pick an example first.")
        r = self._view(key).rows[int(index)]
        pred = self.predict(r["context"], r["question"], checkpoint, 5, 30, allow_no_answer,
                            0.0, progress)
        golds = r["answers"]["text"]
        best = pred.answers[0] if pred.answers and not pred.no_answer else None
        segments = display.gold_segments(r["context"], golds, r["answers"]["answer_start"], best)
        scores = display.example_scores(pred.best_text, golds)
        verdict = (
            f"**Predicted:** “{display.escape_markdown(pred.best_text)}”" if best
            else "**Predicted:** *no answer*"
        )
        verdict += (
            f" · EM {scores['em_squad']:.0f} / F1 {scores['f1_squad']:.1f} (SQuAD) · "
            f"EM {scores['em_mlqa_vi']:.0f} / F1 {scores['f1_mlqa_vi']:.1f} (MLQA-vi)"
        )
        return gr.HighlightedText(value=segments, color_map=display.GOLD_COLOR_MAP), verdict

    # ---- evaluate and batch ---------------------------------------------------------------
    def evaluate(self, checkpoint: str, source: str, split: str, upload: str | None, n: float,
                 allow_no_answer: bool, null_threshold: float = 0.0,
                 progress: gr.Progress = gr.Progress()):  # noqa: B008
        """Evaluate tab: EM/F1 under both normalisations on the first N examples, and misses."""
        view = self.dataset(self.source_of(source, upload), split)
        rows = view.rows[: max(1, int(n))]
        if not rows:
            raise user_error("The dataset is empty.")
        too_long = [r["id"] for r in rows if len(r["context"]) > self.settings.max_context_chars]
        if too_long:
            warn_user(f"{len(too_long)} examples have contexts over "
                       f"{self.settings.max_context_chars:,} characters; they are skipped.")
            rows = [r for r in rows if len(r["context"]) <= self.settings.max_context_chars]
        reader = self.get_reader(checkpoint, progress)
        started = time.perf_counter()
        preds = self.answer_all(
            reader, [r["question"] for r in rows], [r["context"] for r in rows], "evaluate",
            progress, allow_no_answer=bool(allow_no_answer), null_threshold=float(null_threshold),
        )
        elapsed = time.perf_counter() - started
        ids = [r["id"] for r in rows]
        golds = [r["answers"]["text"] for r in rows]
        with user_errors("score the predictions"):
            results = compute_all(dict(zip(ids, golds)), {i: p.best_text for i, p in zip(ids, preds)})
        metrics = pd.DataFrame(display.metrics_rows(results), columns=["metric", "SQuAD", "MLQA-vi"])
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

    @staticmethod
    def answer_all(reader, questions: list[str], contexts: list[str], action: str,
                   progress: gr.Progress, chunk: int = 8, **options) -> list[Prediction]:
        """The best answer to each question, in chunks so the progress bar moves; an engine
        error becomes a message in the page that names ``action``."""
        preds: list[Prediction] = []
        for b in range(0, len(questions), chunk):
            progress((b, len(questions)), desc="Answering", unit="questions")
            with user_errors(action):
                preds += reader.answer_batch(
                    questions[b: b + chunk], contexts[b: b + chunk], top_n=1, **options)
        return preds

    def read_batch_file(self, path: str | None) -> pd.DataFrame:
        """An uploaded CSV/JSONL/JSON of questions and contexts, checked row by row."""
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
        if len(df) > self.settings.max_batch_rows:
            raise user_error(f"{name} has {len(df):,} rows; the limit is "
                             f"{self.settings.max_batch_rows:,} (VIQA_MAX_BATCH_ROWS). Split the file.")
        if "id" not in df.columns:
            df["id"] = [f"row-{i + 1}" for i in range(len(df))]
        df = df[["id", "question", "context"]].fillna("").astype(str)
        problems = []
        for i, (q, c) in enumerate(zip(df["question"], df["context"]), start=1):
            if not q.strip():
                problems.append(f"row {i}: empty question")
            elif not c.strip():
                problems.append(f"row {i}: empty context")
            elif len(c) > self.settings.max_context_chars:
                problems.append(f"row {i}: context of {len(c):,} characters "
                                f"(limit {self.settings.max_context_chars:,})")
        if problems:
            more = f" and {len(problems) - 5} more" if len(problems) > 5 else ""
            raise user_error(f"{name}: {'; '.join(problems[:5])}{more}. Fix these rows and upload "
                             "again.", title="Bad rows")
        if df.empty:
            raise user_error(f"{name} has no rows.")
        return df

    def _output_dir(self) -> Path:
        """A fresh folder for downloads; folders older than an hour are removed."""
        self._tmp_root.mkdir(parents=True, exist_ok=True)
        for old in self._tmp_root.iterdir():
            if time.time() - old.stat().st_mtime > 3600:
                shutil.rmtree(old, ignore_errors=True)
        return Path(tempfile.mkdtemp(dir=self._tmp_root, prefix="batch-"))

    def batch(self, path: str | None, checkpoint: str, allow_no_answer: bool,
              max_answer_length: float, progress: gr.Progress = gr.Progress()):  # noqa: B008
        """Batch tab: predictions for every row, shown and offered as CSV and JSON."""
        df = self.read_batch_file(path)
        reader = self.get_reader(checkpoint, progress)
        preds = self.answer_all(
            reader, list(df["question"]), list(df["context"]), "answer the batch", progress,
            max_answer_length=int(max_answer_length), allow_no_answer=bool(allow_no_answer),
        )
        records = display.prediction_records(list(df["id"]), preds)
        out = self._output_dir()
        table = pd.DataFrame(records, columns=display.PREDICTION_COLUMNS)
        table.to_csv(out / "predictions.csv", index=False, encoding="utf-8")
        (out / "predictions.json").write_text(
            json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
        return (f"Answered **{len(records):,}** questions with "
                f"**{display.escape_markdown(checkpoint)}**.", table,
                [str(out / "predictions.csv"), str(out / "predictions.json")])


# ---------------------------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------------------------
THEME = gr.themes.Soft(
    primary_hue="emerald", secondary_hue="amber", neutral_hue="slate",
    # System fonts only: the app must render offline, without Google Fonts.
    font=["Inter", "ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Noto Sans", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Noto Sans Mono", "monospace"],
)
CSS = """
.gradio-container {max-width: 1280px !important; margin: auto;}
#viqa-header h1 {margin: 0.2em 0 0 0; font-size: 1.9em;}
#viqa-header p {margin: 0.2em 0 0.4em 0; color: var(--body-text-color-subdued);}
.viqa-outcome h3 {margin: 0.1em 0 0.1em 0; font-size: 1.45em;}
.viqa-outcome p {margin: 0;}
.viqa-highlight {line-height: 1.8;}
/* Vietnamese stacks two diacritics on a letter: tables use the text font, not a monospace one */
.viqa-table [role="grid"] * {font-family: var(--font) !important;}
#viqa-footer {font-size: 0.85em; color: var(--body-text-color-subdued); margin-top: 0.5em;}
"""
HEADER = (
    "# viqa — Vietnamese extractive question answering\n"
    "Ask a question about a Vietnamese passage. Every candidate answer is marked **at the exact "
    "characters the model chose**, with its probability, and the heatmaps show why."
)
FOOTER = (
    "Answers are spans of the context; probabilities are a softmax over all valid spans (and "
    "the no-answer score when allowed). Models load on first use and stay cached. "
    "Programmatic use: the `/answer` endpoint (*Use via API* below)."
)


def sample_examples() -> tuple[list[list[str]], list[str]]:
    """``[context, question]`` pairs from the bundled sample, with short labels."""
    rows = {r["id"]: r for r in load_source("sample").dataset.to_list()}
    examples, labels = [], []
    for qid in EXAMPLE_IDS:
        r = rows.get(qid)
        if r is None:
            continue
        examples.append([r["context"], r["question"]])
        tag = " (no answer)" if not r["answers"]["text"] else ""
        labels.append(f"{r['title']}: {r['question']}{tag}")
    return examples, labels


def source_choices() -> list[tuple[str, str]]:
    """The dataset picker: the bundled sample first, the named sources, then an upload."""
    names = dict.fromkeys(["sample", *NAMED_SOURCES])
    return [*((SOURCE_LABELS.get(n, n), n) for n in names), ("Upload a file…", UPLOAD)]


def source_changed(source: str):
    """A new source: its splits, and the upload box only when uploading."""
    return ViqaApp.splits_for(source), gr.File(visible=source == UPLOAD)


def _answer_options(prefix: str = ""):
    """Top-n, maximum answer length, allow-no-answer and threshold controls."""
    with gr.Row():
        top_n = gr.Slider(1, 20, value=5, step=1, label="Top-n candidates",
                          elem_id=f"{prefix}top-n")
        max_len = gr.Slider(1, 100, value=30, step=1, label="Max answer length (tokens)")
    allow_null = gr.Checkbox(value=False, label="Allow “no answer” (SQuAD 2.0 style)",
                             elem_id=f"{prefix}allow-null")
    threshold = gr.Slider(-10, 10, value=0.0, step=0.1, label="No-answer threshold",
                          info="“No answer” when null score − best span score is above this.")
    return top_n, max_len, allow_null, threshold


def _checkpoint_picker(app: ViqaApp, label: str, value: str, elem_id: str, **kwargs) -> gr.Dropdown:
    return gr.Dropdown(
        choices=app.checkpoint_choices(), value=value, label=label, allow_custom_value=True,
        filterable=True, elem_id=elem_id, **kwargs,
    )


def _result_panel(prefix: str, score_map: bool = False):
    """One prediction's components: outcome, highlighted context, heatmap, table (and, on the
    Ask tab, the start × end score map beside the table)."""
    outcome = gr.Markdown("", elem_classes=["viqa-outcome"], elem_id=f"{prefix}outcome")
    highlighted = gr.HighlightedText(
        label="Candidates at their exact place in the context", show_legend=False,
        combine_adjacent=False, show_inline_category=True, elem_id=f"{prefix}highlight",
        elem_classes=["viqa-highlight"],
    )
    heatmap = gr.Plot(label="Where an answer starts and ends: probability per token "
                            "(drag the plot or the slider under it to scroll)",
                      value=display.empty_figure(), elem_id=f"{prefix}heatmap")
    with gr.Row(equal_height=False):
        table = gr.Dataframe(
            headers=display.CANDIDATE_COLUMNS, label="Top-n candidates (click a header to sort)",
            interactive=False, wrap=True, elem_id=f"{prefix}table", max_height=460,
            elem_classes=["viqa-table"], scale=5,
            column_widths=["9%", "41%", "14%", "12%", "12%", "12%"],
        )
        if not score_map:
            return outcome, highlighted, heatmap, table
        span_map = gr.Plot(label="Start × end score map around the best spans",
                           value=display.empty_figure(), elem_id=f"{prefix}score-map", scale=4)
    return outcome, highlighted, heatmap, table, span_map


def build_demo(app: ViqaApp | None = None) -> gr.Blocks:
    """The whole interface around ``app``'s handlers (no model loaded, no server started)."""
    app = app or ViqaApp()
    start_checkpoint = app.default_checkpoint()
    choices = app.checkpoint_choices()
    second_checkpoint = next((v for _, v in choices if v != start_checkpoint), start_checkpoint)
    examples, example_labels = sample_examples()
    sources = source_choices()

    with gr.Blocks(title=TITLE, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(HEADER, elem_id="viqa-header")
        with gr.Tabs(selected="ask") as tabs:
            # ---- Ask ------------------------------------------------------------------------
            with gr.Tab("Ask", id="ask"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        question = gr.Textbox(label="Question", lines=1, elem_id="question",
                                              placeholder="Ví dụ: Ai chỉ huy quân dân Việt?")
                        context = gr.Textbox(label="Context", lines=8, max_lines=16,
                                             elem_id="context",
                                             placeholder="Dán đoạn văn chứa câu trả lời…")
                    with gr.Column(scale=2):
                        checkpoint = _checkpoint_picker(
                            app, "Checkpoint", start_checkpoint, "checkpoint",
                            info="Local models first, then public Hub models; or type any Hub "
                                 "id or local path.")
                        refresh = gr.Button("↻ Rescan local models", size="sm")
                        top_n, max_len, allow_null, threshold = _answer_options()
                        ask_btn = gr.Button("Ask", variant="primary", elem_id="ask-button")
                gr.Examples(examples, inputs=[context, question], label="Examples (one click)",
                            example_labels=example_labels, cache_examples=False,
                            examples_per_page=len(examples))
                outcome, highlighted, heatmap, table, score_map = _result_panel(
                    "ask-", score_map=True)
            # ---- Compare --------------------------------------------------------------------
            with gr.Tab("Compare", id="compare"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        c_question = gr.Textbox(label="Question", lines=1, elem_id="c-question")
                        c_context = gr.Textbox(label="Context", lines=6, max_lines=12,
                                               elem_id="c-context")
                        copy_btn = gr.Button("Use the Ask tab's question and context", size="sm")
                    with gr.Column(scale=2):
                        ckpt_a = _checkpoint_picker(app, "Checkpoint A", start_checkpoint, "ckpt-a")
                        ckpt_b = _checkpoint_picker(app, "Checkpoint B", second_checkpoint,
                                                    "ckpt-b")
                        c_top_n, c_max_len, c_allow_null, c_threshold = _answer_options("c-")
                        compare_btn = gr.Button("Compare", variant="primary",
                                                elem_id="compare-button")
                agreement = gr.Markdown("", elem_classes=["viqa-outcome"], elem_id="agreement")
                with gr.Row(equal_height=False):
                    with gr.Column():
                        panel_a = _result_panel("a-")
                    with gr.Column():
                        panel_b = _result_panel("b-")
            # ---- Datasets -------------------------------------------------------------------
            with gr.Tab("Datasets", id="datasets"):
                ds_key = gr.State(None)
                ds_indices = gr.State([])
                ds_index = gr.State(None)
                with gr.Row(equal_height=True):
                    ds_source = gr.Dropdown(sources, value="sample", label="Source", scale=3,
                                            elem_id="ds-source")
                    ds_split = gr.Dropdown(["validation", "train"], value="validation",
                                           label="Split", scale=2)
                ds_upload = gr.File(label="SQuAD-format file (.json, .jsonl, .csv, .parquet)",
                                    file_types=DATA_FILE_TYPES, type="filepath", visible=False)
                with gr.Row():
                    ds_load = gr.Button("Load", variant="primary", scale=0, min_width=160,
                                        elem_id="ds-load")
                    ds_random = gr.Button("Random example", scale=0, min_width=200)
                    ds_status = gr.Markdown("", elem_id="ds-status")
                ds_query = gr.Textbox(label="Search questions and contexts",
                                      placeholder="e.g. Huế, ha noi (case and accents optional)",
                                      submit_btn="Search", elem_id="ds-query")
                ds_table = gr.Dataframe(headers=["#", "id", "question", "gold answer"],
                                        interactive=False, wrap=True, elem_id="ds-table",
                                        label="Examples (click a row to show it)",
                                        elem_classes=["viqa-table"],
                                        column_widths=["7%", "16%", "55%", "22%"])
                with gr.Row(equal_height=True):
                    ds_prev = gr.Button("← Previous", size="sm", scale=0, min_width=120)
                    ds_page = gr.Number(value=1, precision=0, minimum=1, show_label=False,
                                        container=False, scale=0, min_width=90)
                    ds_next = gr.Button("Next →", size="sm", scale=0, min_width=120)
                    ds_page_info = gr.Markdown("", elem_id="ds-page-info")
                ds_header = gr.Markdown("", elem_id="ds-example")
                ds_context = gr.HighlightedText(label="Context (gold answers highlighted)",
                                                show_legend=True, elem_id="ds-context",
                                                elem_classes=["viqa-highlight"],
                                                color_map=display.GOLD_COLOR_MAP)
                with gr.Row(equal_height=True):
                    ds_ckpt = _checkpoint_picker(app, "Checkpoint for “Run”", start_checkpoint,
                                                 "ds-ckpt", scale=3)
                    ds_null = gr.Checkbox(value=True, label="Allow “no answer”", scale=1)
                with gr.Row():
                    ds_ask = gr.Button("Ask this →", variant="primary", elem_id="ds-ask")
                    ds_run = gr.Button("Run the checkpoint on this example", elem_id="ds-run")
                ds_verdict = gr.Markdown("", elem_id="ds-verdict")
            # ---- Evaluate -------------------------------------------------------------------
            with gr.Tab("Evaluate", id="evaluate"):
                with gr.Row(equal_height=True):
                    ev_ckpt = _checkpoint_picker(app, "Checkpoint", start_checkpoint, "ev-ckpt",
                                                 scale=3)
                    ev_source = gr.Dropdown(sources, value="sample", label="Source", scale=2)
                    ev_split = gr.Dropdown(["validation", "train"], value="validation",
                                           label="Split", scale=1)
                ev_upload = gr.File(label="SQuAD-format file (.json, .jsonl, .csv, .parquet)",
                                    file_types=DATA_FILE_TYPES, type="filepath", visible=False)
                with gr.Row(equal_height=True):
                    ev_n = gr.Slider(1, 2000, value=54, step=1, scale=3,
                                     label="Number of examples (the first N of the split)")
                    ev_null = gr.Checkbox(value=True, label="Allow “no answer” (for SQuAD 2.0 "
                                          "data: the sample, UIT-ViQuAD)", scale=2)
                    ev_threshold = gr.Slider(-10, 10, value=0.0, step=0.1, scale=2,
                                             label="No-answer threshold")
                ev_btn = gr.Button("Evaluate", variant="primary", elem_id="ev-button")
                ev_summary = gr.Markdown("", elem_id="ev-summary")
                ev_metrics = gr.Dataframe(headers=["metric", "SQuAD", "MLQA-vi"],
                                          interactive=False, label="Scores (%)",
                                          elem_classes=["viqa-table"])
                ev_misses = gr.Dataframe(headers=display.MISS_COLUMNS, interactive=False,
                                         wrap=True, label="Misses (click a header to sort)",
                                         max_height=480, elem_classes=["viqa-table"],
                                         column_widths=["12%", "32%", "18%", "17%", "7%", "7%",
                                                        "7%"])
            # ---- Batch ----------------------------------------------------------------------
            with gr.Tab("Batch", id="batch"):
                gr.Markdown("Upload a **CSV** (header row `id,question,context`; `id` optional) "
                            "or **JSON Lines** (`{\"question\": ..., \"context\": ...}` per "
                            "line) and download the predictions as CSV and JSON.")
                with gr.Row(equal_height=False):
                    b_file = gr.File(label="Questions file (.csv, .jsonl)",
                                     file_types=BATCH_FILE_TYPES, type="filepath", scale=2)
                    with gr.Column(scale=2):
                        b_ckpt = _checkpoint_picker(app, "Checkpoint", start_checkpoint, "b-ckpt")
                        b_null = gr.Checkbox(value=False, label="Allow “no answer”")
                        b_max_len = gr.Slider(1, 100, value=30, step=1,
                                              label="Max answer length (tokens)")
                        b_btn = gr.Button("Answer all", variant="primary")
                b_summary = gr.Markdown("")
                b_table = gr.Dataframe(headers=display.PREDICTION_COLUMNS, interactive=False,
                                       wrap=True, label="Predictions", max_height=420,
                                       elem_classes=["viqa-table"])
                b_files = gr.File(label="Downloads", file_count="multiple", interactive=False)
        gr.Markdown(FOOTER, elem_id="viqa-footer")

        # ---- events -------------------------------------------------------------------------
        ask_inputs = [context, question, checkpoint, top_n, max_len, allow_null, threshold]
        gr.on([ask_btn.click, question.submit], app.ask, ask_inputs,
              [outcome, highlighted, heatmap, table, score_map],
              api_visibility="undocumented", api_name="ask_ui")
        pickers = [checkpoint, ckpt_a, ckpt_b, ds_ckpt, ev_ckpt, b_ckpt]
        refresh.click(app.refresh_checkpoints, pickers, pickers, api_visibility="private")
        copy_btn.click(lambda c, q: (c, q), [context, question], [c_context, c_question],
                       api_visibility="private")
        compare_btn.click(
            app.compare,
            [c_context, c_question, ckpt_a, ckpt_b, c_top_n, c_max_len, c_allow_null, c_threshold],
            [agreement, *panel_a, *panel_b], api_visibility="undocumented", api_name="compare_ui",
        )
        ds_source.change(source_changed, ds_source, [ds_split, ds_upload], api_visibility="private")
        ev_source.change(source_changed, ev_source, [ev_split, ev_upload], api_visibility="private")
        example_outputs = [ds_index, ds_header, ds_context, ds_verdict]
        load_outputs = [ds_status, ds_key, ds_indices, ds_table, ds_page, ds_page_info,
                        *example_outputs]
        ds_load.click(app.load_dataset, [ds_source, ds_split, ds_upload], load_outputs,
                      api_visibility="private")
        ds_query.submit(app.search_dataset, [ds_key, ds_query],
                        [ds_indices, ds_table, ds_page, ds_page_info], api_visibility="private")
        page_outputs = [ds_table, ds_page, ds_page_info]
        ds_prev.click(app.previous_page, [ds_key, ds_indices, ds_page], page_outputs,
                      api_visibility="private")
        ds_next.click(app.next_page, [ds_key, ds_indices, ds_page], page_outputs,
                      api_visibility="private")
        ds_page.submit(app.goto_page, [ds_key, ds_indices, ds_page], page_outputs,
                       api_visibility="private")
        ds_table.select(app.select_example, [ds_key, ds_table], example_outputs,
                        api_visibility="private")
        ds_random.click(app.random_example, [ds_key, ds_indices], example_outputs,
                        api_visibility="private")
        ds_ask.click(app.ask_this, [ds_key, ds_index], [context, question, tabs],
                     api_visibility="private")
        ds_run.click(app.run_on_example, [ds_key, ds_index, ds_ckpt, ds_null],
                     [ds_context, ds_verdict], api_visibility="private")
        ev_btn.click(app.evaluate,
                     [ev_ckpt, ev_source, ev_split, ev_upload, ev_n, ev_null, ev_threshold],
                     [ev_summary, ev_metrics, ev_misses], concurrency_limit=1,
                     concurrency_id="long-jobs", api_visibility="undocumented",
                     api_name="evaluate_ui")
        b_btn.click(app.batch, [b_file, b_ckpt, b_null, b_max_len],
                    [b_summary, b_table, b_files], concurrency_limit=1,
                    concurrency_id="long-jobs", api_visibility="undocumented", api_name="batch_ui")
        # The documented endpoint for gradio_client: JSON in, JSON out.
        gr.api(app.answer_api, api_name="answer")
        # The Datasets tab opens on the bundled sample, so it is never empty.
        demo.load(app.load_dataset, [ds_source, ds_split, ds_upload], load_outputs,
                  api_visibility="private")
    demo.queue(default_concurrency_limit=app.settings.concurrency, max_size=256)
    return demo


def launch(demo: gr.Blocks, **kwargs):
    """Serve ``demo`` with the app's theme and style (Gradio 6 takes them in ``launch``)."""
    kwargs.setdefault("theme", THEME)
    kwargs.setdefault("css", CSS)
    kwargs.setdefault("footer_links", ["api", "gradio", "settings"])
    return demo.launch(**kwargs)


try:
    demo = build_demo()
except ValueError as exc:  # a VIQA_* setting that makes no sense: say which, not a traceback
    if __name__ != "__main__":
        raise
    sys.exit(f"viqa: {exc}")

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    launch(demo)
