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

Scoring files (``python -m qa_core score DATA PREDICTIONS``) is ``qa_core.evaluation.files``.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from qa_core.errors import MetricInputError

NORMALIZATIONS = ("squad", "mlqa-vi")

_ASCII_PUNCT = frozenset(string.punctuation)
_EN_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_VI_ARTICLES = re.compile(r"\b(của|là|cái|chiếc|những)\b", re.UNICODE)


def _check_normalization(normalization: str) -> None:
    if normalization not in NORMALIZATIONS:
        raise MetricInputError(
            "Unknown normalization {normalization!r}. Use one of: {names}.",
            normalization=normalization, names=", ".join(NORMALIZATIONS),
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
            "predictions is a {type}; expected a mapping {{question_id: predicted answer text}} "
            "('' for no answer).", type=type(predictions).__name__,
        )
    for qid, golds in references.items():
        if isinstance(golds, str) or not isinstance(golds, Sequence):
            raise MetricInputError(
                "references[{qid!r}] is a {type}; expected a list of answer strings, e.g. "
                "['Hà Nội'], or [] for an unanswerable question.",
                qid=qid, type=type(golds).__name__,
            )
        for gold in golds:
            if not isinstance(gold, str):
                raise MetricInputError(
                    "references[{qid!r}] contains a {type}; every gold answer must be a string.",
                    qid=qid, type=type(gold).__name__,
                )
    for qid, pred in predictions.items():
        if not isinstance(pred, str):
            raise MetricInputError(
                "predictions[{qid!r}] is a {type}; expected the answer text as a string ('' for "
                "no answer).", qid=qid, type=type(pred).__name__,
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
