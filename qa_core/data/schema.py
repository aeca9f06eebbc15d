"""The flat schema every source is loaded into, and which of its questions can be scored.

A loaded split is a ``datasets.Dataset`` with the columns of the Hub ``squad`` dataset plus one
flag (:data:`FEATURES`): ``id, title, context, question, answers={text: [...], answer_start:
[...]}, labelled``. An unanswerable (SQuAD v2.0) question has empty answer lists; a question
with no gold label at all (a test set published without its answers) has ``labelled=False``.
"""

from __future__ import annotations

from collections.abc import Mapping

import datasets

from qa_core.errors import UnlabelledDataError

FEATURES = datasets.Features(
    {
        "id": datasets.Value("string"),
        "title": datasets.Value("string"),
        "context": datasets.Value("string"),
        "question": datasets.Value("string"),
        "answers": {
            "text": datasets.List(datasets.Value("string")),
            "answer_start": datasets.List(datasets.Value("int32")),
        },
        # False: no gold answer at all (an unlabelled test question), not "unanswerable".
        "labelled": datasets.Value("bool"),
    }
)
EXTRA_COLUMNS = ("uit_id",)  # kept as strings beside ``id`` when a source's rows have them
FILE_SUFFIXES = (".json", ".jsonl", ".csv", ".parquet")  # the local files the loaders read


def features_for(records: list[dict]) -> datasets.Features:
    """:data:`FEATURES`, plus those of :data:`EXTRA_COLUMNS` that some record has (the others
    get "")."""
    features = FEATURES.copy()
    for column in EXTRA_COLUMNS:
        if any(column in record for record in records):
            features[column] = datasets.Value("string")
            for record in records:
                record.setdefault(column, "")
    return features


def is_labelled(record: Mapping) -> bool:
    """Whether a question (a row of a loaded dataset) has a gold label: answers, or a mark
    that it has none. Rows without the ``labelled`` column count as labelled."""
    return bool(record.get("labelled", True))


def labelled_only(
    dataset: datasets.Dataset, what: str = "this split"
) -> tuple[datasets.Dataset, int]:
    """The questions of ``dataset`` that have gold labels, and how many were left out.

    Raises :class:`~qa_core.errors.UnlabelledDataError` when none has: scoring predictions
    against no gold answers would report every empty prediction as right.
    """
    if "labelled" not in dataset.column_names:
        return dataset, 0
    flags = list(dataset["labelled"])
    keep = [i for i, flag in enumerate(flags) if flag]
    if not keep and flags:
        raise UnlabelledDataError(
            "{what} has no gold answers: none of its {n:,} questions has an answer or is marked "
            "unanswerable (is_impossible: true), so there is nothing to score against. Test sets "
            "are often published without their answers; evaluate on a split that has them "
            "(e.g. 'validation').", what=what, n=len(flags),
        )
    skipped = len(flags) - len(keep)
    return (dataset.select(keep) if skipped else dataset), skipped
