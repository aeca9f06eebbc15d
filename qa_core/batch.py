"""Batch prediction: a file of questions and contexts in, one prediction per row out.

The same code serves ``python -m qa_core predict FILE`` and the app's Batch tab. The file is a
UTF-8 CSV with a header row naming ``question`` and ``context`` (``id`` optional), or JSON Lines
(a JSON array works too) with those keys. Every row is checked before any model runs, and
the problems are reported together, by row number. A row without an id gets ``row-N`` (its
number, counting from 1), so every prediction can be matched with its question.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa_core.errors import InputError, Phrase, joined
from qa_core.textnorm import is_blank
from qa_core.types import Prediction

BATCH_SUFFIXES = (".csv", ".jsonl", ".json")
PREDICTION_FIELDS = ("id", "question", "answer", "probability", "start", "end", "no_answer")
_EXPECTED = (
    "Expected a UTF-8 CSV with a header row naming the columns question and context (and "
    "optionally id), or JSON Lines with those keys."
)
_SHOWN_PROBLEMS = 5


@dataclass(frozen=True)
class BatchRows:
    """The checked rows of a batch file, in file order."""

    ids: list[str]
    questions: list[str]
    contexts: list[str]

    def __len__(self) -> int:
        return len(self.ids)


def _read_table(path: Path):
    import pandas as pd

    name, suffix = path.name, path.suffix.lower()
    if suffix not in BATCH_SUFFIXES:
        raise InputError("{file}: unsupported file type {suffix!r}. " + _EXPECTED, file=name,
                         suffix=suffix or "(none)")
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        try:
            return pd.read_json(path, lines=True, dtype=False, encoding="utf-8")
        except ValueError:
            return pd.read_json(path, dtype=False, encoding="utf-8")  # a JSON array
    except (UnicodeDecodeError, ValueError, OSError, pd.errors.ParserError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else ""
        raise InputError("Could not read {file}: {detail}. " + _EXPECTED, file=name,
                         detail=f"{type(exc).__name__}: {detail}") from exc


def read_batch_file(path: str | Path, max_rows: int | None = None,
                    max_context_chars: int | None = None) -> BatchRows:
    """The rows of a batch file, checked: ``question`` and ``context`` present in every row
    (as the reader judges it: zero-width spaces are blank too), at most ``max_rows`` rows and
    contexts of at most ``max_context_chars`` characters. Messages name the file by its name,
    never its folder."""
    path = Path(path)
    name = path.name
    table = _read_table(path)
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in ("question", "context") if c not in table.columns]
    if missing:
        raise InputError("{file} has no {missing} column (found: {found}). " + _EXPECTED,
                         file=name, missing=" or ".join(missing),
                         found=", ".join(table.columns) or "-")
    if max_rows is not None and len(table) > max_rows:
        raise InputError("{file} has {rows:,} rows; the limit is {limit:,}. Split the file.",
                         file=name, rows=len(table), limit=max_rows)
    if table.empty:
        raise InputError("{file} has no rows.", file=name)
    ids = list(table["id"].fillna("").astype(str)) if "id" in table.columns else [""] * len(table)
    ids = [qid.strip() or f"row-{i}" for i, qid in enumerate(ids, start=1)]
    questions = list(table["question"].fillna("").astype(str))
    contexts = list(table["context"].fillna("").astype(str))
    problems = []
    for i, (question, context) in enumerate(zip(questions, contexts), start=1):
        if is_blank(question):
            problems.append(Phrase("row {row}: empty question", row=i))
        elif is_blank(context):
            problems.append(Phrase("row {row}: empty context", row=i))
        elif max_context_chars is not None and len(context) > max_context_chars:
            problems.append(Phrase("row {row}: context of {chars:,} characters (limit {limit:,})",
                                   row=i, chars=len(context), limit=max_context_chars))
    if problems:
        more = len(problems) - _SHOWN_PROBLEMS
        raise InputError(
            "{file}: {problems}{more}. Fix these rows and try again.", file=name,
            problems=joined(problems[:_SHOWN_PROBLEMS]),
            more=Phrase(" and {n} more", n=more) if more > 0 else "",
        )
    return BatchRows(ids, questions, contexts)


def prediction_records(ids: Sequence[str], predictions: Sequence[Prediction]) -> list[dict]:
    """One flat record per question (:data:`PREDICTION_FIELDS`); ``answer`` is ``""`` and
    ``probability`` the null probability when the model says there is no answer."""
    records = []
    for qid, p in zip(ids, predictions):
        best = p.answers[0] if p.answers and not p.no_answer else None
        records.append({
            "id": qid,
            "question": p.question,
            "answer": best.text if best else "",
            "probability": best.probability if best else p.null_probability,
            "start": best.start if best else None,
            "end": best.end if best else None,
            "no_answer": best is None,
        })
    return records


def write_predictions(records: Sequence[dict], directory: str | Path) -> list[Path]:
    """``predictions.csv`` and ``predictions.json`` in ``directory`` (every digit kept)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = directory / "predictions.csv", directory / "predictions.json"
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=PREDICTION_FIELDS)
        writer.writeheader()
        writer.writerows(records)
    json_path.write_text(json.dumps(list(records), ensure_ascii=False, indent=2), "utf-8")
    return [csv_path, json_path]
