"""Load Vietnamese extractive-QA data from any source into one flat SQuAD-style schema.

Every loader returns a ``datasets.Dataset`` with the columns of the Hub ``squad`` dataset plus
one flag (:data:`FEATURES`): ``id, title, context, question, answers={text: [...],
answer_start: [...]}, labelled``. An unanswerable (SQuAD v2.0) question has empty answer lists.
Rows that carry UIT-ViQuAD's official ``uit_id`` keep it in a column of that name.

Empty answers are not always "unanswerable": public test sets are often published without
their answers (``answers: []`` with ``is_impossible: false``, or no ``answers`` at all, or a
SQuAD v1.1 file, which has no unanswerable questions). Such a question has no gold answer: it
gets ``labelled=False``, is counted in the report, and :func:`labelled_only` keeps it out of
scoring. Empty answers count as "unanswerable" where nothing says otherwise (SQuAD v2.0 files,
the Hub ``squad_v2`` layout, flat records), as in the official v2.0 script.

Sources (see :data:`NAMED_SOURCES`): MLQA (original archives, or the Hub parquet export as a
fallback), XQuAD-vi, UIT-ViQuAD 2.0 (Hub), the bundled sample, a local ``.json``/``.jsonl``/
``.csv``/``.parquet`` file, or any Hub dataset id with SQuAD-like columns.

Real copies of these datasets are not clean: UIT-ViQuAD carries ``answer_start`` values that
do not point at their text and repeated question ids. :func:`repair_answers` fixes what can be
fixed and drops what cannot, and every change is counted in a :class:`RepairReport` so that
nothing is fixed silently. After repair, ``context[s:s + len(t)] == t`` holds for every answer.

Downloads go to ``~/.cache/viqa`` (or ``$VIQA_CACHE``, or ``cache_dir=``) with plain
``urllib``; a file already there is reused, so a copy placed there by hand works offline.
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import math
import os
import re
import tarfile
import tempfile
import unicodedata
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path

import datasets

from qa_core.errors import QAError
from qa_core.hub import hub_reachable
from qa_core.textnorm import is_blank, to_nfc

logger = logging.getLogger(__name__)

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

_MLQA_URL = "https://dl.fbaipublicfiles.com/MLQA/"
_MLQA_PARQUET = "hf://datasets/facebook/mlqa@refs%2Fconvert%2Fparquet/{config}/{split}/*.parquet"
_XQUAD_URL = "https://github.com/deepmind/xquad/raw/master/xquad.vi.json"
_SAMPLE_PATH = Path(__file__).resolve().parent.parent / "assets" / "sample.vi.squad2.json"
_FILE_SUFFIXES = (".json", ".jsonl", ".csv", ".parquet")
WHOLE_FILE = "whole file"  # the split reported for a local file loaded without one
_MAX_EXAMPLES = 10


# --- errors ---------------------------------------------------------------------------------


class SourceError(QAError):
    """A data source that cannot be loaded as asked."""


class SourceUnavailableError(SourceError):
    """A download or Hub request failed (offline, moved, refused)."""


class DatasetFormatError(SourceError):
    """A file or table is not in any layout the loaders understand."""


class UnknownSourceError(SourceError):
    """Neither a named source, an existing file, nor a Hub dataset id."""


class UnknownSplitError(SourceError):
    """The split is not one the source has, or its slice syntax is wrong."""


class UnlabelledDataError(SourceError):
    """Questions without gold answers where answers are needed (scoring, training)."""


# --- public types ---------------------------------------------------------------------------


@dataclass
class RepairReport:
    """What :func:`repair_answers` changed: counts plus a few readable samples."""

    total_answers: int = 0  # answers checked
    repaired: int = 0  # answers whose answer_start (or surrounding white space) was fixed
    dropped: int = 0  # answers whose text is nowhere in the context
    dropped_examples: int = 0  # answerable questions that lost every answer and were removed
    duplicate_ids: int = 0  # repeated ids renamed "<id>-2", "<id>-3", ...
    unlabelled: int = 0  # questions with no gold answer that are not marked unanswerable
    examples: list[str] = field(default_factory=list)  # at most 10 samples of the above

    def note(self, message: str) -> None:
        """Keep ``message`` as a sample if there is room (the counts are always exact)."""
        if len(self.examples) < _MAX_EXAMPLES:
            self.examples.append(message)

    @property
    def clean(self) -> bool:
        """True when nothing had to be changed and every question has a gold label."""
        return not (
            self.repaired
            or self.dropped
            or self.dropped_examples
            or self.duplicate_ids
            or self.unlabelled
        )

    def summary(self) -> str:
        """One line of counts, then the samples, for logs and the UI."""
        line = (
            f"{self.total_answers} answers checked: {self.repaired} repaired, "
            f"{self.dropped} dropped; {self.dropped_examples} questions dropped "
            f"(no answer left); {self.duplicate_ids} duplicate ids renamed."
        )
        if self.unlabelled:
            line += (
                f" {self.unlabelled} questions unlabelled (no gold answer and not marked "
                "unanswerable): they are not scored."
            )
        return "\n".join([line, *(f"  - {example}" for example in self.examples)])


@dataclass
class LoadedSource:
    """A loaded split in the flat schema, with the repairs made on the way."""

    dataset: datasets.Dataset
    report: RepairReport
    source: str
    split: str


@dataclass(frozen=True)
class SourceInfo:
    """What a named source is and where it comes from."""

    name: str
    description: str
    splits: tuple[str, ...]
    default_split: str
    licence: str
    homepage: str
    urls: tuple[str, ...] = ()
    hub_id: str | None = None


NAMED_SOURCES: dict[str, SourceInfo] = {
    info.name: info
    for info in (
        SourceInfo(
            name="mlqa-translate-train.vi",
            description="SQuAD v1.1 machine-translated to Vietnamese (MLQA translate-train): "
            "train 84,816 / validation 10,356 questions. Read from the official archive; "
            "falls back to the Hub parquet export facebook/mlqa@refs/convert/parquet, "
            "folder mlqa-translate-train.vi.",
            splits=("train", "validation"),
            default_split="train",
            licence="CC BY-SA 3.0",
            homepage="https://github.com/facebookresearch/MLQA",
            urls=(_MLQA_URL + "mlqa-translate-train.tar.gz",),
            hub_id="facebook/mlqa",
        ),
        SourceInfo(
            name="mlqa.vi.vi",
            description="MLQA, Vietnamese contexts and questions: validation 511 / test 5,495 "
            "questions. Read from MLQA_V1.zip; falls back to the Hub parquet export "
            "facebook/mlqa@refs/convert/parquet, folder mlqa.vi.vi.",
            splits=("validation", "test"),
            default_split="validation",
            licence="CC BY-SA 3.0",
            homepage="https://github.com/facebookresearch/MLQA",
            urls=(_MLQA_URL + "MLQA_V1.zip",),
            hub_id="facebook/mlqa",
        ),
        SourceInfo(
            name="xquad.vi",
            description="XQuAD, Vietnamese: 1,190 professionally translated SQuAD v1.1 "
            "questions on 240 paragraphs (one split).",
            splits=("validation",),
            default_split="validation",
            licence="CC BY-SA 4.0",
            homepage="https://github.com/deepmind/xquad",
            urls=(_XQUAD_URL,),
        ),
        SourceInfo(
            name="uit-viquad2",
            description="UIT-ViQuAD 2.0 (VLSP 2021): train 28.5k / validation 3.8k / test 7.3k "
            "questions, about 30% unanswerable. Hub parquet; its answer offsets and ids are "
            "repaired on load (see the report).",
            splits=("train", "validation", "test"),
            default_split="validation",
            licence="see the dataset card (research use)",
            homepage="https://huggingface.co/datasets/taidng/UIT-ViQuAD2.0",
            hub_id="taidng/UIT-ViQuAD2.0",
        ),
        SourceInfo(
            name="sample",
            description="The bundled assets/sample.vi.squad2.json: 54 questions (10 "
            "unanswerable) for examples and smoke tests. 'train' is the same data as "
            "'validation', so a training smoke test can run on it.",
            splits=("validation", "train"),
            default_split="validation",
            licence="CC BY-SA 4.0",
            homepage="assets/README.md",
        ),
    )
}


# --- splits ---------------------------------------------------------------------------------

_SPLIT_RE = re.compile(
    r"^(?P<split>[\w.-]+)"
    r"(\[(?:(?P<from>-?\d+)(?P<from_pct>%)?)?:(?:(?P<to>-?\d+)(?P<to_pct>%)?)?\])?$"
)


@dataclass(frozen=True)
class SplitSlice:
    """``[start:stop]`` of a split, in examples or (``percent=True``) in percent."""

    start: int | None = None
    stop: int | None = None
    percent: bool = False

    def indices(self, n: int) -> range:
        """The rows selected from a split of ``n`` rows, rounded as ``datasets`` does."""

        def absolute(bound: int | None, default: int) -> int:
            if bound is None:
                return default
            if self.percent:  # datasets' "closest" rounding (Python round: half to even)
                bound = round(bound * n / 100.0)
            if bound < 0:
                bound = max(n + bound, 0)
            return min(bound, n)

        return range(absolute(self.start, 0), absolute(self.stop, n))


def parse_split(split: str) -> tuple[str, SplitSlice | None]:
    """Split a ``datasets``-style spec into its name and slice.

    >>> parse_split("validation")
    ('validation', None)
    >>> parse_split("train[100:200]")
    ('train', SplitSlice(start=100, stop=200, percent=False))
    >>> base, part = parse_split("validation[10%:20%]")
    >>> base, part.indices(25)
    ('validation', range(2, 5))
    """
    match = _SPLIT_RE.match(split.strip()) if isinstance(split, str) else None
    if match is None:
        raise UnknownSplitError(
            f"Cannot parse split {split!r}. Use a name with an optional slice, e.g. "
            "'validation', 'test[:50]', 'train[100:200]' or 'validation[:20%]'."
        )
    start, stop = match["from"], match["to"]
    if start is None and stop is None and "[" not in split:
        return match["split"], None
    if (start is not None and stop is not None) and bool(match["from_pct"]) != bool(
        match["to_pct"]
    ):
        raise UnknownSplitError(
            f"Split {split!r} mixes a percentage and a row count; use one unit for both "
            "ends, e.g. 'train[10%:20%]' or 'train[100:200]'."
        )
    percent = bool(match["from_pct"] or match["to_pct"])
    bounds = [int(b) for b in (start, stop) if b is not None]
    if percent and any(abs(b) > 100 for b in bounds):
        raise UnknownSplitError(f"Split {split!r}: percentages must be between -100 and 100.")
    return match["split"], SplitSlice(
        start=int(start) if start is not None else None,
        stop=int(stop) if stop is not None else None,
        percent=percent,
    )


# --- records: from any layout to the flat schema --------------------------------------------

_EXPECTED_COLUMNS = "context, question, answer_text, answer_start (or answers)"


def _stable_id(question: str, context: str) -> str:
    # Same question on the same context -> same id, across runs and machines.
    return hashlib.sha1(f"{question}\x1f{context}".encode()).hexdigest()[:24]


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y", "t"}
    return bool(value) and not (isinstance(value, float) and math.isnan(value))


def _is_blank(value: object) -> bool:
    """A missing cell: None, NaN, or text the reader would call empty (white space and
    zero-width characters only, :func:`qa_core.textnorm.is_blank`)."""
    return (
        value is None
        or (isinstance(value, str) and is_blank(value))
        or (isinstance(value, float) and math.isnan(value))
    )


def _as_list(value: object) -> list:
    if _is_blank(value):
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if hasattr(value, "tolist"):  # numpy arrays from pandas
        return list(value.tolist())
    return [value]


def _as_start(value: object, where: str) -> int | None:
    """An answer offset as int; None when absent (the repair step will search for the text)."""
    if _is_blank(value):
        return None
    try:
        number = float(value) if isinstance(value, str) else value
        if isinstance(number, float) and not number.is_integer():
            raise ValueError
        return int(number)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DatasetFormatError(
            f"{where}: answer_start {value!r} is not an integer character offset."
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
            f"{where}: 'answers' is a string but neither JSON nor a Python/numpy repr: "
            f"{answers[:80]!r}. Expected e.g. "
            '{"text": ["Hà Nội"], "answer_start": [12]} or [] for no answer. For a Hub-style '
            "table, export JSON lines or parquet instead of CSV "
            "(Dataset.to_json('data.jsonl') or Dataset.to_parquet('data.parquet'))."
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
                    f"{where}: 'answers' is a list of {type(items[0]).__name__}; expected "
                    'dicts like {"text": "Hà Nội", "answer_start": 12}.'
                )
            texts = [item.get("text") for item in items]
            starts = [item.get("answer_start") for item in items]
        elif _is_blank(answers):
            texts, starts = [], []
        else:
            raise DatasetFormatError(
                f"{where}: 'answers' is a {type(answers).__name__}; expected "
                '{"text": [...], "answer_start": [...]} or a list of {"text", "answer_start"}.'
            )
    else:
        texts = [t for t in _as_list(row.get("answer_text")) if not _is_blank(t)]
        starts = _as_list(row.get("answer_start"))[: len(texts)]
        starts += [None] * (len(texts) - len(starts))
    if len(starts) != len(texts):
        raise DatasetFormatError(
            f"{where}: {len(texts)} answer texts but {len(starts)} answer_start values; "
            "each answer needs both."
        )
    if not all(isinstance(t, str) for t in texts):
        raise DatasetFormatError(f"{where}: every answer text must be a string.")
    return texts, [_as_start(s, where) for s in starts]


def _labelled(row: Mapping, has_answers: bool, empty_is_impossible: bool) -> bool:
    """Whether a question has a gold label: answers, or a mark that it has none.

    Empty answers mean "unanswerable" only when nothing contradicts it: an explicit
    ``is_impossible: false``, ``answers`` missing or null, or a SQuAD v1.1 file (which has no
    unanswerable questions; ``empty_is_impossible=False``) make the question unlabelled.
    """
    if has_answers or _truthy(row.get("is_impossible", False)):
        return True
    if not _is_blank(row.get("is_impossible")):
        return False  # is_impossible: false, yet no answer
    answers = row.get("answers", row.get("answer_text"))
    if answers is None or (isinstance(answers, float) and math.isnan(answers)):
        return False  # no answers given at all
    return empty_is_impossible


def _flat_record(
    row: Mapping, where: str, kind: str = "field", empty_is_impossible: bool = True
) -> dict:
    """One question in any supported row layout -> the flat schema (answers not yet checked)."""
    if "context" not in row or "question" not in row:
        name = "context" if "context" not in row else "question"
        raise DatasetFormatError(
            f"{where} has no {name!r} {kind}; found {kind}s: {', '.join(map(str, row)) or 'none'}."
            f" Expected: {_EXPECTED_COLUMNS}."
        )
    if _is_blank(row["context"]):
        raise DatasetFormatError(f"{where} has an empty context; every question needs one.")
    if _is_blank(row["question"]):
        # The reader refuses it too, but only mid-evaluation; say which row here instead.
        raise DatasetFormatError(
            f"{where} has an empty question (nothing but white space or zero-width characters);"
            " give it its text or remove it."
        )
    if not ({"answers", "answer_text"} & set(row)):
        raise DatasetFormatError(
            f"{where} has no answers; found {kind}s: {', '.join(map(str, row))}. "
            f"Expected: {_EXPECTED_COLUMNS}."
        )
    context, question = str(row["context"]), str(row.get("question") or "")
    texts, starts = _parse_answers(row, where)
    if _truthy(row.get("is_impossible", False)):
        texts, starts = [], []  # SQuAD v2.0: the label wins over any (plausible) answers
    qid = row.get("id")
    title = row.get("title")
    record = {
        "id": _stable_id(question, context) if _is_blank(qid) else str(qid),
        "title": "" if _is_blank(title) else str(title),
        "context": context,
        "question": question,
        "answers": {"text": texts, "answer_start": starts},
        "labelled": _labelled(row, bool(texts), empty_is_impossible),
    }
    for name in EXTRA_COLUMNS:
        if name in row and not _is_blank(row[name]):
            record[name] = str(row[name])
    return record


def squad_json_to_records(data: dict, where: str = "SQuAD JSON") -> list[dict]:
    """Flatten a SQuAD v1.1/v2.0 file (``{"data": [{"paragraphs": [...]}]}``) to records.

    Questions marked ``is_impossible`` get empty answers; their ``plausible_answers`` are
    ignored. A question without answers that is not marked so (no ``answers`` key, or
    ``is_impossible: false``, or any empty one in a v1.x file) is unlabelled. Answers are not
    checked here (see :func:`repair_answers`).
    """
    expected = (
        "Expected the SQuAD layout {'data': [{'title', 'paragraphs': [{'context', 'qas'}]}]}."
    )
    if not isinstance(data, Mapping) or not isinstance(data.get("data"), list):
        found = ", ".join(map(str, data)) if isinstance(data, Mapping) else type(data).__name__
        raise DatasetFormatError(
            f"{where} has no top-level 'data' list (found: {found}). {expected}"
        )
    # SQuAD v1.x has no unanswerable questions: empty answers there mean "not given".
    version = str(data.get("version") or "").lower().lstrip("v")
    empty_is_impossible = not version.startswith("1")
    records = []
    for a, article in enumerate(data["data"]):
        if not isinstance(article, Mapping) or not isinstance(article.get("paragraphs"), list):
            raise DatasetFormatError(f"{where}: data[{a}] has no 'paragraphs' list. {expected}")
        for p, paragraph in enumerate(article["paragraphs"]):
            here = f"{where}: data[{a}].paragraphs[{p}]"
            if not isinstance(paragraph, Mapping) or not isinstance(paragraph.get("qas"), list):
                raise DatasetFormatError(f"{here} has no 'qas' list. {expected}")
            if not isinstance(paragraph.get("context"), str):
                raise DatasetFormatError(f"{here} has no 'context' string. {expected}")
            for q, qa in enumerate(paragraph["qas"]):
                if not isinstance(qa, Mapping):
                    raise DatasetFormatError(f"{here}.qas[{q}] is not an object. {expected}")
                row = {"title": article.get("title"), "context": paragraph["context"], **qa}
                row.setdefault("answers", None)  # a test file may leave them out
                records.append(_flat_record(row, f"{here}.qas[{q}]", "field", empty_is_impossible))
    return records


def rows_to_records(rows: Iterable[Mapping], where: str, kind: str = "field") -> list[dict]:
    """Flatten table rows (JSON lines, CSV, parquet, Hub) with SQuAD-like columns."""
    return [_flat_record(row, f"{where}: row {i}", kind) for i, row in enumerate(rows)]


# --- repair ---------------------------------------------------------------------------------


def _occurrences(needle: str, haystack: str) -> list[int]:
    found, i = [], haystack.find(needle)
    while i != -1:
        found.append(i)
        i = haystack.find(needle, i + 1)
    return found


def _nearest(candidates: list[int], start: int | None) -> int:
    # Nearest to the given offset; the earliest on ties or when no offset was given.
    return min(candidates, key=lambda c: (abs(c - (start or 0)), c))


def _locate(text: str, start: int | None, context: str) -> tuple[str, int, str] | None:
    """Where ``text`` really is in ``context``: (text as spelled there, start, how) or None."""
    if start is not None and start >= 0 and context[start : start + len(text)] == text:
        return text, start, "ok"
    if found := _occurrences(text, context):
        return text, _nearest(found, start), "moved"
    stripped = text.strip()
    if stripped and stripped != text and (found := _occurrences(stripped, context)):
        return stripped, _nearest(found, start), "stripped"
    # Different Unicode forms (e.g. NFC answer, NFD context): match in NFC, keep the
    # context's own spelling so that context[start:start + len(text)] == text still holds.
    norm = to_nfc(context)
    target = unicodedata.normalize("NFC", stripped)
    spans = []
    for k in _occurrences(target, norm.text) if target else []:
        s, e = (int(x) for x in norm.to_original(k, k + len(target)))
        if unicodedata.normalize("NFC", context[s:e]) == target:
            spans.append((s, e))
    if spans:
        s, e = min(spans, key=lambda span: (abs(span[0] - (start or 0)), span[0]))
        return context[s:e], s, "nfc"
    return None


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def repair_answers(records: list[dict], report: RepairReport) -> list[dict]:
    """Make every answer point at its text; rename repeated ids; count all of it in ``report``.

    For each answer: drop it if its text is empty (white space or zero-width characters only);
    keep it if ``context[start:start + len(text)] == text``; else move it to
    the occurrence of ``text`` nearest to ``start``; else try the text without surrounding
    white space; else match after NFC normalisation; else drop the answer. A question that had
    answers and lost them all is dropped (it is *not* turned into an unanswerable one). A
    repeated id becomes ``<id>-2``, ``<id>-3``, ... in order of appearance. Questions without
    a gold label (``labelled`` false) are kept and counted as unlabelled.
    """
    out: list[dict] = []
    seen: set[str] = set()
    for record in records:
        qid, context = record["id"], record["context"]
        if not record.get("labelled", True):
            report.unlabelled += 1
            if report.unlabelled == 1:
                report.note(
                    f"{qid}: no gold answer and not marked unanswerable (is_impossible: true); "
                    "counted as unlabelled"
                )
        old_texts = record["answers"]["text"]
        texts: list[str] = []
        starts: list[int] = []
        for text, start in zip(old_texts, record["answers"]["answer_start"]):
            report.total_answers += 1
            # A text of white space or zero-width characters only is no answer text, even
            # where the context holds those characters.
            located = None if is_blank(text) else _locate(text, start, context)
            if located is None:
                report.dropped += 1
                why = "is empty" if is_blank(text) else "is not in the context"
                report.note(f"{qid}: answer {_short(text)} {why}; dropped")
                continue
            new_text, new_start, how = located
            if how != "ok":
                report.repaired += 1
                detail = {
                    "moved": f"answer_start {start} -> {new_start}",
                    "stripped": f"surrounding white space removed, start {start} -> {new_start}",
                    "nfc": f"matched after NFC normalisation at {new_start}",
                }[how]
                report.note(f"{qid}: answer {_short(text)}: {detail}")
            texts.append(new_text)
            starts.append(new_start)
        if old_texts and not texts:
            report.dropped_examples += 1
            report.note(f"{qid}: no answer could be found in the context; question dropped")
            continue
        if qid in seen:
            report.duplicate_ids += 1
            n = 2
            while f"{qid}-{n}" in seen:
                n += 1
            report.note(f"{qid}: duplicate id renamed to {qid}-{n}")
            qid = f"{qid}-{n}"
        seen.add(qid)
        out.append({**record, "id": qid, "answers": {"text": texts, "answer_start": starts}})
    return out


# --- local files ----------------------------------------------------------------------------


def _read_json_lines(lines: Iterable[str], where: str) -> list[dict]:
    rows = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise DatasetFormatError(
                f"{where}: line {n} is not JSON ({exc.msg}). Expected one JSON object per line "
                f"with {_EXPECTED_COLUMNS}."
            ) from None
        if not isinstance(rows[-1], Mapping):
            raise DatasetFormatError(f"{where}: line {n} is not a JSON object.")
    return rows


def _records_from_json(obj: object, where: str) -> list[dict]:
    if isinstance(obj, Mapping) and "data" in obj:
        return squad_json_to_records(obj, where)
    if isinstance(obj, list):
        if not all(isinstance(row, Mapping) for row in obj):
            raise DatasetFormatError(f"{where}: a JSON list must hold one object per question.")
        return rows_to_records(obj, where)
    found = ", ".join(map(str, obj)) if isinstance(obj, Mapping) else type(obj).__name__
    raise DatasetFormatError(
        f"{where} is neither a SQuAD file (top-level 'data') nor a list of questions "
        f"(found: {found}). Expected SQuAD JSON, or records with {_EXPECTED_COLUMNS}."
    )


def read_records(path: str | os.PathLike) -> list[dict]:
    """Flat records from a local file.

    ``.json``: a SQuAD v1.1/v2.0 file, a list of records, or JSON lines; ``.jsonl``: one record
    per line; ``.csv`` and ``.parquet``: one row per question. Records use the flat schema or
    ``answer_text``/``answer_start`` columns; ``id`` and ``title`` are optional.
    """
    path = Path(path)
    where = path.name
    suffix = path.suffix.lower()
    if suffix not in _FILE_SUFFIXES:
        raise DatasetFormatError(
            f"{where}: unsupported file type {suffix or '(none)'!r}. "
            f"Expected one of: {', '.join(_FILE_SUFFIXES)}."
        )
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return rows_to_records(pq.read_table(path).to_pylist(), where, "column")
        if suffix == ".csv":
            import pandas as pd

            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            return rows_to_records(frame.to_dict("records"), where, "column")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UnknownSourceError(f"File {str(path)!r} not found.") from None
    except UnicodeDecodeError as exc:
        raise DatasetFormatError(f"{where} is not UTF-8 text: {exc}.") from None
    except DatasetFormatError:
        raise
    except Exception as exc:  # pandas/pyarrow parse errors have many types
        raise DatasetFormatError(f"{where} could not be read as {suffix}: {exc}") from None
    if suffix == ".jsonl":
        return rows_to_records(_read_json_lines(text.splitlines(), where), where)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # JSON lines saved as .json
            return rows_to_records(_read_json_lines(text.splitlines(), where), where)
        raise DatasetFormatError(f"{where} is not valid JSON: {exc}.") from None
    return _records_from_json(obj, where)


# --- downloads and the Hub ------------------------------------------------------------------


def default_cache_dir() -> Path:
    """``$VIQA_CACHE`` if set, else ``~/.cache/viqa``."""
    return Path(os.environ.get("VIQA_CACHE") or Path.home() / ".cache" / "viqa")


def _download(url: str, dest: Path) -> None:
    """Fetch ``url`` into ``dest`` atomically (a partial download never looks complete)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    logger.info("Downloading %s to %s", url, dest)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            while chunk := response.read(1 << 20):
                out.write(chunk)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _load_hub(
    path: str, split: str, *, data_files: str | None = None, cache_dir: Path | None = None
) -> list[dict]:
    """Rows of one split of a Hub dataset (or of the parquet files ``data_files``) as dicts."""
    if not hub_reachable():  # fail in a second, not after the client's long retries
        raise ConnectionError("the Hugging Face Hub cannot be reached (offline?)")
    dataset = datasets.load_dataset(
        path,
        # A bare pattern would be named "train" by datasets; name it after the split we want.
        data_files={split: data_files} if data_files else None,
        split=split,
        cache_dir=str(cache_dir / "datasets") if cache_dir else None,
    )
    return dataset.to_list()


