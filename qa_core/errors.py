"""Errors a user can cause, each with a message that names the problem and the fix.

Every message is an English template plus its values: ``InputError("The question is empty:
type a question about the passage.")`` or ``CheckpointError("'{name}' could not be loaded:
{detail}", name=..., detail=...)``. ``str(error)`` is the filled template, as the command line
and Python callers read it; the app looks the *template* up in its Vietnamese catalogue and
fills the translation with the same values (gettext's way: the English text is the key). A
value that is itself a ``QAError`` is translated the same way. Library messages quoted in a
``detail`` stay as the library wrote them.

>>> err = InputError("{name}={value!r} must be a whole number (e.g. {name}=5).", name="top_n", value=2.5)
>>> str(err), err.template, err.params["name"]
('top_n=2.5 must be a whole number (e.g. top_n=5).', '{name}={value!r} must be a whole number (e.g. {name}=5).', 'top_n')
"""

from __future__ import annotations

from collections.abc import Mapping


def fill(template: str, params: Mapping[str, object]) -> str:
    """``template`` with ``params`` filled in (``str.format``); a template given no values is
    returned as written, so literal braces need no escaping there.

    >>> fill("'{name}' is gated", {"name": "org/model"}), fill("{not a field}", {})
    ("'org/model' is gated", '{not a field}')
    """
    return template.format(**params) if params else template


class Phrase(str):
    """A translatable piece of a message, used as one of its values: the text is the English
    ``template`` filled with ``params``, and the app translates it like a message.

    >>> where = Phrase("{file}: row {row}", file="data.csv", row=3)
    >>> where, where.template
    ('data.csv: row 3', '{file}: row {row}')
    """

    template: str
    params: dict

    def __new__(cls, template: str, /, **params: object) -> Phrase:
        text = super().__new__(cls, fill(template, params))
        text.template, text.params = template, params
        return text


def joined(phrases: list[Phrase], separator: str = "; ") -> Phrase:
    """Several phrases as one value, each translated on its own.

    >>> joined([Phrase("row {row}: empty question", row=2), Phrase("row 5: empty context")])
    'row 2: empty question; row 5: empty context'
    """
    fields = separator.join(f"{{p{i}}}" for i in range(len(phrases)))
    return Phrase(fields, **{f"p{i}": phrase for i, phrase in enumerate(phrases)})


class QAError(ValueError):
    """Base class: anything the caller can fix by changing their input or setup.

    ``template`` is the English message with ``{name}`` fields, ``params`` their values.
    """

    def __init__(self, template: str, /, **params: object):
        self.template = template
        self.params = params
        super().__init__(fill(template, params))

    def __reduce__(self):
        # Rebuilt from template and values, not from the filled text, so an error that crossed
        # a process boundary (a ZeroGPU worker) can still be translated.
        return _rebuild, (type(self), self.template, self.params)


def _rebuild(cls: type[QAError], template: str, params: dict) -> QAError:
    return cls(template, **params)


class InputError(QAError):
    """The question, context or an answer option cannot be used as given (empty, too long,
    wrong type, not a finite number)."""


# --- checkpoints ------------------------------------------------------------------------------
class CheckpointError(QAError):
    """A checkpoint cannot be used for extractive QA."""


class CheckpointNotFoundError(CheckpointError):
    """Neither a local directory nor a Hub model of that name exists."""


class InvalidHubIdError(CheckpointNotFoundError):
    """The name is no existing directory and cannot be a Hub id (spaces, ``<``, ``&``, ...)."""


class HubUnreachableError(CheckpointError):
    """The Hub could not be reached and the checkpoint is not (fully) cached locally."""


class GatedCheckpointError(CheckpointError):
    """The Hub model is gated: its conditions must be accepted and a token given."""


class BrokenCheckpointError(CheckpointError):
    """A local checkpoint folder is incomplete or damaged (no weights, empty or truncated
    weights, malformed ``config.json``)."""


class SegmenterUnavailableError(InputError):
    """The chosen word segmenter's package (PhoBERT's input) is not installed."""


class SlowTokenizerError(CheckpointError):
    """The checkpoint has no fast tokenizer and no adapter gives its tokens character offsets."""


class NotAQAModelError(CheckpointError):
    """The checkpoint's architecture cannot take a question-answering head."""


class UntrainedHeadWarning(UserWarning):
    """The checkpoint has no trained QA head: its answers are random until fine-tuned."""


# --- data sources -----------------------------------------------------------------------------
class SourceError(QAError):
    """A data source that cannot be loaded as asked."""


class SourceUnavailableError(SourceError):
    """A download or Hub request failed (offline, moved, refused)."""


class DatasetFormatError(SourceError):
    """A file or table is not in any layout the loaders understand."""


class UnknownSourceError(SourceError):
    """Neither a named source, an existing file, nor a Hub dataset id."""


class UnknownSplitError(SourceError):
    """The split is not one the source has, or its slice syntax is wrong."""


class UnlabelledDataError(SourceError):
    """Questions without gold answers where answers are needed (scoring, training)."""


# --- scoring ----------------------------------------------------------------------------------
class MetricInputError(QAError):
    """References, predictions or options that cannot be scored as given."""
