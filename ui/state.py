"""The state every tab shares: settings, the reader cache, the dataset cache, and the one path
from a question to a prediction (validate, load, answer) that every tab and the API use."""

from __future__ import annotations

import dataclasses
import html
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import gradio as gr

from qa_core.answer_options import AnswerOptions, checkpoint_defaults
from qa_core.checkpoints import (
    PUBLIC_CHECKPOINTS,
    ReaderCache,
    checkpoint_choices,
    default_checkpoint,
    load_uncached_reader,
    models_dir,
    served_checkpoint,
    startup_notice,
)
from qa_core.errors import CheckpointError, GatedCheckpointError
from qa_core.reader import validate_text
from qa_core.sources import LoadedSource, load_source
from qa_core.types import Prediction
from ui import display
from ui.settings import Settings
from ui.widgets import SOURCE_LABELS, UPLOAD, user_error, user_errors, warn_user

DATASET_CACHE_SIZE = 4  # loaded splits kept for browsing and evaluating


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


class ViqaApp:
    """What the tabs' handlers share: the settings, the reader cache and the loaded datasets
    (instead of module globals, so that tests build their own)."""

    def __init__(self, settings: Settings | None = None, readers: ReaderCache | None = None):
        self.settings = settings or Settings.from_env()
        self.readers = readers if readers is not None else ReaderCache(
            self.settings.cache_size, partial(load_uncached_reader, dtype=self.settings.dtype))
        self._datasets: OrderedDict[tuple[str, str], DatasetView] = OrderedDict()
        self._datasets_lock = threading.Lock()
        self._listed: tuple[str, ...] | None = None  # local checkpoints the pickers offer

    # ---- checkpoints ----------------------------------------------------------------------
    def checkpoint_choices(self) -> list[tuple[str, str]]:
        choices = checkpoint_choices(self.settings.models_dir)
        public = {c.hub_id for c in PUBLIC_CHECKPOINTS}
        self._listed = tuple(v for _, v in choices if v not in public)
        return choices

    def startup_notice(self) -> str | None:
        """What a user must know before the first question (no model available offline,
        local folders that cannot be used), or ``None``."""
        return startup_notice(self.settings.models_dir)

    def served(self, checkpoint: str) -> str:
        """``checkpoint`` if this server may load it (Hub ids; local folders only under the
        models directory unless ``allow_local_paths``), else a ``gr.Error`` that reads the same
        whether the path exists or not."""
        with user_errors("load the model"):
            return self._served_name(checkpoint)

    def _served_name(self, checkpoint: str) -> str:
        """``served_checkpoint`` under this app's policy, the listed folders scanned first
        (raises ``CheckpointError``)."""
        if self._listed is None:
            self.checkpoint_choices()
        return served_checkpoint(checkpoint, self.settings.models_dir,
                                 self.settings.allow_local_paths, self._listed or ())

    def trained_options(self, checkpoint: str) -> tuple[AnswerOptions, str]:
        """The options a reader of ``checkpoint`` answers with when a call gives none, and
        where they come from; without loading it (library defaults for a name not served)."""
        name = (checkpoint or "").strip()
        if name in self.readers:
            reader = self.readers.get(name).reader
            return reader.defaults, reader.defaults_source
        try:
            name = self._served_name(name)
        except CheckpointError:
            return AnswerOptions(), "library defaults"
        return checkpoint_defaults(name) if name else (AnswerOptions(), "library defaults")

    def loaded_reader(self, checkpoint: str):
        """The reader of ``checkpoint`` if it is loaded already, else ``None`` (never loads)."""
        name = (checkpoint or "").strip()
        return self.readers.get(name).reader if name and name in self.readers else None

    def default_checkpoint(self) -> str:
        return default_checkpoint(self.settings.models_dir)

    def refresh_checkpoints(self, *current: str):
        """Rescan the models directory; keep each picker's value."""
        choices = self.checkpoint_choices()
        n_local = sum(1 for _, v in choices if Path(v).exists())
        gr.Info(html.escape(f"{display.plural(n_local, 'local checkpoint')} in "
                            f"{models_dir(self.settings.models_dir)}.", quote=False))
        return [gr.Dropdown(choices=choices, value=value, allow_custom_value=True)
                for value in current]

    def get_reader(self, checkpoint: str, progress: gr.Progress | None = None):
        """The reader for ``checkpoint``, loading it with a progress message if needed."""
        checkpoint = (checkpoint or "").strip()
        if not checkpoint:
            raise user_error("No checkpoint chosen: pick one from the list or type a Hub id or a "
                             "local path.", title="Cannot load the model")
        checkpoint = self.served(checkpoint)
        if progress is not None and checkpoint not in self.readers:
            progress(0, desc=f"Loading {checkpoint} (first use)…")
        try:
            with user_errors("load the model"):
                entry = self.readers.get(checkpoint)
        except gr.Error as err:
            if isinstance(err.__cause__, GatedCheckpointError):  # its own message and title
                raise user_error(str(err.__cause__), title="Gated model: accept its "
                                 "conditions and log in") from err.__cause__
            raise
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

    @staticmethod
    def options_for(reader, **given) -> AnswerOptions:
        """The options a call with ``given`` answers with: the reader's defaults (the
        checkpoint's trained settings) with every given value that is not ``None`` applied."""
        with user_errors("answer"):
            return reader.defaults.with_overrides(**given)

    def predict(
        self, context: str, question: str, checkpoint: str, top_n: int | None = None,
        max_answer_length: int | None = None, allow_no_answer: bool | None = None,
        null_threshold: float | None = None, progress: gr.Progress | None = None, *,
        max_length: int | None = None, doc_stride: int | None = None,
    ) -> Prediction:
        """Validate, load (cached) and answer: the one path every tab and the API share.
        An option left at ``None`` is the checkpoint's own (its ``viqa_training.json``)."""
        return self.predict_in_detail(
            context, question, checkpoint, progress, top_n=top_n,
            max_answer_length=max_answer_length, allow_no_answer=allow_no_answer,
            null_threshold=null_threshold, max_length=max_length, doc_stride=doc_stride)[0]

    def predict_in_detail(
        self, context: str, question: str, checkpoint: str,
        progress: gr.Progress | None = None, **given,
    ) -> tuple[Prediction, object, AnswerOptions]:
        """:meth:`predict`, also returning the reader and the options in force."""
        self.check_input(question, context)
        reader = self.get_reader(checkpoint, progress)
        options = self.options_for(reader, **given)
        if progress is not None:
            progress(0.5, desc="Answering…")
        with user_errors("answer"):
            pred = reader.answer(question, context, **dataclasses.asdict(options))
        return pred, reader, options

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
            while len(self._datasets) > DATASET_CACHE_SIZE:
                self._datasets.popitem(last=False)
        return view
