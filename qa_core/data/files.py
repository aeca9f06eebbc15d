"""Records from a local file: SQuAD JSON, JSON lines, CSV or parquet."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from qa_core.data.records import COLUMN, EXPECTED_COLUMNS, rows_to_records, squad_json_to_records
from qa_core.data.schema import FILE_SUFFIXES
from qa_core.errors import DatasetFormatError, UnknownSourceError


def _read_json_lines(lines: Iterable[str], where: str) -> list[dict]:
    rows = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise DatasetFormatError(
                "{where}: line {n} is not JSON ({detail}). Expected one JSON object per line "
                "with {expected}.", where=where, n=n, detail=exc.msg, expected=EXPECTED_COLUMNS,
            ) from None
        if not isinstance(rows[-1], Mapping):
            raise DatasetFormatError("{where}: line {n} is not a JSON object.", where=where, n=n)
    return rows


def _records_from_json(obj: object, where: str) -> list[dict]:
    if isinstance(obj, Mapping) and "data" in obj:
        return squad_json_to_records(obj, where)
    if isinstance(obj, list):
        if not all(isinstance(row, Mapping) for row in obj):
            raise DatasetFormatError(
                "{where}: a JSON list must hold one object per question.", where=where
            )
        return rows_to_records(obj, where)
    found = ", ".join(map(str, obj)) if isinstance(obj, Mapping) else type(obj).__name__
    raise DatasetFormatError(
        "{where} is neither a SQuAD file (top-level 'data') nor a list of questions (found: "
        "{found}). Expected SQuAD JSON, or records with {expected}.",
        where=where, found=found, expected=EXPECTED_COLUMNS,
    )


def read_records(path: str | os.PathLike) -> list[dict]:
    """Flat records from a local file.

    ``.json``: a SQuAD v1.1/v2.0 file, a list of records, or JSON lines; ``.jsonl``: one record
    per line; ``.csv`` and ``.parquet``: one row per question. Records use the flat schema or
    ``answer_text``/``answer_start`` columns; ``id`` and ``title`` are optional. Messages name
    the file by its name only, never its folder (an upload's lies on the server's disk).
    """
    path = Path(path)
    where = path.name
    suffix = path.suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise DatasetFormatError(
            "{where}: unsupported file type {suffix!r}. Expected one of: {expected}.",
            where=where, suffix=suffix or "(none)", expected=", ".join(FILE_SUFFIXES),
        )
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return rows_to_records(pq.read_table(path).to_pylist(), where, COLUMN)
        if suffix == ".csv":
            import pandas as pd

            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            return rows_to_records(frame.to_dict("records"), where, COLUMN)
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UnknownSourceError("File {path!r} not found.", path=str(path)) from None
    except UnicodeDecodeError as exc:
        raise DatasetFormatError("{where} is not UTF-8 text: {detail}.", where=where,
                                 detail=str(exc)) from None
    except DatasetFormatError:
        raise
    except Exception as exc:  # pandas/pyarrow parse errors have many types
        raise DatasetFormatError("{where} could not be read as {suffix}: {detail}", where=where,
                                 suffix=suffix, detail=str(exc)) from None
    if suffix == ".jsonl":
        return rows_to_records(_read_json_lines(text.splitlines(), where), where)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # JSON lines saved as .json
            return rows_to_records(_read_json_lines(text.splitlines(), where), where)
        raise DatasetFormatError("{where} is not valid JSON: {detail}.", where=where,
                                 detail=str(exc)) from None
    return _records_from_json(obj, where)
