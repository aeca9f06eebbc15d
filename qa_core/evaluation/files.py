"""Scoring files: a predictions file against a data file, as the official scripts do.

``python -m qa_core score DATA PREDICTIONS`` reads ``DATA`` through ``qa_core.data``, as
``train.evaluate`` does: every format the loaders read, the same answer repairs and renamed
repeated ids, so it scores that command's ``predictions.json`` to the same numbers. Questions
without a gold answer (an unlabelled test split) are not scored.
"""

from __future__ import annotations

import json
from pathlib import Path

from qa_core.errors import MetricInputError
from qa_core.evaluation.metrics import compute_all, compute_metrics

_SQUAD_LAYOUT = (
    "Expected the SQuAD layout: {{'data': [{{'paragraphs': [{{'context': ..., "
    "'qas': [{{'id': ..., 'answers': [{{'text': ...}}]}}]}}]}}]}}."
)


def references_from_squad_json(data: dict) -> dict[str, list[str]]:
    """Gold answers per question id from a SQuAD v1.1/v2.0 dataset file (already parsed).

    Unanswerable v2.0 questions (``"answers": []``) map to ``[]``. As in the official v2.0
    script, a repeated id keeps its first position and its last answers.

    >>> references_from_squad_json({"data": [{"paragraphs": [{"context": "Hà Nội", "qas": [
    ...     {"id": "q1", "answers": [{"text": "Hà Nội", "answer_start": 0}]},
    ...     {"id": "q2", "answers": []}]}]}]})
    {'q1': ['Hà Nội'], 'q2': []}
    """
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise MetricInputError(
            "No 'data' list at the top level (found {found}). " + _SQUAD_LAYOUT, found=found
        )
    references: dict[str, list[str]] = {}
    for a, article in enumerate(data["data"]):
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise MetricInputError("data[{a}] has no 'paragraphs' list. " + _SQUAD_LAYOUT, a=a)
        for p, paragraph in enumerate(paragraphs):
            qas = paragraph.get("qas") if isinstance(paragraph, dict) else None
            if not isinstance(qas, list):
                raise MetricInputError(
                    "data[{a}].paragraphs[{p}] has no 'qas' list. " + _SQUAD_LAYOUT, a=a, p=p
                )
            for q, qa in enumerate(qas):
                where = f"data[{a}].paragraphs[{p}].qas[{q}]"
                if not isinstance(qa, dict) or "id" not in qa:
                    raise MetricInputError("{where} has no 'id'. " + _SQUAD_LAYOUT, where=where)
                answers = qa.get("answers", [])
                if not isinstance(answers, list) or not all(
                    isinstance(ans, dict) and isinstance(ans.get("text"), str) for ans in answers
                ):
                    raise MetricInputError(
                        "{where}: 'answers' must be a list of {{'text': str, ...}}. "
                        + _SQUAD_LAYOUT, where=where,
                    )
                references[str(qa["id"])] = [ans["text"] for ans in answers]
    return references


def _read_predictions_json(path: str) -> object:
    try:
        with Path(path).open(encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise MetricInputError("Predictions file {path!r} not found.", path=path) from None
    except IsADirectoryError:
        raise MetricInputError(
            "Predictions file {path!r} is a directory; pass a JSON file.", path=path
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MetricInputError(
            "Predictions file {path!r} is not UTF-8 JSON: {detail}.", path=path, detail=str(exc)
        ) from None


def _predictions_from_json(obj: object, path: str) -> dict[str, str]:
    if not isinstance(obj, dict) or not all(isinstance(v, str) for v in obj.values()):
        found = type(obj).__name__
        if isinstance(obj, dict):
            found = "a dict with non-string values"
        raise MetricInputError(
            "Predictions file {path!r} holds {found}; expected a JSON object "
            '{{"question_id": "answer text", ...}} with "" for no answer.', path=path, found=found,
        )
    return obj


def references_from_file(
    data_file: str, split: str | None = None
) -> tuple[dict[str, list[str]], list[str], set[str]]:
    """Gold answers per id of a data file read by ``qa_core.data.sources`` (any format it reads),
    so that ids and answers are those ``train.evaluate`` scored: answers repaired, repeated
    ids renamed ``<id>-2``, ... Returns (references of the labelled questions, notes for the
    user, ids of the unlabelled questions, which are not scored)."""
    from qa_core.data.schema import labelled_only
    from qa_core.data.sources import load_source
    from qa_core.errors import QAError

    path = Path(data_file)
    if not path.is_file():
        raise MetricInputError(
            "Data file {path!r} is a directory; pass a data file." if path.is_dir()
            else "Data file {path!r} not found.", path=data_file,
        )
    try:
        loaded = load_source(str(path), split)
        dataset, skipped = labelled_only(loaded.dataset, f"Data file {data_file!r}")
    except QAError as exc:
        if str(exc).startswith("Data file"):
            raise MetricInputError(exc.template, **exc.params) from None
        raise MetricInputError("Data file {path!r}: {error}", path=data_file, error=exc) from None
    notes = []
    if not loaded.report.clean:
        notes.append(f"data as loaded for scoring: {loaded.report.summary().splitlines()[0]}")
    unlabelled: set[str] = set()
    if skipped:
        labelled = set(dataset["id"])
        unlabelled = {qid for qid in loaded.dataset["id"] if qid not in labelled}
        notes.append(
            f"{skipped:,} of {len(loaded.dataset):,} questions have no gold answer and were "
            f"skipped; {len(dataset):,} scored."
        )
    references = {
        qid: list(answers["text"]) for qid, answers in zip(dataset["id"], dataset["answers"])
    }
    return references, notes, unlabelled


def score_files(
    data_file: str, prediction_file: str, normalization: str = "squad", split: str | None = None
) -> tuple[dict, list[str]]:
    """Score a predictions file against a data file: the metrics and notes for the user
    (questions skipped, predictions that match no question)."""
    references, notes, unlabelled = references_from_file(data_file, split)
    predictions = _predictions_from_json(_read_predictions_json(prediction_file), prediction_file)
    unknown = [qid for qid in predictions if qid not in references and qid not in unlabelled]
    if unknown:
        shown = ", ".join(map(repr, unknown[:3])) + (", ..." if len(unknown) > 3 else "")
        notes.append(
            f"{len(unknown):,} predictions have ids that are not in the data ({shown}); they "
            "were ignored. Check that both files come from the same data."
        )
    if normalization == "both":
        return compute_all(references, predictions), notes
    return compute_metrics(references, predictions, normalization), notes
