"""Vietnamese extractive-QA data from any source, in one flat SQuAD-style schema.

Read top-down: :mod:`~qa_core.data.splits` (split names and slices), :mod:`~.records` (row
layouts → the flat schema of :mod:`~.schema`), :mod:`~.files` (local files),
:mod:`~.downloads` (the named sources' downloads, Hub datasets), :mod:`~.repair` (answers that
do not point at their text, repeated ids) and :mod:`~.sources` (the named sources and
:func:`load_source`).
"""

from qa_core.data.repair import RepairReport
from qa_core.data.schema import FEATURES, labelled_only
from qa_core.data.sources import NAMED_SOURCES, LoadedSource, SourceInfo, list_sources, load_source

__all__ = [
    "FEATURES",
    "NAMED_SOURCES",
    "LoadedSource",
    "RepairReport",
    "SourceInfo",
    "labelled_only",
    "list_sources",
    "load_source",
]
