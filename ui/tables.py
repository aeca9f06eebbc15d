"""Results as tables for ``gr.Dataframe``: candidates, scores, breakdowns, comparisons, misses.
Columns are named by keys and shown in the page's language (:func:`frame`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from qa_core.types import Answer
from ui.i18n import DEFAULT_LANGUAGE, t

CANDIDATE_COLUMNS = ("rank", "answer", "probability", "score", "start", "end")
METRIC_COLUMNS = ("metric", "squad", "mlqa_vi")
METRIC_COMPARED_COLUMNS = ("metric", "squad_a", "mlqa_vi_a", "squad_b", "mlqa_vi_b")
BREAKDOWN_COLUMNS = ("breakdown", "slice", "count", "squad_em", "squad_f1", "mlqa_vi_em",
                     "mlqa_vi_f1")
BREAKDOWN_COMPARED_COLUMNS = (
    "breakdown", "slice", "count",
    *(f"{n}_{m}" for n in ("squad", "mlqa_vi") for m in ("em_a", "em_b", "f1_a", "f1_b", "f1_delta")),
)
COMPARISON_COLUMNS = ("metric", "a", "b", "delta", "interval", "a_wins", "b_wins", "ties")
MISS_COLUMNS = ("id", "type", "question", "gold", "predicted", "top_probability", "f1_mlqa_vi",
                "f1_squad")
DATASET_COLUMNS = ("number", "id", "question", "gold_answer")
BREAKDOWNS = ("by_question_type", "by_answer_length", "by_context_windows", "by_answerable")
NORMALIZATIONS = ("squad", "mlqa_vi")
ALL_TYPES = "all"  # the misses filter's value that keeps every row


def headers(columns: Sequence[str], lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """The column headers of ``columns`` (keys) in ``lang``."""
    return [t(f"column.{key}", lang) for key in columns]


def frame(rows: Sequence[Sequence], columns: Sequence[str],
          lang: str = DEFAULT_LANGUAGE) -> pd.DataFrame:
    """``rows`` as a ``DataFrame`` whose headers are ``columns`` in ``lang``."""
    return pd.DataFrame([list(r) for r in rows], columns=headers(columns, lang))


def slice_name(label: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A breakdown's slice (``who``, ``2-3``, ``no answer``, ``answerable``) in ``lang``."""
    return t(f"slice.{label}", lang)


def candidate_rows(answers: Sequence[Answer]) -> list[list]:
    """One row per candidate, columns :data:`CANDIDATE_COLUMNS`, best first."""
    return [
        [rank, a.text, round(a.probability, 4), round(a.score, 3), a.start, a.end]
        for rank, a in enumerate(answers, start=1)
    ]


_METRIC_ROWS = ("exact_match", "f1", "HasAns_exact_match", "HasAns_f1", "NoAns_exact_match")


def metrics_rows(results: Mapping[str, Mapping[str, float]],
                 lang: str = DEFAULT_LANGUAGE) -> list[list]:
    """``qa_core.evaluation.metrics.compute_all`` outputs as rows ``[metric, *values]``, one
    value per entry of ``results``."""
    rows = []
    for key in _METRIC_ROWS:
        if any(key in r for r in results.values()):
            rows.append([t(f"metric.{key}", lang),
                         *(round(r.get(key, float("nan")), 2) for r in results.values())])
    total = next(iter(results.values())).get("total") if results else None
    if total is not None:
        rows.append([t("metric.questions", lang), *(total for _ in results)])
    return rows


