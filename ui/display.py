"""Reader results → data the app's components show. Pure functions, no model, no Gradio.

* :func:`span_segments` / :func:`answer_segments` / :func:`gold_segments`: ``(text, label)``
  pieces for ``gr.HighlightedText`` cut at the exact character offsets the model chose (not at
  the first occurrence of the answer string). Joined, the pieces give back the context.
* :func:`token_heatmap`: start/end probability of every context token as a plotly heatmap that
  opens on a window around the best answer; the range slider under it scrolls the rest.
* :func:`span_score_map`: start × end scores (``start_logit[i] + end_logit[j]``) around the best
  spans, the matrix the span search ranks.
* :func:`candidate_table`, :func:`outcome_markdown`, :func:`agreement_markdown`, ...: tables and
  text for the rest of the page. User text is escaped wherever it lands in Markdown.
"""

from __future__ import annotations

import bisect
import html
import itertools
import re
import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from qa_core.breakdowns import metric_key, score_questions
from qa_core.metrics import NORMALIZATIONS, f1_score
from qa_core.types import Answer, Prediction, TokenScore

BEST_COLOR = "#16a34a"  # green: the answer the model gives
CANDIDATE_COLORS = ("#f59e0b", "#fbbf24", "#fcd34d", "#fde68a")  # amber, fading with rank
GOLD_COLOR = "#16a34a"
PREDICTED_COLOR = "#3b82f6"
BOTH_COLOR = "#0d9488"
CANDIDATE_COLUMNS = ["rank", "answer", "probability", "score", "start", "end"]
DEFAULT_WINDOW = 64  # tokens shown when a heatmap opens; the range slider reaches the rest
MAP_SIZE = 24  # tokens per side of the start × end map


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def escape_markdown(text: str) -> str:
    """``text`` as literal Markdown: HTML is shown as text, never run; no accidental emphasis.

    >>> escape_markdown("<script>alert(1)</script> *x*")
    '&lt;script&gt;alert\\\\(1\\\\)&lt;/script&gt; \\\\*x\\\\*'
    """
    return html.escape(_MD_SPECIAL.sub(r"\\\1", text), quote=False)


