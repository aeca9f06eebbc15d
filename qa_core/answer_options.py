"""How a reader answers (windows, span limits, no-answer rule), validated once, and the
settings a checkpoint trained here saved beside its weights (``viqa_training.json``).

A model answers best with the windows it was trained on and the no-answer threshold tuned for
it, so those become the defaults of every reader of that checkpoint; an explicit argument
still wins. ``train.evaluate`` reads the file through :func:`read_trained_settings` too, so the
app, the CLI and evaluation answer alike.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import numbers
from dataclasses import dataclass
from pathlib import Path

from qa_core.errors import InputError, Phrase
from qa_core.model.folders import read_json
from qa_core.spans import SpanOptions
from qa_core.windows import WindowConfig

logger = logging.getLogger(__name__)

RECORD_FILE = "viqa_training.json"
_INT_FIELDS = ("top_n", "max_answer_length", "max_length", "doc_stride", "max_question_length")
# Fields of viqa_training.json that are answer settings: where they live in the record.
_TRAINED_FIELDS = ("max_length", "doc_stride", "max_answer_length", "max_question_length")


def _whole_number(name: str, value) -> int:
    """``value`` as an int: ints and whole floats (``3.0``, as sliders send) pass; ``2.5``,
    ``"3"``, ``True`` and ``NaN`` are refused with an :class:`InputError`."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and float(value).is_integer()
    ):
        return int(value)
    raise InputError("{name}={value!r} must be a whole number (e.g. {name}=5).", name=name,
                     value=value)


@dataclass(frozen=True)
class AnswerOptions:
    """Everything ``Reader.answer`` accepts besides the text, validated on construction."""

    top_n: int = 5  # candidates returned, best first
    max_answer_length: int = 30  # tokens
    max_length: int = 384  # tokens per window, question and special tokens included
    doc_stride: int = 128  # tokens shared by consecutive windows
    allow_no_answer: bool = False  # SQuAD v2: the model may answer "no answer"
    null_threshold: float = 0.0  # "no answer" when null score - best span score > this
    max_question_length: int = 64  # longer questions are truncated

    def __post_init__(self) -> None:
        for name in _INT_FIELDS:
            object.__setattr__(self, name, _whole_number(name, getattr(self, name)))
        if not isinstance(self.allow_no_answer, bool):
            if type(self.allow_no_answer).__name__ != "bool_":  # numpy's bool
                raise InputError(
                    "allow_no_answer={value!r} must be True or False.", value=self.allow_no_answer
                )
            object.__setattr__(self, "allow_no_answer", bool(self.allow_no_answer))
        threshold = self.null_threshold
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, numbers.Real)
            or not math.isfinite(threshold)
        ):
            raise InputError(
                "null_threshold={value!r} must be a finite number (default 0.0; higher answers "
                "more often, lower says 'no answer' more often).", value=threshold,
            )
        object.__setattr__(self, "null_threshold", float(threshold))
        self.windows()  # the range checks live with the settings they guard
        self.spans()

    def windows(self) -> WindowConfig:
        return WindowConfig(self.max_length, self.doc_stride, self.max_question_length)

    def spans(self) -> SpanOptions:
        return SpanOptions(
            self.top_n, self.max_answer_length, self.allow_no_answer, self.null_threshold
        )

    def with_overrides(self, **overrides) -> AnswerOptions:
        """These options with every override that is not ``None`` applied (and validated)."""
        unknown = set(overrides) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise InputError(
                "Unknown answer option(s) {unknown}; known: {known}.",
                unknown=", ".join(sorted(unknown)),
                known=", ".join(f.name for f in dataclasses.fields(self)),
            )
        given = {k: v for k, v in overrides.items() if v is not None}
        return dataclasses.replace(self, **given) if given else self

    def describe(self) -> str:
        """A short human description, e.g. ``windows of 384 tokens (stride 128), answers up
        to 30 tokens, no-answer off``."""
        text = (
            f"windows of {self.max_length} tokens (stride {self.doc_stride}), answers up to "
            f"{self.max_answer_length} tokens, "
        )
        if self.allow_no_answer:
            return text + f"no-answer on (threshold {self.null_threshold:g})"
        return text + "no-answer off"


@dataclass(frozen=True)
class TrainedSettings:
    """The answer settings a checkpoint trained here saved in ``viqa_training.json``
    (``None`` where the file does not say)."""

    path: Path
    max_length: int | None = None
    doc_stride: int | None = None
    max_answer_length: int | None = None
    max_question_length: int | None = None
    allow_no_answer: bool | None = None
    null_threshold: float | None = None
    # where training tuned ``null_threshold`` (e.g. "held-out training passages"); a label only
    null_threshold_source: str | None = None
    # said when that threshold is degenerate ("no answer" to >= 90% of answerable questions)
    no_answer_warning: Phrase | None = None
    # the word segmenter the model was trained with (PhoBERT: ``qa_core.segmentation``)
    word_segmenter: str | None = None
    base_model: str | None = None  # what it was fine-tuned from (its licence carries over)

    def overrides(self) -> dict:
        """The settings the file gives, as ``AnswerOptions`` fields."""
        names = (*_TRAINED_FIELDS, "allow_no_answer", "null_threshold")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


