"""Exact match and F1 for extractive QA, computed as the official evaluation scripts do.

Two normalisations, chosen explicitly because they give different numbers on Vietnamese:

- ``"squad"``: the official SQuAD v1.1 / v2.0 ``evaluate`` scripts. Lower-case, drop ASCII
  punctuation, drop the English articles *a/an/the*, collapse white space. Curly quotes,
  dashes and « » survive, so ``“Hà Nội”`` does not match ``Hà Nội``.
- ``"mlqa-vi"``: MLQA's official ``mlqa_evaluation_v1.py`` with language ``vi``. Lower-case,
  drop every Unicode punctuation character (category ``P*``) plus ASCII punctuation, drop the
  Vietnamese classifiers/particles *của, là, cái, chiếc, những*, split on white space.

The pure functions (:func:`normalize_answer`, :func:`exact_match_score`, :func:`f1_score`) are
character-for-character the official ones. :func:`compute_metrics` adds one thing: it
NFC-normalises predictions and references first (``nfc=True``). That changes nothing for NFC
text; it only rescues decomposed (NFD) input, which the official scripts score 0 because
``"ộ"`` and ``"o" + U+0323 + U+0302`` are different strings.

Unanswerable questions follow SQuAD v2.0: their only gold answer is ``""``, so predicting
``""`` scores EM = F1 = 1 and anything else 0.

The command line (``python -m qa_core.metrics DATA PREDICTIONS``) reads ``DATA`` through
``qa_core.sources``, as ``train.evaluate`` does: every format the loaders read, the same
answer repairs and renamed repeated ids, so it scores that command's ``predictions.json`` to
the same numbers. Questions without a gold answer (an unlabelled test split) are not scored.
"""

from __future__ import annotations

import argparse
import json
import re
import string
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

NORMALIZATIONS = ("squad", "mlqa-vi")

_ASCII_PUNCT = frozenset(string.punctuation)
_EN_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_VI_ARTICLES = re.compile(r"\b(của|là|cái|chiếc|những)\b", re.UNICODE)


class MetricInputError(ValueError):
    """References, predictions or options that cannot be scored as given."""


def _check_normalization(normalization: str) -> None:
    if normalization not in NORMALIZATIONS:
        raise MetricInputError(
            f"Unknown normalization {normalization!r}. Use one of: {', '.join(NORMALIZATIONS)}."
        )


def _is_mlqa_punct(ch: str) -> bool:
    # MLQA builds the set {chr(i) : category P*} | string.punctuation over all code points;
    # testing the category per character is the same set without 1.1M lookups at import.
    return ch in _ASCII_PUNCT or unicodedata.category(ch).startswith("P")


def normalize_answer(text: str, normalization: str = "squad") -> str:
    """Normalise an answer string exactly as the chosen official script does.

    >>> normalize_answer("The Eiffel Tower!")
    'eiffel tower'
    >>> normalize_answer("“Hà Nội”")                 # SQuAD keeps non-ASCII punctuation
    '“hà nội”'
    >>> normalize_answer("“Hà Nội”", "mlqa-vi")
    'hà nội'
    >>> normalize_answer("thủ đô của  Việt Nam", "mlqa-vi")
    'thủ đô việt nam'
    >>> normalize_answer("thủ đô của Việt Nam")      # no Vietnamese articles in SQuAD mode
    'thủ đô của việt nam'
    """
    _check_normalization(normalization)
    text = text.lower()
    if normalization == "squad":
        text = "".join(ch for ch in text if ch not in _ASCII_PUNCT)
        text = _EN_ARTICLES.sub(" ", text)
    else:
        text = "".join(ch for ch in text if not _is_mlqa_punct(ch))
        text = _VI_ARTICLES.sub(" ", text)
    # MLQA joins the non-blank whitespace tokens; that is the same as SQuAD's split/join.
    return " ".join(text.split())


def exact_match_score(prediction: str, ground_truth: str, normalization: str = "squad") -> float:
    """1.0 when both strings normalise to the same text, else 0.0.

    >>> exact_match_score("Hà Nội.", "hà nội")
    1.0
    >>> exact_match_score("Ha Noi", "Hà Nội")        # diacritics matter in Vietnamese
    0.0
    """
    return float(
        normalize_answer(prediction, normalization) == normalize_answer(ground_truth, normalization)
    )


