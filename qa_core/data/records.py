"""Rows in any supported layout → records of the flat schema (answers not yet checked).

Layouts: SQuAD v1.1/v2.0 JSON (``{"data": [{"paragraphs": [...]}]}``), and table rows (JSON
lines, CSV, parquet, the Hub) with a ``context`` and a ``question``, and either ``answers``
(``{"text": [...], "answer_start": [...]}``, a list of ``{"text", "answer_start"}``, or that
cell as JSON or as the Python repr ``Dataset.to_csv`` writes) or ``answer_text`` /
``answer_start`` columns. ``repair`` checks the answers afterwards.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
from collections.abc import Iterable, Mapping

from qa_core.data.schema import EXTRA_COLUMNS
from qa_core.errors import DatasetFormatError, Phrase
from qa_core.textnorm import is_blank

EXPECTED_COLUMNS = "context, question, answer_text, answer_start (or answers)"
# What a row's names are called in messages (singular, plural): JSON fields or table columns.
FIELD = (Phrase("field"), Phrase("fields"))
COLUMN = (Phrase("column"), Phrase("columns"))
_SQUAD_LAYOUT = (
    "Expected the SQuAD layout {{'data': [{{'title', 'paragraphs': [{{'context', 'qas'}}]}}]}}."
)


def stable_id(question: str, context: str) -> str:
    """The id of a question that has none: the same question on the same context gets the
    same id, across runs and machines."""
    return hashlib.sha1(f"{question}\x1f{context}".encode()).hexdigest()[:24]


def truthy(value: object) -> bool:
    """A yes/no cell: ``true``, ``1``, ``yes`` (any case) or a true value; NaN is no."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y", "t"}
    return bool(value) and not (isinstance(value, float) and math.isnan(value))


def is_missing(value: object) -> bool:
    """A missing cell: None, NaN, or text the reader would call empty (white space and
    zero-width characters only, :func:`qa_core.textnorm.is_blank`)."""
    return (
        value is None
        or (isinstance(value, str) and is_blank(value))
        or (isinstance(value, float) and math.isnan(value))
    )


def _as_list(value: object) -> list:
    if is_missing(value):
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if hasattr(value, "tolist"):  # numpy arrays from pandas
        return list(value.tolist())
    return [value]


def _as_start(value: object, where: str) -> int | None:
    """An answer offset as int; None when absent (the repair step will search for the text)."""
    if is_missing(value):
        return None
    try:
        number = float(value) if isinstance(value, str) else value
        if isinstance(number, float) and not number.is_integer():
            raise ValueError
        return int(number)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DatasetFormatError(
            "{where}: answer_start {value!r} is not an integer character offset.",
            where=where, value=value,
        ) from None


