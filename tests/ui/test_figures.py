"""ui.figures: the heatmap and the start × end score map."""

from __future__ import annotations

import math
import time

import numpy as np
import plotly.graph_objects as go
import pytest

from qa_core.types import Answer, Prediction, TokenScore
from ui import figures


def words_to_tokens(text: str, start_probs=None) -> list[TokenScore]:
    """One TokenScore per space-separated word of ``text``."""
    tokens, pos = [], 0
    for k, word in enumerate(text.split(" ")):
        p = start_probs[k] if start_probs is not None else 1.0 / (k + 2)
        tokens.append(TokenScore(word, pos, pos + len(word), p, p / 2, math.log(p), math.log(p / 2)))
        pos += len(word) + 1
    return tokens


def long_tokens(n: int) -> list[TokenScore]:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(n), size=2)
    logits = rng.normal(size=(2, n))
    out, pos = [], 0
    for i in range(n):
        word = f"từ{i}"
        out.append(TokenScore(word, pos, pos + len(word), probs[0, i], probs[1, i],
                              logits[0, i], logits[1, i]))
        pos += len(word) + 1
    return out


def test_heatmap_has_both_rows_and_opens_on_a_window_around_the_best_answer():
    tokens = long_tokens(2000)
    best = Answer("x", tokens[1500].start, tokens[1502].end, 1.0, 0.5)
    fig = figures.token_heatmap(tokens, [best], window=64)
    assert isinstance(fig, go.Figure)
    z = np.asarray(fig.data[0].z)
    assert z.shape == (2, 2000)
    np.testing.assert_allclose(z[0], [t.start_prob for t in tokens])
    lo, hi = fig.layout.xaxis.range
    assert lo <= 1500 <= hi and hi - lo == 64
    assert fig.layout.xaxis.rangeslider.visible  # scroll/zoom over the whole context
    rect = fig.layout.shapes[0]
    assert (rect.x0, rect.x1) == (1499.5, 1502.5)


def test_heatmap_for_2000_tokens_builds_fast():
    tokens = long_tokens(2000)
    best = [Answer("x", tokens[10].start, tokens[11].end, 1.0, 0.5)]
    figures.token_heatmap(tokens, best)  # warm plotly's validators
    started = time.perf_counter()
    figures.token_heatmap(tokens, best)
    # The benchmark holds the 50 ms target; this only guards against a gross regression.
    assert time.perf_counter() - started < 0.5


def test_heatmaps_side_by_side_share_one_colour_scale():
    flat = words_to_tokens("a b c", start_probs=[0.007, 0.007, 0.007])
    peaked = words_to_tokens("a b c", start_probs=[0.8, 0.1, 0.1])
    zmax = figures.shared_zmax(prediction_with(flat), prediction_with(peaked))
    assert zmax == 0.8
    figs = [figures.token_heatmap(t, zmax=zmax) for t in (flat, peaked)]
    assert [f.data[0].zmax for f in figs] == [0.8, 0.8]  # the flat one stays pale
    assert figures.token_heatmap(flat).data[0].zmax == pytest.approx(0.007)
    assert figures.shared_zmax() == 1.0


def prediction_with(tokens):
    return Prediction(tokens=tokens)


def test_heatmap_without_tokens_is_an_empty_figure():
    fig = figures.token_heatmap([])
    assert not fig.data and fig.layout.annotations


def test_score_map_blanks_invalid_spans_and_marks_candidates():
    tokens = words_to_tokens("Ngô Quyền đánh tan quân Nam Hán trên sông Bạch Đằng")
    answers = [Answer("sông Bạch Đằng", tokens[8].start, tokens[10].end, 2.0, 0.6),
               Answer("Bạch Đằng", tokens[9].start, tokens[10].end, 1.0, 0.3)]
    fig = figures.span_score_map(tokens, answers, max_answer_length=3, size=8)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert z.shape == (8, 8)
    i, j = np.indices(z.shape)
    assert np.isnan(z[j < i]).all() and np.isnan(z[j - i >= 3]).all()
    assert not np.isnan(z[(j >= i) & (j - i < 3)]).any()
    lo = 11 - 8  # the window is shifted to stay inside the 11 tokens
    expected = tokens[lo].start_logit + tokens[lo + 1].end_logit
    assert z[0, 1] == pytest.approx(expected)
    assert list(fig.data[1].text) == ["#1", "#2"]


def test_token_index_maps_character_spans_to_tokens():
    tokens = words_to_tokens("Hà Nội là thủ đô")
    assert figures.token_index(tokens, 0, 6) == (0, 1)
    assert figures.token_index(tokens, 3, 6) == (1, 1)
    assert figures.token_index(tokens, 10, 16) == (3, 4)


def test_figure_text_from_the_context_is_escaped_for_plotly():
    tokens = words_to_tokens("<b>Hà Nội</b> là thủ đô")
    fig = figures.token_heatmap(tokens, title="A · <i>model</i>")
    assert fig.layout.xaxis.ticktext[0] == "&lt;b&gt;Hà"
    assert "<i>" not in fig.layout.title.text