def breakdown_rows(metrics: Mapping, lang: str = DEFAULT_LANGUAGE) -> list[list]:
    """Every breakdown in ``metrics`` (``Analysis.metrics()``) as rows of
    :data:`BREAKDOWN_COLUMNS`: breakdown, slice, questions, EM and F1 per normalisation.

    >>> s = {"count": 2, "squad": {"exact": 50.0, "f1": 75.0}, "mlqa_vi": {"exact": 50.0, "f1": 80.0}}
    >>> breakdown_rows({"by_question_type": {"who": s}})
    [['question type', 'who', 2, 50.0, 75.0, 50.0, 80.0]]
    """
    return [
        [t(f"breakdown.{name}", lang), slice_name(label, lang), s["count"],
         *(round(s[key][m], 2) for key in NORMALIZATIONS for m in ("exact", "f1"))]
        for name in BREAKDOWNS
        for label, s in metrics.get(name, {}).items()
    ]


def compared_breakdown_rows(comparison: Mapping, lang: str = DEFAULT_LANGUAGE) -> list[list]:
    """The breakdowns of a comparison (``qa_core.evaluation.compare.compare``) side by side,
    rows of :data:`BREAKDOWN_COMPARED_COLUMNS`."""
    rows = []
    for name in BREAKDOWNS:
        for label, s in comparison.get(name, {}).items():
            row = [t(f"breakdown.{name}", lang), slice_name(label, lang), s["count"]]
            for key in NORMALIZATIONS:
                row += [round(s["a"][key]["exact"], 2), round(s["b"][key]["exact"], 2),
                        round(s["a"][key]["f1"], 2), round(s["b"][key]["f1"], 2),
                        round(s["delta"][key]["f1"], 2)]
            rows.append(row)
    return rows


def comparison_rows(comparison: Mapping, lang: str = DEFAULT_LANGUAGE) -> list[list]:
    """ΔEM and ΔF1 of A − B with their paired bootstrap interval, and (on the F1 rows) the
    questions each wins and the ties: rows of :data:`COMPARISON_COLUMNS`."""
    rows = []
    for key in NORMALIZATIONS:
        for metric in ("exact", "f1"):
            m = comparison[key][metric]
            wins = comparison[key]["wins"] if metric == "f1" else None
            rows.append([
                t(f"metric.{key}_{metric}", lang), round(m["a"], 2), round(m["b"], 2),
                f"{m['delta']:+.2f}", f"[{m['low']:+.2f}, {m['high']:+.2f}]",
                *((wins["a"], wins["b"], wins["tie"]) if wins else ("", "", "")),
            ])
    return rows


def miss_rows(rows: Sequence[Mapping], lang: str = DEFAULT_LANGUAGE) -> list[list]:
    """The questions answered wrongly (SQuAD EM = 0) among an analysis' per-question rows
    (``Analysis.rows``), worst F1 first: rows of :data:`MISS_COLUMNS` (the type as its key, so
    the misses can be filtered by it)."""
    none = t("value.no_answer", lang)
    misses = [
        [r["id"], r["question_type"], r["question"],
         " | ".join(r["answers"]) if r["answers"] else none,
         r["prediction"] or none,
         None if r["probability"] is None else round(r["probability"], 4),
         round(100 * r["mlqa_vi_f1"], 1), round(100 * r["squad_f1"], 1)]
        for r in rows
        if not r["squad_exact"]
    ]
    return sorted(misses, key=lambda m: (m[6], m[0]))


def misses_of_type(misses: Sequence[Sequence], question_type: str | None) -> list[list]:
    """The misses of one question type (all of them for ``None`` or :data:`ALL_TYPES`).

    >>> misses_of_type([["q1", "who"], ["q2", "when"]], "when")
    [['q2', 'when']]
    """
    if not question_type or question_type == ALL_TYPES:
        return [list(m) for m in misses]
    column = MISS_COLUMNS.index("type")
    return [list(m) for m in misses if m[column] == question_type]


def shown_misses(misses: Sequence[Sequence], lang: str = DEFAULT_LANGUAGE) -> pd.DataFrame:
    """Misses as the page shows them: the question type in words."""
    column = MISS_COLUMNS.index("type")
    rows = [[*m[:column], slice_name(m[column], lang), *m[column + 1:]] for m in misses]
    return frame(rows, MISS_COLUMNS, lang)
