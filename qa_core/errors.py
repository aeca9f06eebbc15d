"""Errors a user can cause, each with a message that names the problem and the fix."""

from __future__ import annotations


class QAError(ValueError):
    """Base class: anything the caller can fix by changing their input or setup."""


class InputError(QAError):
    """The question or context cannot be answered as given (empty, too long, wrong type)."""


class CheckpointError(QAError):
    """A checkpoint cannot be used for extractive QA."""


class CheckpointNotFoundError(CheckpointError):
    """Neither a local directory nor a Hub model of that name exists."""


class HubUnreachableError(CheckpointError):
    """The Hub could not be reached and the checkpoint is not cached locally."""


class SlowTokenizerError(CheckpointError):
    """The checkpoint has no fast tokenizer, so character offsets are unavailable."""


class NotAQAModelError(CheckpointError):
    """The checkpoint's architecture cannot take a question-answering head."""


class UntrainedHeadWarning(UserWarning):
    """The checkpoint has no trained QA head: its answers are random until fine-tuned."""