def _offline_hint(name: str, filename: str, cache: Path) -> str:
    return (
        f"If you are offline, download the file elsewhere and pass its path: "
        f"load_source({name!r}, local_path='path/to/{filename}'), or put it at "
        f"{cache / filename}."
    )


def _fetch(name: str, url: str, cache: Path) -> Path:
    """The cached copy of ``url``, downloading it first if needed."""
    filename = url.rsplit("/", 1)[-1]
    dest = cache / filename
    if dest.is_file():
        return dest
    try:
        _download(url, dest)
    except (urllib.error.URLError, OSError, HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise SourceUnavailableError(
            f"Could not download {name} from {url}: {reason}. "
            + _offline_hint(name, filename, cache)
        ) from exc
    return dest


def _hub_error(name: str, hub_id: str, exc: Exception) -> str:
    return f"Could not load {name} from the Hub dataset {hub_id}: {type(exc).__name__}: {exc}"


# --- named sources --------------------------------------------------------------------------


def _archive_json(archive: Path, member: str) -> dict:
    """Parse the JSON ``member`` of a .zip or .tar.gz archive (leading './' ignored)."""
    try:
        if archive.suffix == ".zip":
            with zipfile.ZipFile(archive) as zf:
                names = {n.removeprefix("./"): n for n in zf.namelist()}
                if member in names:
                    return json.loads(zf.read(names[member]))
        else:
            with tarfile.open(archive, "r:*") as tf:
                names = {n.removeprefix("./"): n for n in tf.getnames()}
                if member in names:
                    handle = tf.extractfile(names[member])
                    if handle is not None:
                        return json.load(handle)
    except (tarfile.TarError, zipfile.BadZipFile, OSError, json.JSONDecodeError) as exc:
        raise DatasetFormatError(
            f"{archive} could not be read ({type(exc).__name__}: {exc}). If it is a broken "
            "download, delete it and load again."
        ) from None
    shown = ", ".join(sorted(names)[:8])
    raise DatasetFormatError(
        f"{archive.name} has no member {member!r}; found: {shown}"
        f"{', ...' if len(names) > 8 else ''}. Expected the official archive."
    )


def _local_named_file(local_path: str, names: Iterable[str]) -> Path:
    """``local_path`` itself, or the first of ``names`` inside it when it is a directory."""
    path = Path(local_path)
    if path.is_dir():
        for name in names:
            if (path / name).is_file():
                return path / name
        raise UnknownSourceError(
            f"{path} holds none of: {', '.join(names)}. Pass the file itself as local_path."
        )
    if not path.is_file():
        raise UnknownSourceError(f"local_path {str(path)!r} does not exist.")
    return path


# Which split a single file of a named source holds, from its official (or Hub) file name.
_FILE_SPLITS: dict[str, tuple[tuple[str, str], ...]] = {
    "mlqa-translate-train.vi": (
        (r"translate-train-train", "train"),
        (r"translate-train-dev", "validation"),
    ),
    "mlqa.vi.vi": ((r"^dev-", "validation"), (r"^test-", "test")),
    "uit-viquad2": (
        (r"^train\b", "train"),
        (r"^(validation|dev)\b", "validation"),
        (r"^test\b", "test"),
    ),
}


def _file_split(info: SourceInfo, path: Path) -> str | None:
    """The split a file of ``info`` holds, judged by its name (or its folder's, as in the Hub
    parquet export ``<config>/<split>/0000.parquet``); None when the name does not say."""
    for pattern, split in _FILE_SPLITS.get(info.name, ()):
        if re.search(pattern, path.name, re.IGNORECASE):
            return split
    return path.parent.name if path.parent.name in info.splits else None


def _local_file_split(info: SourceInfo, local_path: str, base: str, asked: bool) -> str:
    """The split to report for ``local_path``: a single file of one split is that split,
    whatever the source's default; asking for another split is an error."""
    path = Path(local_path)
    if (
        info.name not in _FILE_SPLITS
        or not path.is_file()
        or path.suffix.lower() not in _FILE_SUFFIXES
    ):
        return base  # an archive or folder holds every split: load the one asked for
    found = _file_split(info, path)
    if found is None:
        if not asked:
            logger.warning(
                "%s: its name does not say which split of %s it holds; reported as %r. "
                "Pass the split to name it.",
                path.name,
                info.name,
                base,
            )
        return base
    if asked and found != base:
        raise UnknownSplitError(
            f"{path.name} holds the {found!r} split of {info.name}, but split {base!r} was "
            f"asked for. Ask for split {found!r}, or pass the {base} file as local_path."
        )
    return found


def _load_mlqa(
    info: SourceInfo, split: str, member: str, cache: Path, local_path: str | None
) -> list[dict]:
    url = info.urls[0]
    archive_name = url.rsplit("/", 1)[-1]
    if local_path is not None:
        # The archive, or the member inside an extracted folder at any depth: the folder that
        # holds MLQA_V1/, MLQA_V1/ itself, or its test/ folder.
        parts = member.split("/")
        inside = ["/".join(parts[i:]) for i in range(len(parts))]
        path = _local_named_file(local_path, [archive_name, *inside])
        if path.suffix.lower() in _FILE_SUFFIXES:
            return read_records(path)
        return squad_json_to_records(_archive_json(path, member), f"{path.name}:{member}")
    try:
        archive = _fetch(info.name, url, cache)
    except SourceUnavailableError as archive_exc:
        data_files = _MLQA_PARQUET.format(config=info.name, split=split)
        try:
            rows = _load_hub("parquet", split, data_files=data_files, cache_dir=cache)
        except Exception as hub_exc:
            raise SourceUnavailableError(
                f"{archive_exc} The Hub parquet export ({data_files}) failed too: "
                f"{type(hub_exc).__name__}: {hub_exc}"
            ) from hub_exc
        return rows_to_records(rows, f"{info.hub_id} parquet {info.name}/{split}", "column")
    return squad_json_to_records(_archive_json(archive, member), f"{archive.name}:{member}")


def _load_mlqa_translate_train(
    info: SourceInfo, split: str, cache: Path, local_path: str | None
) -> list[dict]:
    part = {"train": "train", "validation": "dev"}[split]
    member = f"mlqa-translate-train/vi_squad-translate-train-{part}-v1.1.json"
    return _load_mlqa(info, split, member, cache, local_path)


def _load_mlqa_vi(info: SourceInfo, split: str, cache: Path, local_path: str | None) -> list[dict]:
    part = {"validation": "dev", "test": "test"}[split]
    member = f"MLQA_V1/{part}/{part}-context-vi-question-vi.json"
    return _load_mlqa(info, split, member, cache, local_path)


def _load_xquad(info: SourceInfo, split: str, cache: Path, local_path: str | None) -> list[dict]:
    if local_path is not None:
        return read_records(_local_named_file(local_path, ["xquad.vi.json"]))
    return read_records(_fetch(info.name, info.urls[0], cache))


def _load_uit_viquad2(
    info: SourceInfo, split: str, cache: Path, local_path: str | None
) -> list[dict]:
    if local_path is not None:
        path = Path(local_path)
        if path.is_dir():  # a snapshot of the Hub repo (data/<split>-*.parquet), or a
            # folder of the official files (train.json, dev.json, test.json)
            files = sorted(path.rglob(f"{split}-*.parquet")) or sorted(
                file
                for file in path.rglob("*")
                if file.suffix.lower() in _FILE_SUFFIXES and _file_split(info, file) == split
            )
            if not files:
                raise UnknownSourceError(
                    f"{path} has no {split}-*.parquet file (nor another file of that split, "
                    "such as dev.json for validation). Pass the split's file as local_path."
                )
            return [record for file in files for record in read_records(file)]
        return read_records(_local_named_file(local_path, []))
    hub_id = info.hub_id or info.name
    try:
        rows = _load_hub(hub_id, split, cache_dir=cache)
    except Exception as exc:  # datasets raises many types when offline
        raise SourceUnavailableError(
            f"{_hub_error(info.name, hub_id, exc)}. If you are offline, download the "
            f"split's parquet file elsewhere and pass it: "
            f"load_source({info.name!r}, split={split!r}, local_path='path/to/{split}.parquet')."
        ) from exc
    return rows_to_records(rows, f"{hub_id} {split}", "column")


def _load_sample(info: SourceInfo, split: str, cache: Path, local_path: str | None) -> list[dict]:
    path = Path(local_path) if local_path is not None else _SAMPLE_PATH
    if not path.is_file():
        raise UnknownSourceError(
            f"The bundled sample {path} is missing; reinstall viqa or pass local_path."
        )
    return read_records(path)


_Reader = Callable[..., list[dict]]  # (info, split, cache dir, local_path) -> records
_READERS: dict[str, _Reader] = {
    "mlqa-translate-train.vi": _load_mlqa_translate_train,
    "mlqa.vi.vi": _load_mlqa_vi,
    "xquad.vi": _load_xquad,
    "uit-viquad2": _load_uit_viquad2,
    "sample": _load_sample,
}


# --- entry points ---------------------------------------------------------------------------


def list_sources() -> list[SourceInfo]:
    """The named sources :func:`load_source` knows, with licences and homepages."""
    return list(NAMED_SOURCES.values())


def _hub_records(source: str, split: str, cache_dir: str | None) -> list[dict]:
    try:
        rows = _load_hub(source, split, cache_dir=Path(cache_dir) if cache_dir else None)
    except Exception as exc:  # datasets raises many types when offline or not found
        raise SourceUnavailableError(
            f"{_hub_error(source, source, exc)}. Check the id and split, or download the data "
            "elsewhere and pass the file's path to load_source."
        ) from exc
    return rows_to_records(rows, f"{source} {split}", "column")


def load_source(
    source: str,
    split: str | None = None,
    *,
    cache_dir: str | None = None,
    local_path: str | None = None,
) -> LoadedSource:
    """Load one split of a source in the flat schema, with answers repaired and counted.

    ``source`` is a name from :data:`NAMED_SOURCES`, a local file, or a Hub dataset id
    (``"org/name"``). ``split`` is ``datasets``-style (``"test"``, ``"validation[:20%]"``,
    ``"train[100:200]"``); it defaults to the source's usual split, to ``"train"`` for a Hub
    id, and to the whole file (reported as :data:`WHOLE_FILE`) for a local file (a file is one
    split; any name is accepted for it). ``local_path`` points a named source at a copy of its
    download (archive, extracted folder, JSON or parquet file) for offline use; a file of one
    split (e.g. MLQA's ``test-context-vi-question-vi.json``) is reported as that split. The slice is taken after repair, so ids and the report do not depend on it;
    the report covers the whole split.
    """
    info = NAMED_SOURCES.get(source)
    base, part = parse_split(split or (info.default_split if info else "train"))
    name = split or base
    if info is not None:
        if base not in info.splits:
            raise UnknownSplitError(
                f"{source} has no split {base!r}; available: {', '.join(info.splits)}."
            )
        if local_path is not None:
            base = _local_file_split(info, local_path, base, asked=split is not None)
            name = split or base
        cache = Path(cache_dir) if cache_dir else default_cache_dir()
        records = _READERS[source](info, base, cache, local_path)
    elif Path(source).is_file():
        records = read_records(source)
        name = split or WHOLE_FILE
    elif Path(source).suffix.lower() in _FILE_SUFFIXES or Path(source).is_dir():
        raise UnknownSourceError(
            f"{source!r} is not a file. Pass an existing .json/.jsonl/.csv/.parquet file."
        )
    elif "/" in source:
        records = _hub_records(source, base, cache_dir)
    else:
        raise UnknownSourceError(
            f"Unknown source {source!r}. Use one of {', '.join(NAMED_SOURCES)}, a path to a "
            f".json/.jsonl/.csv/.parquet file, or a Hub dataset id like 'org/name'."
        )
    report = RepairReport()
    records = repair_answers(records, report)
    dataset = datasets.Dataset.from_list(records, features=_features(records))
    if part is not None:
        dataset = dataset.select(part.indices(len(dataset)))
    if not report.clean:
        logger.warning("%s %s: %s", source, name, report.summary())
    return LoadedSource(dataset=dataset, report=report, source=source, split=name)


def _features(records: list[dict]) -> datasets.Features:
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

    Raises :class:`UnlabelledDataError` when none has: scoring predictions against no gold
    answers would report every empty prediction as right.
    """
    if "labelled" not in dataset.column_names:
        return dataset, 0
    flags = list(dataset["labelled"])
    keep = [i for i, flag in enumerate(flags) if flag]
    if not keep and flags:
        raise UnlabelledDataError(
            f"{what} has no gold answers: none of its {len(flags):,} questions has an answer "
            "or is marked unanswerable (is_impossible: true), so there is nothing to score "
            "against. Test sets are often published without their answers; evaluate on a "
            "split that has them (e.g. 'validation')."
        )
    skipped = len(flags) - len(keep)
    return (dataset.select(keep) if skipped else dataset), skipped