def f1_score(prediction: str, ground_truth: str, normalization: str = "squad") -> float:
    """Token-level F1 between the normalised strings (bag of tokens, as in SQuAD).

    Follows the SQuAD v2.0 script: when either side normalises to no tokens the score is 1.0
    if both do and 0.0 otherwise. The v1.1 and MLQA scripts return 0.0 in the both-empty case;
    every other case scores the same in all three.

    >>> round(f1_score("thủ đô Hà Nội", "Hà Nội"), 4)    # precision 2/4, recall 2/2
    0.6667
    >>> f1_score("", "")
    1.0
    >>> f1_score("Paris", "")
    0.0
    """
    pred_tokens = normalize_answer(prediction, normalization).split()
    gold_tokens = normalize_answer(ground_truth, normalization).split()
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    common = Counter(gold_tokens) & Counter(pred_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = 1.0 * num_same / len(pred_tokens)
    recall = 1.0 * num_same / len(gold_tokens)
    return (2 * precision * recall) / (precision + recall)


def metric_max_over_ground_truths(
    metric_fn: Callable[[str, str, str], float],
    prediction: str,
    ground_truths: Sequence[str],
    normalization: str = "squad",
) -> float:
    """Best score of ``prediction`` against any of the gold answers.

    An empty list means "unanswerable" and is scored against ``""``, as in SQuAD v2.0.

    >>> metric_max_over_ground_truths(exact_match_score, "Hà Nội", ["Sài Gòn", "Hà Nội"])
    1.0
    >>> metric_max_over_ground_truths(exact_match_score, "", [])
    1.0
    """
    golds = list(ground_truths) or [""]
    return max(metric_fn(prediction, gold, normalization) for gold in golds)


def _check_inputs(references: Mapping[str, Sequence[str]], predictions: Mapping[str, str]) -> None:
    if not isinstance(references, Mapping) or not references:
        raise MetricInputError(
            "references is empty or not a mapping: nothing to score. "
            "Pass {question_id: [gold answer, ...]} with [] for unanswerable questions."
        )
    if not isinstance(predictions, Mapping):
        raise MetricInputError(
            f"predictions is a {type(predictions).__name__}; "
            "expected a mapping {question_id: predicted answer text} ('' for no answer)."
        )
    for qid, golds in references.items():
        if isinstance(golds, str) or not isinstance(golds, Sequence):
            raise MetricInputError(
                f"references[{qid!r}] is a {type(golds).__name__}; expected a list of answer "
                "strings, e.g. ['Hà Nội'], or [] for an unanswerable question."
            )
        for gold in golds:
            if not isinstance(gold, str):
                raise MetricInputError(
                    f"references[{qid!r}] contains a {type(gold).__name__}; "
                    "every gold answer must be a string."
                )
    for qid, pred in predictions.items():
        if not isinstance(pred, str):
            raise MetricInputError(
                f"predictions[{qid!r}] is a {type(pred).__name__}; "
                "expected the answer text as a string ('' for no answer)."
            )


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def compute_metrics(
    references: Mapping[str, Sequence[str]],
    predictions: Mapping[str, str],
    normalization: str = "squad",
    *,
    nfc: bool = True,
) -> dict:
    """Score predictions against references; EM and F1 are percentages (0-100).

    Per question this is the SQuAD v2.0 script: gold answers that normalise to nothing are
    ignored, a question with no gold answer is scored against ``""``, and the max over gold
    answers is taken. A missing prediction counts as ``""`` (so it is wrong on answerable
    questions) and is counted in ``"missing"``. When any question is unanswerable the result
    also splits the scores into ``HasAns_*`` (questions with an answer; only when there are
    some) and ``NoAns_*``. Set ``nfc=False`` to skip NFC normalisation and reproduce the
    official scripts byte for byte even on NFD input.

    >>> compute_metrics({"q1": ["Hà Nội"], "q2": ["1945", "năm 1945"]},
    ...                 {"q1": "Hà Nội", "q2": "1954"})
    {'exact_match': 50.0, 'f1': 50.0, 'total': 2, 'missing': 0}
    """
    _check_normalization(normalization)
    _check_inputs(references, predictions)
    exact: dict[str, float] = {}
    f1: dict[str, float] = {}
    has_answer: dict[str, bool] = {}
    missing = 0
    for qid, golds in references.items():
        if qid not in predictions:
            missing += 1
        prediction = predictions.get(qid, "")
        if nfc:
            prediction = _nfc(prediction)
            golds = [_nfc(gold) for gold in golds]
        # SQuAD v2.0: a question is answerable when it lists answers; gold texts that
        # normalise to nothing cannot be matched and are dropped.
        has_answer[qid] = any(gold != "" for gold in golds)
        scorable = [gold for gold in golds if normalize_answer(gold, normalization)]
        exact[qid] = metric_max_over_ground_truths(
            exact_match_score, prediction, scorable, normalization
        )
        f1[qid] = metric_max_over_ground_truths(f1_score, prediction, scorable, normalization)

    def summary(qids: list[str]) -> tuple[float, float, int]:
        # Same summation order and formula as the official scripts, for identical floats.
        total = len(qids)
        return (
            100.0 * sum(exact[q] for q in qids) / total,
            100.0 * sum(f1[q] for q in qids) / total,
            total,
        )

    result: dict = {}
    result["exact_match"], result["f1"], result["total"] = summary(list(exact))
    no_ans = [q for q, has in has_answer.items() if not has]
    if no_ans:
        has_ans = [q for q, has in has_answer.items() if has]
        if has_ans:
            (
                result["HasAns_exact_match"],
                result["HasAns_f1"],
                result["HasAns_total"],
            ) = summary(has_ans)
        result["NoAns_exact_match"], result["NoAns_f1"], result["NoAns_total"] = summary(no_ans)
    result["missing"] = missing
    return result


def compute_all(
    references: Mapping[str, Sequence[str]], predictions: Mapping[str, str], *, nfc: bool = True
) -> dict[str, dict]:
    """:func:`compute_metrics` under both normalisations: ``{"squad": ..., "mlqa-vi": ...}``."""
    return {
        name: compute_metrics(references, predictions, name, nfc=nfc) for name in NORMALIZATIONS
    }


def references_from_squad_json(data: dict) -> dict[str, list[str]]:
    """Gold answers per question id from a SQuAD v1.1/v2.0 dataset file (already parsed).

    Unanswerable v2.0 questions (``"answers": []``) map to ``[]``. As in the official v2.0
    script, a repeated id keeps its first position and its last answers.

    >>> references_from_squad_json({"data": [{"paragraphs": [{"context": "Hà Nội", "qas": [
    ...     {"id": "q1", "answers": [{"text": "Hà Nội", "answer_start": 0}]},
    ...     {"id": "q2", "answers": []}]}]}]})
    {'q1': ['Hà Nội'], 'q2': []}
    """
    expected = (
        "Expected the SQuAD layout: {'data': [{'paragraphs': [{'context': ..., "
        "'qas': [{'id': ..., 'answers': [{'text': ...}]}]}]}]}."
    )
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise MetricInputError(f"No 'data' list at the top level (found {found}). {expected}")
    references: dict[str, list[str]] = {}
    for a, article in enumerate(data["data"]):
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise MetricInputError(f"data[{a}] has no 'paragraphs' list. {expected}")
        for p, paragraph in enumerate(paragraphs):
            qas = paragraph.get("qas") if isinstance(paragraph, dict) else None
            if not isinstance(qas, list):
                raise MetricInputError(f"data[{a}].paragraphs[{p}] has no 'qas' list. {expected}")
            for q, qa in enumerate(qas):
                where = f"data[{a}].paragraphs[{p}].qas[{q}]"
                if not isinstance(qa, dict) or "id" not in qa:
                    raise MetricInputError(f"{where} has no 'id'. {expected}")
                answers = qa.get("answers", [])
                if not isinstance(answers, list) or not all(
                    isinstance(ans, dict) and isinstance(ans.get("text"), str) for ans in answers
                ):
                    raise MetricInputError(
                        f"{where}: 'answers' must be a list of {{'text': str, ...}}. {expected}"
                    )
                references[str(qa["id"])] = [ans["text"] for ans in answers]
    return references


# --- command line ---------------------------------------------------------------------------


def _read_json(path: str, what: str) -> object:
    try:
        with Path(path).open(encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise MetricInputError(f"{what} file {path!r} not found.") from None
    except IsADirectoryError:
        raise MetricInputError(f"{what} file {path!r} is a directory; pass a JSON file.") from None
    except UnicodeDecodeError as exc:
        raise MetricInputError(f"{what} file {path!r} is not UTF-8 text: {exc}.") from None
    except json.JSONDecodeError as exc:
        raise MetricInputError(f"{what} file {path!r} is not valid JSON: {exc}.") from None


def _predictions_from_json(obj: object, path: str) -> dict[str, str]:
    if not isinstance(obj, dict) or not all(isinstance(v, str) for v in obj.values()):
        found = type(obj).__name__
        if isinstance(obj, dict):
            found = "a dict with non-string values"
        raise MetricInputError(
            f"Predictions file {path!r} holds {found}; expected a JSON object "
            '{"question_id": "answer text", ...} with "" for no answer.'
        )
    return obj


def references_from_file(
    data_file: str, split: str | None = None
) -> tuple[dict[str, list[str]], list[str], set[str]]:
    """Gold answers per id of a data file read by ``qa_core.sources`` (any format it reads),
    so that ids and answers are those ``train.evaluate`` scored: answers repaired, repeated
    ids renamed ``<id>-2``, ... Returns (references of the labelled questions, notes for the
    user, ids of the unlabelled questions, which are not scored)."""
    from qa_core.errors import QAError
    from qa_core.sources import labelled_only, load_source

    path = Path(data_file)
    if not path.is_file():
        what = "is a directory; pass a data file" if path.is_dir() else "not found"
        raise MetricInputError(f"Data file {data_file!r} {what}.")
    try:
        loaded = load_source(str(path), split)
        dataset, skipped = labelled_only(loaded.dataset, f"Data file {data_file!r}")
    except QAError as exc:
        message = str(exc)
        if not message.startswith("Data file"):
            message = f"Data file {data_file!r}: {message}"
        raise MetricInputError(message) from None
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
    predictions = _predictions_from_json(
        _read_json(prediction_file, "Predictions"), prediction_file
    )
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


def evaluate_files(
    data_file: str, prediction_file: str, normalization: str = "squad", split: str | None = None
) -> dict:
    """Score a predictions file against a data file (the CLI's work, without the notes)."""
    return score_files(data_file, prediction_file, normalization, split)[0]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m qa_core.metrics DATA.json PREDICTIONS.json``: print the scores as JSON."""
    parser = argparse.ArgumentParser(
        prog="python -m qa_core.metrics",
        description="Exact match and F1 of SQuAD-style predictions, as the official scripts "
        "compute them (SQuAD v1.1/v2.0 or MLQA-vi normalisation).",
    )
    parser.add_argument(
        "data_file",
        help="dataset file in any format qa_core.sources reads: SQuAD v1.1/v2.0 JSON, JSON "
        "lines, CSV or parquet (read, repaired and with repeated ids renamed as train.evaluate "
        "reads it)",
    )
    parser.add_argument("prediction_file", help='JSON object {"question_id": "answer text"}')
    parser.add_argument(
        "--normalization",
        choices=[*NORMALIZATIONS, "both"],
        default="squad",
        help="answer normalisation: squad (official SQuAD scripts, default), mlqa-vi "
        "(official MLQA script, language vi) or both",
    )
    parser.add_argument(
        "--split",
        default=None,
        help="score only a slice of the file, as train.evaluate --split took it, e.g. "
        "'train[:100]' (default: the whole file)",
    )
    args = parser.parse_args(argv)
    try:
        result, notes = score_files(
            args.data_file, args.prediction_file, args.normalization, args.split
        )
    except MetricInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
