"""Errors a user can cause, each with a message that names the problem and the fix."""

from __future__ import annotations


class QAError(ValueError):
    """Base class: anything the caller can fix by changing their input or setup."""


class InputError(QAError):
    """The question, context or an answer option cannot be used as given (empty, too long,
    wrong type, not a finite number)."""


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


class SlowTokenizerError(CheckpointError):
    """The checkpoint has no fast tokenizer, so character offsets are unavailable."""


class NotAQAModelError(CheckpointError):
    """The checkpoint's architecture cannot take a question-answering head."""


class UntrainedHeadWarning(UserWarning):
    """The checkpoint has no trained QA head: its answers are random until fine-tuned."""
