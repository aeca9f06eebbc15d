"""Start/end logits → ranked answer spans, pure numpy: the rules and the search for one example
(``search``), the same for many examples at once (``batch``), and an evaluation's spans and
references (``evaluation``)."""

from qa_core.spans.batch import column_values, find_spans_batch
from qa_core.spans.evaluation import map_answer, pad_offsets, postprocess_predictions, references_of
from qa_core.spans.search import SpanOptions, collapse_tokens, find_spans, null_score, trim_maps

__all__ = [
    "SpanOptions",
    "collapse_tokens",
    "column_values",
    "find_spans",
    "find_spans_batch",
    "map_answer",
    "null_score",
    "pad_offsets",
    "postprocess_predictions",
    "references_of",
    "trim_maps",
]
