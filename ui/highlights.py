"""Candidates and gold answers marked in the context, for ``gr.HighlightedText``: ``(text,
label)`` pieces cut at the exact character offsets the model chose (not at the first
occurrence of the answer string). Joined, the pieces give back the context."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from qa_core.types import Answer
from ui.i18n import DEFAULT_LANGUAGE, t
from ui.text import format_probability

BEST_COLOR = "#16a34a"  # green: the answer the model gives
CANDIDATE_COLORS = ("#f59e0b", "#fbbf24", "#fcd34d", "#fde68a")  # amber, fading with rank
GOLD_COLOR = "#16a34a"
PREDICTED_COLOR = "#3b82f6"
BOTH_COLOR = "#0d9488"

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


def candidate_label(rank: int, answer: Answer, best: bool, lang: str = DEFAULT_LANGUAGE) -> str:
    """The inline tag of a candidate in the highlighted context, e.g. ``best · 87.3%``."""
    head = t("highlight.best", lang) if best else f"#{rank}"
    return f"{head} · {format_probability(answer.probability)}"


def answer_highlights(
    context: str, answers: Sequence[Answer], no_answer: bool = False,
    lang: str = DEFAULT_LANGUAGE,
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
            label = candidate_label(owner, answers[owner - 1], best, lang)
            nested = [r for r, (s, e) in enumerate(spans, start=1)
                      if r != owner and s < hi and lo < e]
            label += "".join(f" +#{r}" for r in nested)
            shade = CANDIDATE_COLORS[min(owner - 1 - (not no_answer), len(CANDIDATE_COLORS) - 1)]
            colors[label] = BEST_COLOR if best else shade
        pieces.append((context[lo:hi], label))
    return _flow(pieces) or [(context, None)], colors


def gold_labels(lang: str = DEFAULT_LANGUAGE) -> tuple[str, str]:
    """The tags of a gold answer and of the model's answer, in ``lang``."""
    return t("highlight.gold", lang), t("highlight.predicted", lang)


def gold_segments(
    context: str,
    gold_texts: Sequence[str],
    gold_starts: Sequence[int],
    predicted: Answer | None = None,
    lang: str = DEFAULT_LANGUAGE,
) -> list[tuple[str, str | None]]:
    """Gold answers (and optionally one prediction) marked in ``context``; overlaps show both.

    >>> gold_segments("Thủ đô là Hà Nội.", ["Hà Nội"], [10])
    [('Thủ ', None), ('đô ', None), ('là ', None), ('Hà Nội', 'gold'), ('.', None)]
    """
    gold, pred = gold_labels(lang)
    spans = [(s, s + len(text), gold) for text, s in zip(gold_texts, gold_starts) if s is not None]
    if predicted is not None:
        spans.append((predicted.start, predicted.end, pred))
    return span_segments(context, spans, combine=True)


def gold_color_map(lang: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """The colours of :func:`gold_segments`' tags in ``lang``."""
    gold, pred = gold_labels(lang)
    return {gold: GOLD_COLOR, pred: PREDICTED_COLOR, f"{gold} + {pred}": BOTH_COLOR}