def _literal(node: ast.AST) -> object:
    """The value of a Python literal, reading numpy's ``array([...], dtype=...)`` as its list."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(element) for element in node.elts]
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_literal(k): _literal(v) for k, v in zip(node.keys, node.values)}  # type: ignore[arg-type]
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
    ):
        return -node.operand.value  # type: ignore[operator]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "array"
        and len(node.args) == 1
    ):
        return _literal(node.args[0])
    raise ValueError(f"not a literal: {ast.dump(node)[:60]}")


def _answers_from_string(answers: str, where: str) -> object:
    """A JSON cell, or the Python repr that ``datasets.Dataset.to_csv`` writes for Hub rows:
    ``{'text': array(['Đức'], dtype=object), 'answer_start': array([150], dtype=int32)}``.
    Parsed as a syntax tree of literals only: nothing in the file is executed."""
    if is_blank(answers):
        return []
    try:
        return json.loads(answers)
    except json.JSONDecodeError:
        pass
    try:
        return _literal(ast.parse(answers.strip(), mode="eval").body)
    except (SyntaxError, ValueError, TypeError, RecursionError):
        raise DatasetFormatError(
            "{where}: 'answers' is a string but neither JSON nor a Python/numpy repr: "
            '{cell!r}. Expected e.g. {{"text": ["Hà Nội"], "answer_start": [12]}} or [] for no '
            "answer. For a Hub-style table, export JSON lines or parquet instead of CSV "
            "(Dataset.to_json('data.jsonl') or Dataset.to_parquet('data.parquet')).",
            where=where, cell=answers[:80],
        ) from None


def _parse_answers(row: Mapping, where: str) -> tuple[list[str], list[int | None]]:
    """Answer texts and starts from the ``answers`` field or ``answer_text``/``answer_start``."""
    if "answers" in row:
        answers = row["answers"]
        if isinstance(answers, str):
            answers = _answers_from_string(answers, where)
        if isinstance(answers, Mapping):
            texts, starts = _as_list(answers.get("text")), _as_list(answers.get("answer_start"))
        elif isinstance(answers, (list, tuple)) or hasattr(answers, "tolist"):
            items = _as_list(answers)
            if not all(isinstance(item, Mapping) for item in items):
                raise DatasetFormatError(
                    "{where}: 'answers' is a list of {type}; expected dicts like "
                    '{{"text": "Hà Nội", "answer_start": 12}}.',
                    where=where, type=type(items[0]).__name__,
                )
            texts = [item.get("text") for item in items]
            starts = [item.get("answer_start") for item in items]
        elif is_missing(answers):
            texts, starts = [], []
        else:
            raise DatasetFormatError(
                "{where}: 'answers' is a {type}; expected "
                '{{"text": [...], "answer_start": [...]}} or a list of {{"text", "answer_start"}}.',
                where=where, type=type(answers).__name__,
            )
    else:
        texts = [t for t in _as_list(row.get("answer_text")) if not is_missing(t)]
        starts = _as_list(row.get("answer_start"))[: len(texts)]
        starts += [None] * (len(texts) - len(starts))
    if len(starts) != len(texts):
        raise DatasetFormatError(
            "{where}: {texts} answer texts but {starts} answer_start values; each answer needs "
            "both.", where=where, texts=len(texts), starts=len(starts),
        )
    if not all(isinstance(t, str) for t in texts):
        raise DatasetFormatError("{where}: every answer text must be a string.", where=where)
    return texts, [_as_start(s, where) for s in starts]


def _labelled(row: Mapping, has_answers: bool, empty_is_impossible: bool) -> bool:
    """Whether a question has a gold label: answers, or a mark that it has none.

    Empty answers mean "unanswerable" only when nothing contradicts it: an explicit
    ``is_impossible: false``, ``answers`` missing or null, or a SQuAD v1.1 file (which has no
    unanswerable questions; ``empty_is_impossible=False``) make the question unlabelled.
    """
    if has_answers or truthy(row.get("is_impossible", False)):
        return True
    if not is_missing(row.get("is_impossible")):
        return False  # is_impossible: false, yet no answer
    answers = row.get("answers", row.get("answer_text"))
    if answers is None or (isinstance(answers, float) and math.isnan(answers)):
        return False  # no answers given at all
    return empty_is_impossible


def flat_record(
    row: Mapping, where: str, kind: tuple[Phrase, Phrase] = FIELD, empty_is_impossible: bool = True
) -> dict:
    """One question in any supported row layout -> the flat schema (answers not yet checked).
    ``kind`` is what the row's names are called in messages (:data:`FIELD`, :data:`COLUMN`)."""
    if "context" not in row or "question" not in row:
        raise DatasetFormatError(
            "{where} has no {name!r} {kind}; found {kinds}: {found}. Expected: {expected}.",
            where=where, name="context" if "context" not in row else "question", kind=kind[0],
            kinds=kind[1], found=", ".join(map(str, row)) or "-", expected=EXPECTED_COLUMNS,
        )
    if is_missing(row["context"]):
        raise DatasetFormatError(
            "{where} has an empty context; every question needs one.", where=where
        )
    if is_missing(row["question"]):
        # The reader refuses it too, but only mid-evaluation; say which row here instead.
        raise DatasetFormatError(
            "{where} has an empty question (nothing but white space or zero-width characters);"
            " give it its text or remove it.", where=where,
        )
    if not ({"answers", "answer_text"} & set(row)):
        raise DatasetFormatError(
            "{where} has no answers; found {kinds}: {found}. Expected: {expected}.",
            where=where, kinds=kind[1], found=", ".join(map(str, row)), expected=EXPECTED_COLUMNS,
        )
    context, question = str(row["context"]), str(row.get("question") or "")
    texts, starts = _parse_answers(row, where)
    if truthy(row.get("is_impossible", False)):
        texts, starts = [], []  # SQuAD v2.0: the label wins over any (plausible) answers
    qid = row.get("id")
    title = row.get("title")
    record = {
        "id": stable_id(question, context) if is_missing(qid) else str(qid),
        "title": "" if is_missing(title) else str(title),
        "context": context,
        "question": question,
        "answers": {"text": texts, "answer_start": starts},
        "labelled": _labelled(row, bool(texts), empty_is_impossible),
    }
    for name in EXTRA_COLUMNS:
        if name in row and not is_missing(row[name]):
            record[name] = str(row[name])
    return record


