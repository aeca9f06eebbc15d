"""The state every tab shares: settings, the checkpoints on offer, the reader cache, the
dataset cache, and the one path from a question to a prediction (validate, load, answer)
that every tab and the API use."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import gradio as gr

from qa_core.answer_options import LIBRARY_DEFAULTS, AnswerOptions, checkpoint_defaults
from qa_core.data import LoadedSource, load_source
from qa_core.errors import (
    CheckpointError,
    GatedCheckpointError,
    HubUnreachableError,
    Phrase,
    SourceUnavailableError,
)
from qa_core.reader import validate_text
from qa_core.types import Prediction
from ui import gpu
from ui.checkpoints import Checkpoints
from ui.feedback import user_error, user_errors, warn_user
from ui.i18n import DEFAULT_LANGUAGE, t, translate
from ui.reader_cache import ReaderCache, load_uncached_reader
from ui.settings import Settings
from ui.text import SearchText, search_index

DATASET_CACHE_SIZE = 4  # loaded splits kept for browsing and evaluating
UPLOAD = "upload"  # the source value that means "the file uploaded beside the picker"


@dataclass
class DatasetView:
    """A loaded split with what browsing needs precomputed."""

    loaded: LoadedSource
    rows: list[dict]
    index: list[SearchText]  # question + context, for search

    def label(self, lang: str = DEFAULT_LANGUAGE) -> str:
        source = self.loaded.source
        name = t(f"source.{source}", lang) if source in SOURCE_NAMES else Path(source).name
        return f"{name} · {self.loaded.split}"


SOURCE_NAMES = ("sample", "mlqa.vi.vi", "mlqa-translate-train.vi", "xquad.vi", "uit-viquad2")


def load_reader_for(checkpoint: str, settings: Settings):
    """A fresh reader placed as this app runs them (on ZeroGPU: on the GPU it is lent)."""
    device, dtype = gpu.reader_placement(settings.dtype)
    if device is None:
        return load_uncached_reader(checkpoint, dtype=dtype)
    from qa_core.reader import build_reader

    return build_reader(checkpoint, device=device, dtype=dtype)


class ViqaApp:
    """What the tabs' handlers share: the settings, the reader cache and the loaded datasets
    (instead of module globals, so that tests build their own)."""

    def __init__(self, settings: Settings | None = None, readers: ReaderCache | None = None):
        self.settings = settings or Settings.from_env()
        self.readers = readers if readers is not None else ReaderCache(
            self.settings.cache_size, partial(load_reader_for, settings=self.settings))
        self._datasets: OrderedDict[tuple[str, str], DatasetView] = OrderedDict()
        self._datasets_lock = threading.Lock()
        self._checkpoints: Checkpoints | None = None
        self.key = uuid.uuid4().hex  # how ui.gpu.answer_questions finds this app's readers
        gpu.APPS[self.key] = self

    # ---- checkpoints ----------------------------------------------------------------------
    @property
    def checkpoints(self) -> Checkpoints:
        if self._checkpoints is None:
            self.rescan()
        return self._checkpoints

    def rescan(self) -> Checkpoints:
        """Look at the models directory again."""
        self._checkpoints = Checkpoints.scan(self.settings.models_dir,
                                             self.settings.allow_local_paths)
        return self._checkpoints

    def default_checkpoint(self) -> str:
        return self.checkpoints.default()

    def startup_notes(self) -> list[Phrase]:
        """What a user must know before the first question (no model available offline,
        local folders that cannot be used)."""
        return self.checkpoints.notes()

    def resolve(self, checkpoint: str) -> str:
        """What a name loads as (``smoke`` → ``models/smoke``), or a ``CheckpointError``: a
        path this server does not serve, in the same words whether it exists or not."""
        return self.checkpoints.resolve(checkpoint)

    def trained_options(self, checkpoint: str) -> tuple[AnswerOptions, str]:
        """The options a reader of ``checkpoint`` answers with when a call gives none, and
        where they come from; without loading it (library defaults for a name not served)."""
        try:
            name = self.resolve(checkpoint)
        except CheckpointError:
            return AnswerOptions(), LIBRARY_DEFAULTS
        reader = self.readers.peek(name) if name else None
        if reader is not None:
            return reader.defaults, reader.defaults_source
        return checkpoint_defaults(name) if name else (AnswerOptions(), LIBRARY_DEFAULTS)

    def loaded_reader(self, checkpoint: str):
        """The reader of ``checkpoint`` if it is loaded already, else ``None`` (never loads)."""
        try:
            name = self.resolve(checkpoint)
        except CheckpointError:
            return None
        return self.readers.peek(name) if name else None

    def get_reader(self, checkpoint: str, lang: str = DEFAULT_LANGUAGE,
                   progress: gr.Progress | None = None):
        """The reader for ``checkpoint``, loading it with a progress message if needed; what
        its answers must say (an untrained head) is shown as a warning on every use."""
        checkpoint = (checkpoint or "").strip()
        if not checkpoint:
            raise user_error(t("error.no_checkpoint", lang),
                             t("title.cannot", lang, action=t("action.load_model", lang)))
        with user_errors("load_model", lang):
            name = self.resolve(checkpoint)
        if progress is not None and self.readers.peek(name) is None:
            progress(0, desc=t("progress.loading", lang, name=checkpoint))
        try:
            with user_errors("load_model", lang):
                reader = self.readers.get(name)
        except gr.Error as err:
            cause = err.__cause__
            if isinstance(cause, GatedCheckpointError):  # its own title
                raise user_error(translate(cause, lang), t("title.gated", lang)) from cause
            if isinstance(cause, HubUnreachableError) and not self.settings.allow_local_paths:
                # The engine's advice, "pass the local directory", is what this server refuses
                # unless the folder is in its models directory: say that instead.
                raise user_error(
                    t("error.hub_unreachable", lang, name=name,
                      folder=self.settings.models_dir),
                    t("title.cannot", lang, action=t("action.load_model", lang))) from cause
            raise
        for message in reader.warnings:
            warn_user(translate(message, lang))
        return reader

    # ---- asking ---------------------------------------------------------------------------
    def check_input(self, question: str, context: str, lang: str = DEFAULT_LANGUAGE) -> None:
        """Empty or too long input is refused before any model is loaded."""
        with user_errors("answer", lang):
            validate_text(question, context)
        limit = self.settings.max_context_chars
        if len(context) > limit:
            raise user_error(t("error.context_too_long", lang, n=len(context), limit=limit),
                             t("title.context_too_long", lang))

    def options_for(self, reader, lang: str = DEFAULT_LANGUAGE, **given) -> AnswerOptions:
        """The options a call with ``given`` answers with: the reader's defaults (the
        checkpoint's trained settings) with every given value that is not ``None`` applied."""
        with user_errors("answer", lang):
            return reader.defaults.with_overrides(**given)

    def answer(self, checkpoint: str, questions: list[str], contexts: list[str],
               options: AnswerOptions, lang: str = DEFAULT_LANGUAGE,
               include_tokens: bool = False) -> list[Prediction]:
        """Answers of the (loaded) reader of ``checkpoint``, on the GPU a Space lends if it
        lends one (``ui.gpu.answer_questions``)."""
        with user_errors("answer", lang):
            preds = gpu.answer_questions(self.key, self.resolve(checkpoint), questions, contexts,
                                         dataclasses.asdict(options), include_tokens)
        for pred in preds:  # named as the caller named it, never by a path on this server
            pred.checkpoint = checkpoint
        return preds

    def predict(self, context: str, question: str, checkpoint: str,
                lang: str = DEFAULT_LANGUAGE, progress: gr.Progress | None = None, *,
                include_tokens: bool = False, **given) -> tuple[Prediction, object, AnswerOptions]:
        """Validate, load (cached) and answer: the one path every tab and the API share.
        Returns the prediction, the reader and the options in force. An option left at
        ``None`` is the checkpoint's own (its ``viqa_training.json``)."""
        self.check_input(question, context, lang)
        reader = self.get_reader(checkpoint, lang, progress)
        options = self.options_for(reader, lang, **given)
        if progress is not None:
            progress(0.5, desc=t("progress.answering", lang))
        (pred,) = self.answer(checkpoint, [question], [context], options, lang, include_tokens)
        return pred, reader, options

    def answer_all(self, checkpoint: str, questions: list[str], contexts: list[str],
                   options: AnswerOptions, lang: str, progress: gr.Progress,
                   chunk: int = 8) -> list[Prediction]:
        """The answers to many questions. Off ZeroGPU in chunks, so the progress bar moves; on
        ZeroGPU in one call (each call asks for the GPU anew), refused first when it would
        run longer than one call may."""
        if gpu.ZERO_GPU:
            windows = gpu.estimated_windows(contexts, options.max_length, options.doc_stride)
            if windows > gpu.windows_budget():
                most = max(1, int(len(questions) * gpu.windows_budget() / windows))
                raise user_error(t("error.gpu_budget", lang, n=len(questions), most=most,
                                   seconds=int(gpu.MAX_DURATION_S)),
                                 t("title.too_large", lang))
            progress(0, desc=t("progress.answering_gpu", lang, n=len(questions)))
            return self.answer(checkpoint, questions, contexts, options, lang)
        preds: list[Prediction] = []
        for b in range(0, len(questions), chunk):
            progress((b, len(questions)), desc=t("progress.answering", lang),
                     unit=t("progress.unit", lang))
            preds += self.answer(checkpoint, questions[b: b + chunk], contexts[b: b + chunk],
                                 options, lang)
        return preds

    # ---- datasets -------------------------------------------------------------------------
    @staticmethod
    def source_of(source: str, upload: str | None, lang: str = DEFAULT_LANGUAGE) -> str:
        """What ``load_source`` takes: a named source, or the uploaded file's path."""
        if source == UPLOAD:
            if not upload:
                raise user_error(t("error.no_upload", lang), t("title.no_file", lang))
            return str(upload)
        return source

    def dataset(self, source: str, split: str | None,
                lang: str = DEFAULT_LANGUAGE) -> DatasetView:
        """A loaded split, from the app's small cache or freshly loaded."""
        key = (source, split or "")
        with self._datasets_lock:
            if key in self._datasets:
                self._datasets.move_to_end(key)
                return self._datasets[key]
        try:
            with user_errors("load_dataset", lang):
                loaded = load_source(source, split or None)
        except gr.Error as err:
            cause = err.__cause__
            if isinstance(cause, SourceUnavailableError) and "url" in cause.params:
                # Said for a web page: no Python call to make, no path on this server.
                reason = cause.params.get("reason") or cause.params.get("detail", "")
                raise user_error(
                    t("error.source_unavailable", lang, name=cause.params["name"],
                      url=cause.params["url"], reason=reason),
                    t("title.cannot", lang, action=t("action.load_dataset", lang)),
                ) from cause
            raise
        rows = loaded.dataset.to_list()
        view = DatasetView(loaded, rows, search_index(
            [r["question"] for r in rows], [r["context"] for r in rows]))
        with self._datasets_lock:
            self._datasets[key] = view
            while len(self._datasets) > DATASET_CACHE_SIZE:
                self._datasets.popitem(last=False)
        return view
