"""viqa's engine: Vietnamese extractive question answering, shared by the app and training.

>>> from qa_core import load_reader                                # doctest: +SKIP
>>> reader = load_reader("deepset/xlm-roberta-base-squad2")        # doctest: +SKIP
>>> reader.answer("Thủ đô của Việt Nam là gì?", "Hà Nội là thủ đô của Việt Nam.").best_text  # doctest: +SKIP
'Hà Nội'
"""

from qa_core.answer_options import AnswerOptions
from qa_core.errors import (
    BrokenCheckpointError,
    CheckpointError,
    CheckpointNotFoundError,
    GatedCheckpointError,
    HubUnreachableError,
    InputError,
    InvalidHubIdError,
    NotAQAModelError,
    QAError,
    SlowTokenizerError,
    UntrainedHeadWarning,
)
from qa_core.question_types import question_type
from qa_core.reader import Reader, clear_reader_cache, load_reader
from qa_core.spans import SpanOptions, find_spans, find_spans_batch, postprocess_predictions
from qa_core.types import Answer, Prediction, SpanResult, TokenScore
from qa_core.windows import WindowConfig, prepare_eval_features, prepare_train_features

__all__ = [
    "Answer",
    "AnswerOptions",
    "BrokenCheckpointError",
    "CheckpointError",
    "CheckpointNotFoundError",
    "GatedCheckpointError",
    "HubUnreachableError",
    "InputError",
    "InvalidHubIdError",
    "NotAQAModelError",
    "Prediction",
    "QAError",
    "Reader",
    "SlowTokenizerError",
    "SpanOptions",
    "SpanResult",
    "TokenScore",
    "UntrainedHeadWarning",
    "WindowConfig",
    "clear_reader_cache",
    "find_spans",
    "find_spans_batch",
    "load_reader",
    "postprocess_predictions",
    "prepare_eval_features",
    "prepare_train_features",
    "question_type",
]