def squad_json_to_records(data: dict, where: str = "SQuAD JSON") -> list[dict]:
    """Flatten a SQuAD v1.1/v2.0 file (``{"data": [{"paragraphs": [...]}]}``) to records.

    Questions marked ``is_impossible`` get empty answers; their ``plausible_answers`` are
    ignored. A question without answers that is not marked so (no ``answers`` key, or
    ``is_impossible: false``, or any empty one in a v1.x file) is unlabelled. Answers are not
    checked here (see ``qa_core.data.repair``).
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("data"), list):
        found = ", ".join(map(str, data)) if isinstance(data, Mapping) else type(data).__name__
        raise DatasetFormatError(
            "{where} has no top-level 'data' list (found: {found}). " + _SQUAD_LAYOUT,
            where=where, found=found,
        )
    # SQuAD v1.x has no unanswerable questions: empty answers there mean "not given".
    version = str(data.get("version") or "").lower().lstrip("v")
    empty_is_impossible = not version.startswith("1")
    records = []
    for a, article in enumerate(data["data"]):
        if not isinstance(article, Mapping) or not isinstance(article.get("paragraphs"), list):
            raise DatasetFormatError(
                "{where}: data[{a}] has no 'paragraphs' list. " + _SQUAD_LAYOUT, where=where, a=a
            )
        for p, paragraph in enumerate(article["paragraphs"]):
            here = f"{where}: data[{a}].paragraphs[{p}]"
            if not isinstance(paragraph, Mapping) or not isinstance(paragraph.get("qas"), list):
                raise DatasetFormatError(
                    "{where} has no 'qas' list. " + _SQUAD_LAYOUT, where=here
                )
            if not isinstance(paragraph.get("context"), str):
                raise DatasetFormatError(
                    "{where} has no 'context' string. " + _SQUAD_LAYOUT, where=here
                )
            for q, qa in enumerate(paragraph["qas"]):
                if not isinstance(qa, Mapping):
                    raise DatasetFormatError(
                        "{where} is not an object. " + _SQUAD_LAYOUT, where=f"{here}.qas[{q}]"
                    )
                row = {"title": article.get("title"), "context": paragraph["context"], **qa}
                row.setdefault("answers", None)  # a test file may leave them out
                records.append(flat_record(row, f"{here}.qas[{q}]", FIELD, empty_is_impossible))
    return records


def rows_to_records(
    rows: Iterable[Mapping], where: str, kind: tuple[Phrase, Phrase] = FIELD
) -> list[dict]:
    """Flatten table rows (JSON lines, CSV, parquet, Hub) with SQuAD-like columns."""
    return [
        flat_record(row, Phrase("{file}: row {row}", file=where, row=i), kind)
        for i, row in enumerate(rows)
    ]
