"""Figures of one prediction (plotly): start/end probability per token, and the start × end
score map the span search ranks. Built from numpy arrays in one trace each, so a long context
takes milliseconds; every word in the page's language."""

from __future__ import annotations

import bisect
import html
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from qa_core.types import Answer, Prediction, TokenScore
from ui.highlights import BEST_COLOR
from ui.i18n import DEFAULT_LANGUAGE, t

DEFAULT_WINDOW = 64  # tokens shown when a heatmap opens; the range slider reaches the rest
MAP_SIZE = 24  # tokens per side of the start × end map


def empty_figure(message: str = "") -> go.Figure:
    """A blank figure carrying a short message (for before the first answer)."""
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
    lang: str = DEFAULT_LANGUAGE,
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
        return empty_figure(t("figure.no_tokens", lang))
    n = len(tokens)
    # (2, n): row 0 = P(start), row 1 = P(end).
    z = np.array([[t.start_prob for t in tokens], [t.end_prob for t in tokens]], dtype=np.float64)
    labels = _token_labels(tokens)
    text = np.array([labels, labels], dtype=object)
    best = token_index(tokens, answers[0].start, answers[0].end) if answers else None
    if center is None:
        center = best[0] if best else int(np.argmax(z[0]))
    lo, hi = window_bounds(n, center, window)
    rows = [t("figure.start", lang), t("figure.end", lang)]
    fig = go.Figure(
        go.Heatmap(
            z=z, x=np.arange(n), y=rows, text=text, colorscale="YlOrRd",
            zmin=0.0, zmax=max(float(z.max()) if zmax is None else zmax, 1e-9), xgap=1, ygap=2,
            colorbar=dict(title=dict(text="P"), thickness=12, len=0.9),
            hovertemplate=t("figure.token_hover", lang) + "<extra></extra>",
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
    lang: str = DEFAULT_LANGUAGE,
) -> go.Figure:
    """``start_logit[i] + end_logit[j]`` for start token ``i`` (rows) and end token ``j``
    (columns) in a ``size``-token window around the best spans; invalid spans (end before
    start, or longer than ``max_answer_length``) are blank. Candidates are marked by rank."""
    if not tokens or not answers:
        return empty_figure(t("figure.no_spans", lang))
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
            colorbar=dict(title=dict(text=t("figure.score", lang)), thickness=12),
            hovertemplate=t("figure.span_hover", lang) + "<extra></extra>",
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
        xaxis=dict(title=dict(text=t("figure.end_token", lang)), tickangle=-60,
                   tickfont=dict(size=9)),
        yaxis=dict(title=dict(text=t("figure.start_token", lang)), autorange="reversed",
                   tickfont=dict(size=9)),
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return fig