def read_trained_settings(checkpoint: str | Path) -> TrainedSettings | None:
    """The settings in ``checkpoint/viqa_training.json``, or ``None`` for Hub ids and folders
    not trained here. An unreadable file is logged and ignored: the model still loads."""
    path = Path(str(checkpoint)).expanduser() / RECORD_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        settings = record.get("settings") or {}
        values = {n: settings.get(n) for n in _TRAINED_FIELDS}
        values["allow_no_answer"] = record.get("allow_no_answer")
        values["null_threshold"] = record.get("null_threshold")
        source = record.get("null_threshold_source")
        values["null_threshold_source"] = str(source) if source else None
        segmenter = settings.get("word_segmenter")
        values["word_segmenter"] = str(segmenter) if segmenter else None
        base = record.get("base_model")
        values["base_model"] = str(base) if base else None
        values["no_answer_warning"] = _degenerate_warning(record)
        trained = TrainedSettings(path, **values)
        AnswerOptions().with_overrides(**trained.overrides())  # refuse nonsense values
    except (OSError, UnicodeDecodeError, ValueError, AttributeError, TypeError) as exc:
        logger.warning("Ignoring %s: %s. The reader's own defaults apply.", path, exc)
        return None
    return trained


def _degenerate_warning(record: dict) -> str | None:
    """The warning of a record whose threshold says "no answer" to almost every answerable
    evaluation question, naming that threshold."""
    from qa_core.evaluation.no_answer import degenerate_warning

    share = record.get("no_answer_share")
    if not record.get("degenerate_no_answer") or share is None:
        return None
    threshold = record.get("null_threshold")
    where = (Phrase("its evaluation set (threshold {threshold:g})", threshold=float(threshold))
             if threshold is not None else Phrase("its evaluation set"))
    return degenerate_warning(float(share), where, record.get("no_answer_auc"))


LIBRARY_DEFAULTS = Phrase("library defaults")  # where options come from when not trained here


# Models whose position embeddings start after the padding index (RoBERTa's family: XLM-R,
# PhoBERT, CamemBERT): two positions fewer than the config says hold tokens.
_PADDED_POSITIONS = ("roberta", "xlm-roberta", "camembert")


def window_limit(model_type: str | None, max_position_embeddings: int | None) -> int | None:
    """The most tokens one window of this model can hold (``None``: unknown).

    >>> window_limit("roberta", 258), window_limit("xlm-roberta", 514), window_limit("bert", 512)
    (256, 512, 512)
    """
    if not max_position_embeddings:
        return None
    return max_position_embeddings - (2 if model_type in _PADDED_POSITIONS else 0)


def trained_defaults(trained: TrainedSettings | None,
                     limit: int | None = None) -> tuple[AnswerOptions, Phrase]:
    """The options ``trained`` makes the defaults, and where they come from
    (``"as trained (viqa_training.json)"``, or ``"library defaults"`` for ``None``). Without
    trained settings the library's windows are cut to ``limit`` tokens where the model holds
    fewer (PhoBERT: 256)."""
    if trained is None:
        options = AnswerOptions()
        if limit is not None and limit < options.max_length:
            options = options.with_overrides(max_length=limit,
                                              doc_stride=min(options.doc_stride, limit // 2))
        return options, LIBRARY_DEFAULTS
    return (AnswerOptions().with_overrides(**trained.overrides()),
            Phrase("as trained ({file})", file=RECORD_FILE))


def checkpoint_defaults(
    checkpoint: str | Path, cache_dir: str | None = None
) -> tuple[AnswerOptions, Phrase]:
    """The options a reader of ``checkpoint`` uses when a call does not give them, and where
    they come from (see :func:`trained_defaults`), without loading it: a local folder's
    record, or for a Hub id the record already in the Hub cache (a model pushed from here;
    never downloaded here, so the app's pickers stay offline)."""
    local = Path(str(checkpoint)).expanduser()
    if local.is_dir():
        config = read_json(local / "config.json")
        config = config if isinstance(config, dict) else {}
        limit = window_limit(config.get("model_type"), config.get("max_position_embeddings"))
        return trained_defaults(read_trained_settings(local), limit)
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(str(checkpoint), RECORD_FILE, cache_dir=cache_dir)
    except ValueError:  # not a repository id (HFValidationError): no record to read
        return trained_defaults(None)
    if not isinstance(cached, str):
        return trained_defaults(None)
    return trained_defaults(read_trained_settings(Path(cached).parent))