def format_probability(p: float | None) -> str:
    """A probability as a short percentage.

    >>> format_probability(0.8734), format_probability(0.0123), format_probability(None)
    ('87.3%', '1.23%', '–')
    """
    if p is None:
        return "–"
    return f"{100 * p:.1f}%" if p >= 0.1 else f"{100 * p:.2f}%"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` and ``word``, in the plural unless ``n`` is one (``many`` for irregular plurals);
    thousands separated, as every count the app shows.

    >>> plural(1, "question"), plural(1190, "question"), plural(2, "miss", "misses")
    ('1 question', '1,190 questions', '2 misses')
    """
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def short_checkpoint_name(checkpoint: str) -> str:
    """A checkpoint as a label names it: a Hub id whole, a local path by its folder.

    >>> short_checkpoint_name("deepset/xlm-roberta-base-squad2"), short_checkpoint_name("/srv/models/run-3/")
    ('deepset/xlm-roberta-base-squad2', 'run-3')
    """
    name = checkpoint.strip()
    if name.count("/") <= 1 and not name.startswith((".", "/", "~")):
        return name
    return name.rstrip("/").rsplit("/", 1)[-1] or name


def fold_text(text: str) -> str:
    """Lower-case ``text`` without diacritics, so a search typed without accents still matches.

    >>> fold_text("Hà Nội"), fold_text("ĐỒNG BẰNG")
    ('ha noi', 'dong bang')
    """
    decomposed = unicodedata.normalize("NFD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.replace("đ", "d")


def search_index(questions: Sequence[str], contexts: Sequence[str]) -> list[str]:
    """Folded ``question + context`` per example, built once per dataset for fast searches."""
    return [fold_text(f"{q}\n{c}") for q, c in zip(questions, contexts)]


def search_indices(index: Sequence[str], query: str) -> list[int]:
    """Positions of the examples whose question or context contains ``query``, ignoring case
    and diacritics; every position when the query is blank.

    >>> search_indices(search_index(["Ai?", "Ở đâu?"], ["Ngô Quyền", "Cổ Loa"]), "co loa")
    [1]
    """
    needle = fold_text(query.strip())
    if not needle:
        return list(range(len(index)))
    return [i for i, text in enumerate(index) if needle in text]


# ---------------------------------------------------------------------------------------------
# Highlighted text
# ---------------------------------------------------------------------------------------------
_WORDS = re.compile(r"\S+\s*|\s+")


def _flow(pieces: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """Split unlabelled pieces into words (each keeps its trailing space).

    ``gr.HighlightedText`` lays pieces out as boxes in a wrapping row, so one long unlabelled
    piece would fill whole lines of its own; word-sized pieces wrap like running text.
    """
    out: list[tuple[str, str | None]] = []
    for text, label in pieces:
        if label is None and len(text) > 1:
            out.extend((word, None) for word in _WORDS.findall(text))
        else:
            out.append((text, label))
    return out


def span_segments(
    text: str, spans: Sequence[tuple[int, int, str]], combine: bool = False
) -> list[tuple[str, str | None]]:
    """Cut ``text`` into ``(piece, label)`` at the ``(start, end, label)`` spans.

    Where spans overlap, the first one listed wins (``combine=False``, spans given best first)
    or the piece gets every label joined with " + " in the order given (``combine=True``).
    Spans outside the text are clipped; empty ones are ignored. Unlabelled text comes as words.
    The pieces always join back to ``text``.

    >>> span_segments("Hà Nội là thủ đô", [(0, 6, "best"), (3, 9, "#2")])
    [('Hà Nội', 'best'), (' là', '#2'), (' ', None), ('thủ ', None), ('đô', None)]
    >>> span_segments("abcd", [(0, 2, "gold"), (1, 3, "predicted")], combine=True)
    [('a', 'gold'), ('b', 'gold + predicted'), ('c', 'predicted'), ('d', None)]
    """
    n = len(text)
    clipped = [(max(0, s), min(n, e), label) for s, e, label in spans]
    clipped = [(s, e, label) for s, e, label in clipped if s < e]
    bounds = sorted({0, n, *(s for s, _, _ in clipped), *(e for _, e, _ in clipped)})
    pieces: list[tuple[str, str | None]] = []
    for a, b in itertools.pairwise(bounds):
        labels = [label for s, e, label in clipped if s <= a and b <= e]
        if not labels:
            label = None
        elif combine:
            label = " + ".join(dict.fromkeys(labels))
        else:
            label = labels[0]
        if pieces and pieces[-1][1] == label:  # merge runs with the same label
            pieces[-1] = (pieces[-1][0] + text[a:b], label)
        else:
            pieces.append((text[a:b], label))
    return _flow(pieces) or [(text, None)]


def candidate_label(rank: int, answer: Answer, best: bool) -> str:
    """The inline tag of a candidate in the highlighted context, e.g. ``best · 87.3%``."""
    head = "best" if best else f"#{rank}"
    return f"{head} · {format_probability(answer.probability)}"


def answer_highlights(
    context: str, answers: Sequence[Answer], no_answer: bool = False
) -> tuple[list[tuple[str, str | None]], dict[str, str]]:
    """Every candidate marked at its own offsets, and the colour of each tag.

    Each character belongs to the best-ranked candidate covering it, and each run of one
    candidate is a piece tagged with its rank, probability and the other candidates that
    overlap it (``best · 41.0% +#3``), so a candidate nested in another is still named. The
    top candidate is tagged ``best`` (green) unless the model predicts no answer; the others
    are amber, paler with rank.

    >>> a = [Answer("Hà Nội", 0, 6, 2.0, 0.6), Answer("Hà Nội là", 0, 9, 1.0, 0.3)]
    >>> answer_highlights("Hà Nội là thủ đô", a)[0]
    [('Hà Nội', 'best · 60.0% +#2'), (' là', '#2 · 30.0%'), (' ', None), ('thủ ', None), ('đô', None)]
    """
    n = len(context)
    spans = [(max(0, a.start), min(n, a.end)) for a in answers]
    bounds = sorted({0, n, *(x for span in spans for x in span)})
    # Each character belongs to the best-ranked candidate covering it; runs of one owner form
    # a piece, so the best answer is always one piece.
    runs: list[list] = []  # [start, end, owner rank or None]
    for lo, hi in itertools.pairwise(bounds):
        owner = next((r for r, (s, e) in enumerate(spans, start=1) if s <= lo and hi <= e), None)
        if runs and runs[-1][2] == owner:
            runs[-1][1] = hi
        else:
            runs.append([lo, hi, owner])
    pieces: list[tuple[str, str | None]] = []
    colors: dict[str, str] = {}
    for lo, hi, owner in runs:
        label = None
        if owner is not None:
            best = owner == 1 and not no_answer
            label = candidate_label(owner, answers[owner - 1], best)
            nested = [r for r, (s, e) in enumerate(spans, start=1) if r != owner and s < hi and lo < e]
            label += "".join(f" +#{r}" for r in nested)
            shade = CANDIDATE_COLORS[min(owner - 1 - (not no_answer), len(CANDIDATE_COLORS) - 1)]
            colors[label] = BEST_COLOR if best else shade
        pieces.append((context[lo:hi], label))
    return _flow(pieces) or [(context, None)], colors


def gold_segments(
    context: str,
    gold_texts: Sequence[str],
    gold_starts: Sequence[int],
    predicted: Answer | None = None,
) -> list[tuple[str, str | None]]:
    """Gold answers (and optionally one prediction) marked in ``context``; overlaps show both.

    >>> gold_segments("Thủ đô là Hà Nội.", ["Hà Nội"], [10])
    [('Thủ ', None), ('đô ', None), ('là ', None), ('Hà Nội', 'gold'), ('.', None)]
    """
    spans = [(s, s + len(t), "gold") for t, s in zip(gold_texts, gold_starts) if s is not None]
    if predicted is not None:
        spans.append((predicted.start, predicted.end, "predicted"))
    return span_segments(context, spans, combine=True)


GOLD_COLOR_MAP = {"gold": GOLD_COLOR, "predicted": PREDICTED_COLOR, "gold + predicted": BOTH_COLOR}


# ---------------------------------------------------------------------------------------------
# Tables and text
# ---------------------------------------------------------------------------------------------
def candidate_rows(answers: Sequence[Answer]) -> list[list]:
    """One row per candidate, columns :data:`CANDIDATE_COLUMNS`, best first."""
    return [
        [rank, a.text, round(a.probability, 4), round(a.score, 3), a.start, a.end]
        for rank, a in enumerate(answers, start=1)
    ]


def candidate_table(answers: Sequence[Answer]):
    """:func:`candidate_rows` as a ``pandas.DataFrame`` (what ``gr.Dataframe`` shows)."""
    import pandas as pd

    return pd.DataFrame(candidate_rows(answers), columns=CANDIDATE_COLUMNS)


def outcome_markdown(pred: Prediction) -> str:
    """One line saying what the model answered, or that it found no answer, and how sure."""
    null = (
        f" Null (no-answer) probability: **{format_probability(pred.null_probability)}**."
        if pred.null_probability is not None
        else ""
    )
    windows = f" · {pred.n_windows} windows" if pred.n_windows > 1 else ""
    if pred.no_answer:
        runner_up = (
            f" Best span was “{escape_markdown(pred.answers[0].text)}” "
            f"({format_probability(pred.answers[0].probability)})."
            if pred.answers
            else ""
        )
        return f"### No answer in this context\nThe model prefers “no answer”.{null}{runner_up}{windows}"
    if not pred.answers:
        return f"### No answer found\nNo valid span in the context.{null}{windows}"
    best = pred.answers[0]
    return (
        f"### {escape_markdown(best.text)}\n"
        f"Probability **{format_probability(best.probability)}** · score {best.score:.2f} · "
        f"characters {best.start}–{best.end}{windows}.{null}"
    )


def agreement_markdown(a: Prediction, b: Prediction, name_a: str = "A", name_b: str = "B") -> str:
    """Whether two checkpoints give the same answer: identical span, overlapping, or not."""
    if a.no_answer and b.no_answer:
        return "✔ **Agree**: both find no answer."
    if a.no_answer or b.no_answer:
        who = name_a if a.no_answer else name_b
        return f"✘ **Disagree**: only {escape_markdown(who)} says there is no answer."
    if not a.answers or not b.answers:
        return "✘ **Disagree**: one checkpoint found no span."
    x, y = a.answers[0], b.answers[0]
    if (x.start, x.end) == (y.start, y.end):
        return f"✔ **Agree** on “{escape_markdown(x.text)}” (characters {x.start}–{x.end})."
    overlap = max(0, min(x.end, y.end) - max(x.start, y.start))
    f1 = f1_score(x.text, y.text, "mlqa-vi")
    if overlap:
        return (f"≈ **Overlap**: the spans share {plural(overlap, 'character')} (token F1 "
                f"{100 * f1:.0f}).")
    return f"✘ **Disagree**: different spans (token F1 {100 * f1:.0f})."


def example_scores(prediction: str, golds: Sequence[str]) -> dict[str, float]:
    """EM and F1 (0–100) of one prediction under both normalisations, scored as every
    evaluation scores it (``qa_core.breakdowns.score_questions``; ``[]`` = unanswerable).

    >>> example_scores("Hà Nội", ["Hà Nội", "thành phố Hà Nội"])["em_squad"]
    100.0
    >>> example_scores("", [])["f1_mlqa_vi"]
    100.0
    """
    scores = score_questions({"q": list(golds)}, {"q": prediction})
    out = {}
    for norm in NORMALIZATIONS:
        key = metric_key(norm)
        out[f"em_{key}"] = 100 * float(scores.exact[norm][0])
        out[f"f1_{key}"] = 100 * float(scores.f1[norm][0])
    return out


METRIC_ROWS = [
    ("exact_match", "EM"),
    ("f1", "F1"),
    ("HasAns_exact_match", "EM (answerable)"),
    ("HasAns_f1", "F1 (answerable)"),
    ("NoAns_exact_match", "EM (unanswerable)"),
]


def metrics_rows(results: Mapping[str, Mapping[str, float]]) -> list[list]:
    """``qa_core.metrics.compute_all`` output as rows ``[metric, squad, mlqa-vi]``."""
    rows = []
    for key, name in METRIC_ROWS:
        if any(key in r for r in results.values()):
            rows.append([name, *(round(results[n].get(key, float("nan")), 2) for n in results)])
    total = next(iter(results.values())).get("total") if results else None
    if total is not None:
        rows.append(["questions", *(total for _ in results)])
    return rows


# The analysis of an evaluation (``qa_core.analysis``) as tables. Short headers: a table is as
# wide as the page and a header must not break inside a word.
BREAKDOWN_NAMES = {
    "by_question_type": "question type",
    "by_answer_length": "answer words",
    "by_context_windows": "context windows",
    "by_answerable": "answerable",
}
NORMALIZATION_NAMES = {"squad": "SQuAD", "mlqa_vi": "MLQA-vi"}
BREAKDOWN_COLUMNS = ["breakdown", "slice", "count"] + [
    f"{label} {m}" for label in NORMALIZATION_NAMES.values() for m in ("EM", "F1")
]
BREAKDOWN_COMPARED_COLUMNS = ["breakdown", "slice", "count"] + [
    f"{label} {m}" for label in NORMALIZATION_NAMES.values()
    for m in ("EM A", "EM B", "F1 A", "F1 B", "ΔF1")
]
COMPARISON_COLUMNS = ["metric", "A", "B", "Δ (A − B)", "95% interval", "A wins", "B wins",
                      "ties"]
MISS_COLUMNS = ["id", "type", "question", "gold", "predicted", "top prob.", "F1 MLQA-vi",
                "F1 SQuAD"]
ALL_TYPES = "all question types"  # the misses filter's value that keeps every row


def breakdown_rows(metrics: Mapping) -> list[list]:
    """Every breakdown in ``metrics`` (``Analysis.metrics()``) as rows of
    :data:`BREAKDOWN_COLUMNS`: breakdown, slice, questions, EM and F1 per normalisation.

    >>> s = {"count": 2, "squad": {"exact": 50.0, "f1": 75.0}, "mlqa_vi": {"exact": 50.0, "f1": 80.0}}
    >>> breakdown_rows({"by_question_type": {"who": s}})
    [['question type', 'who', 2, 50.0, 75.0, 50.0, 80.0]]
    """
    return [
        [title, label, s["count"],
         *(round(s[key][m], 2) for key in NORMALIZATION_NAMES for m in ("exact", "f1"))]
        for name, title in BREAKDOWN_NAMES.items()
        for label, s in metrics.get(name, {}).items()
    ]


def compared_breakdown_rows(comparison: Mapping) -> list[list]:
    """The breakdowns of a comparison (``qa_core.compare.compare``) side by side, rows of
    :data:`BREAKDOWN_COMPARED_COLUMNS`: A's and B's EM and F1 and ΔF1, per normalisation."""
    rows = []
    for name, title in BREAKDOWN_NAMES.items():
        for label, s in comparison.get(name, {}).items():
            row = [title, label, s["count"]]
            for key in NORMALIZATION_NAMES:
                row += [round(s["a"][key]["exact"], 2), round(s["b"][key]["exact"], 2),
                        round(s["a"][key]["f1"], 2), round(s["b"][key]["f1"], 2),
                        round(s["delta"][key]["f1"], 2)]
            rows.append(row)
    return rows


def comparison_rows(comparison: Mapping) -> list[list]:
    """ΔEM and ΔF1 of A − B with their paired bootstrap interval, and (on the F1 rows) the
    questions each wins and the ties: rows of :data:`COMPARISON_COLUMNS`."""
    rows = []
    for key, label in NORMALIZATION_NAMES.items():
        for metric, name in (("exact", "EM"), ("f1", "F1")):
            m = comparison[key][metric]
            wins = comparison[key]["wins"] if metric == "f1" else None
            rows.append([
                f"{label} {name}", round(m["a"], 2), round(m["b"], 2), f"{m['delta']:+.2f}",
                f"[{m['low']:+.2f}, {m['high']:+.2f}]",
                *((wins["a"], wins["b"], wins["tie"]) if wins else ("", "", "")),
            ])
    return rows


def comparison_markdown(comparison: Mapping, name_a: str, name_b: str) -> str:
    """One paragraph: which checkpoint is A and which B, and whether A's F1 differs from B's
    beyond the bootstrap interval (it does when the interval excludes 0)."""
    f1 = comparison["mlqa_vi"]["f1"]
    level = f"{100 * comparison['confidence']:g}%"
    if f1["low"] > 0 or f1["high"] < 0:
        verdict = (f"**{'A' if f1['delta'] > 0 else 'B'} is better**: the {level} interval of "
                   "ΔF1 excludes 0")
    else:
        verdict = f"**no clear difference**: the {level} interval of ΔF1 includes 0"
    wins = comparison["mlqa_vi"]["wins"]
    return (
        f"A = **{escape_markdown(name_a)}**, B = **{escape_markdown(name_b)}** on the same "
        f"{plural(comparison['questions'], 'question')}: ΔF1 (MLQA-vi) **{f1['delta']:+.2f}** "
        f"[{f1['low']:+.2f}, {f1['high']:+.2f}], {verdict} ({comparison['n_resamples']:,} "
        f"paired bootstrap resamples, seed {comparison['seed']}). A wins "
        f"{plural(wins['a'], 'question')}, B wins {wins['b']:,}, {plural(wins['tie'], 'tie')}."
    )


def miss_rows(rows: Sequence[Mapping]) -> list[list]:
    """The questions answered wrongly (SQuAD EM = 0) among an analysis' per-question rows
    (``Analysis.rows``), worst F1 first: rows of :data:`MISS_COLUMNS`."""
    misses = [
        [r["id"], r["question_type"], r["question"],
         " | ".join(r["answers"]) if r["answers"] else "(no answer)",
         r["prediction"] or "(no answer)",
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


PREDICTION_COLUMNS = ["id", "question", "answer", "probability", "start", "end", "no_answer"]


def prediction_records(ids: Sequence[str], predictions: Sequence[Prediction]) -> list[dict]:
    """One flat record per question for CSV/JSON downloads ("" answer = no answer)."""
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


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------
def empty_figure(message: str = "Ask a question to see the model's evidence.") -> go.Figure:
    """A blank figure carrying a short message, for before the first answer."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font=dict(size=14, color="#6b7280"))
    fig.update_layout(
        xaxis=dict(visible=False), yaxis=dict(visible=False), height=220,
        margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="rgba(0,0,0,0)",
    )
    return fig


def token_index(tokens: Sequence[TokenScore], char_start: int, char_end: int) -> tuple[int, int]:
    """Indices of the first and last tokens overlapping ``[char_start, char_end)``.

    >>> toks = [TokenScore("Hà", 0, 2, 0, 0, 0, 0), TokenScore("Nội", 3, 6, 0, 0, 0, 0)]
    >>> token_index(toks, 3, 6), token_index(toks, 0, 6)
    ((1, 1), (0, 1))
    """
    ends = [t.end for t in tokens]
    starts = [t.start for t in tokens]
    first = min(bisect.bisect_right(ends, char_start), len(tokens) - 1)
    last = max(bisect.bisect_left(starts, char_end) - 1, first)
    return first, last


def _token_labels(tokens: Sequence[TokenScore]) -> list[str]:
    # Tokens may carry the leading space (XLM-R offsets); very long ones are cut for the axis.
    # Plotly reads a few HTML tags in text (<b>, <br>): escaped, "<b>" in a context stays text.
    return [html.escape((t.text.strip() or "␣")[:14], quote=False) for t in tokens]


def window_bounds(n_tokens: int, center: int, window: int) -> tuple[int, int]:
    """``[lo, hi)`` of a ``window``-token view around ``center``, shifted to stay inside.

    >>> window_bounds(2000, 5, 64), window_bounds(2000, 1990, 64), window_bounds(10, 3, 64)
    ((0, 64), (1936, 2000), (0, 10))
    """
    window = max(1, min(window, n_tokens))
    lo = min(max(0, center - window // 2), n_tokens - window)
    return lo, lo + window


def token_heatmap(
    tokens: Sequence[TokenScore],
    answers: Sequence[Answer] = (),
    center: int | None = None,
    window: int = DEFAULT_WINDOW,
    title: str | None = None,
    zmax: float | None = None,
) -> go.Figure:
    """Start and end probabilities of every context token, two rows of a heatmap.

    The figure holds all tokens but opens on ``window`` tokens around ``center`` (default: the
    best answer's first token); the range slider below scrolls and zooms over the whole
    context, and the best answer is outlined. Built from numpy arrays in one trace, so a
    2,000-token context takes a few milliseconds. The colour scale runs from 0 to ``zmax``
    (default: this figure's highest probability); heatmaps shown side by side pass one
    ``zmax`` (:func:`shared_zmax`), so that equal colours mean equal probabilities.
    """
    if not tokens:
        return empty_figure("No context tokens to show.")
    n = len(tokens)
    # (2, n): row 0 = P(start), row 1 = P(end).
    z = np.array([[t.start_prob for t in tokens], [t.end_prob for t in tokens]], dtype=np.float64)
    labels = _token_labels(tokens)
    text = np.array([labels, labels], dtype=object)
    best = token_index(tokens, answers[0].start, answers[0].end) if answers else None
    if center is None:
        center = best[0] if best else int(np.argmax(z[0]))
    lo, hi = window_bounds(n, center, window)
    fig = go.Figure(
        go.Heatmap(
            z=z, x=np.arange(n), y=["start", "end"], text=text, colorscale="YlOrRd",
            zmin=0.0, zmax=max(float(z.max()) if zmax is None else zmax, 1e-9), xgap=1, ygap=2,
            colorbar=dict(title=dict(text="P"), thickness=12, len=0.9),
            hovertemplate="token %{x}: <b>%{text}</b><br>P(%{y}) = %{z:.3f}<extra></extra>",
        )
    )
    if best is not None:
        fig.add_shape(
            type="rect", x0=best[0] - 0.5, x1=best[1] + 0.5, y0=-0.5, y1=1.5,
            line=dict(color=BEST_COLOR, width=3),
        )
    fig.update_layout(
        title=dict(text=html.escape(title, quote=False), x=0.01, font=dict(size=14))
        if title else None,
        height=300 if title else 270,
        margin=dict(l=50, r=10, t=40 if title else 10, b=10),
        dragmode="pan",
        plot_bgcolor="rgba(0,0,0,0)",
        xaxis=dict(
            range=[lo - 0.5, hi - 0.5],
            tickmode="array", tickvals=np.arange(n), ticktext=labels, tickangle=-60,
            tickfont=dict(size=10), rangeslider=dict(visible=True, thickness=0.12),
        ),
        yaxis=dict(fixedrange=True),
    )
    return fig


def shared_zmax(*predictions: Prediction) -> float:
    """The highest start or end probability of any token of ``predictions``: one colour scale
    for heatmaps shown side by side (a flat 0.7% must not look as hot as a peaked 80%).

    >>> shared_zmax(Prediction(tokens=[TokenScore("a", 0, 1, 0.007, 0.8, 0, 0)]), Prediction())
    0.8
    """
    return max((max(t.start_prob, t.end_prob) for p in predictions for t in p.tokens),
               default=1.0)


def span_score_map(
    tokens: Sequence[TokenScore],
    answers: Sequence[Answer],
    max_answer_length: int = 30,
    size: int = MAP_SIZE,
    title: str | None = None,
) -> go.Figure:
    """``start_logit[i] + end_logit[j]`` for start token ``i`` (rows) and end token ``j``
    (columns) in a ``size``-token window around the best spans; invalid spans (end before
    start, or longer than ``max_answer_length``) are blank. Candidates are marked by rank."""
    if not tokens or not answers:
        return empty_figure("No candidate spans to map.")
    n = len(tokens)
    positions = [token_index(tokens, a.start, a.end) for a in answers]
    best_start, best_end = positions[0]
    lo, hi = window_bounds(n, (best_start + best_end) // 2, size)
    start_logit = np.array([t.start_logit for t in tokens[lo:hi]])
    end_logit = np.array([t.end_logit for t in tokens[lo:hi]])
    score = start_logit[:, None] + end_logit[None, :]  # (size, size): rows start, cols end
    i, j = np.indices(score.shape)
    score = np.where((j >= i) & (j - i < max_answer_length), score, np.nan)
    labels = [f"{k}:{s}" for k, s in zip(range(lo, hi), _token_labels(tokens[lo:hi]))]
    fig = go.Figure(
        go.Heatmap(
            z=score, x=labels, y=labels, colorscale="Viridis", hoverongaps=False,
            colorbar=dict(title=dict(text="score"), thickness=12),
            hovertemplate="start %{y}<br>end %{x}<br>score %{z:.2f}<extra></extra>",
        )
    )
    shown = [(r, p) for r, p in enumerate(positions, start=1) if lo <= p[0] < hi and lo <= p[1] < hi]
    if shown:
        fig.add_trace(
            go.Scatter(
                x=[labels[p[1] - lo] for _, p in shown], y=[labels[p[0] - lo] for _, p in shown],
                mode="markers+text", text=[f"#{r}" for r, _ in shown], textposition="top center",
                marker=dict(symbol="circle-open", size=14, color="#ef4444", line=dict(width=2)),
                textfont=dict(color="#ef4444", size=11), hoverinfo="skip", showlegend=False,
            )
        )
    fig.update_layout(
        title=dict(text=html.escape(title, quote=False), x=0.01, font=dict(size=14))
        if title else None,
        height=420, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        xaxis=dict(title=dict(text="end token"), tickangle=-60, tickfont=dict(size=9)),
        yaxis=dict(title=dict(text="start token"), autorange="reversed", tickfont=dict(size=9)),
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return fig
