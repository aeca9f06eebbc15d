"""viqa's engine: Vietnamese extractive question answering, shared by the app and training.

The package reads top-down, one stage per module or package: ``data`` (any source → one flat
schema), ``windows`` (question + context → token windows), ``model`` (loading a checkpoint,
precision), ``spans`` (logits → ranked answer spans), ``reader`` (all of it behind one call),
``evaluation`` (metrics and the analysis of an evaluation). What users call is exported here.

Example (downloads a model from the Hub)::

    from qa_core import load_reader

    reader = load_reader("deepset/xlm-roberta-base-squad2")
    reader.answer("Thủ đô của Việt Nam là gì?", "Hà Nội là thủ đô của Việt Nam.").best_text
    # 'Hà Nội'
"""

from qa_core.answer_options import AnswerOptions
from qa_core.data import LoadedSource, load_source
from qa_core.errors import (
    BrokenCheckpointError,
    CheckpointError,
    CheckpointNotFoundError,
    DatasetFormatError,
    GatedCheckpointError,
    HubUnreachableError,
    InputError,
    InvalidHubIdError,
    MetricInputError,
    NotAQAModelError,
    QAError,
    SegmenterUnavailableError,
    SlowTokenizerError,
    SourceError,
    SourceUnavailableError,
    UnknownSourceError,
    UnknownSplitError,
    UnlabelledDataError,
    UntrainedHeadWarning,
)
from qa_core.evaluation.metrics import compute_metrics
from qa_core.evaluation.question_types import question_type
from qa_core.reader import Reader, load_reader
from qa_core.types import Answer, Prediction, TokenScore

__all__ = [
    "Answer",
    "AnswerOptions",
    "BrokenCheckpointError",
    "CheckpointError",
    "CheckpointNotFoundError",
    "DatasetFormatError",
    "GatedCheckpointError",
    "HubUnreachableError",
    "InputError",
    "InvalidHubIdError",
    "LoadedSource",
    "MetricInputError",
    "NotAQAModelError",
    "Prediction",
    "QAError",
    "Reader",
    "SegmenterUnavailableError",
    "SlowTokenizerError",
    "SourceError",
    "SourceUnavailableError",
    "TokenScore",
    "UnknownSourceError",
    "UnknownSplitError",
    "UnlabelledDataError",
    "UntrainedHeadWarning",
    "compute_metrics",
    "load_reader",
    "load_source",
    "question_type",
]
