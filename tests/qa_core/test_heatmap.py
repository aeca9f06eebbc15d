import numpy as np
import pytest

from qa_core.heatmap import token_scores


def test_each_token_once_from_its_most_central_window():
    context = "a b c d e f"
    # window 0 covers a..d, window 1 covers c..f; "c" is at the edge of window 1 (1 left of
    # it... none) and has 2 before it in window 0, so window 0 wins for c; "d" ties → earlier.
    tok = {ch: (context.index(ch), context.index(ch) + 1) for ch in "abcdef"}
    offsets = np.full((2, 6, 2), -1)
    for k, ch in enumerate("abcd"):
        offsets[0, k + 1] = tok[ch]
    for k, ch in enumerate("cdef"):
        offsets[1, k + 1] = tok[ch]
    start = np.zeros((2, 6))
    start[0, 3] = 5.0  # "c" in window 0
    start[1, 1] = -5.0  # "c" in window 1 (edge): must not be used
    end = np.zeros((2, 6))
    tokens = token_scores(start, end, offsets, context)
    assert [t.text for t in tokens] == list("abcdef")
    c = tokens[2]
    assert c.start_logit == 5.0
    for _w in range(2):  # probabilities: softmax over each window's context tokens
        assert sum(t.start_prob for t in tokens if True) > 0
    assert all(0 <= t.start_prob <= 1 and 0 <= t.end_prob <= 1 for t in tokens)


def test_single_window_probabilities_sum_to_one():
    context = "Hà Nội là thủ đô"
    offsets = np.array([[[-1, -1], [0, 2], [3, 6], [7, 9], [10, 13], [14, 16], [-1, -1]]])
    rng = np.random.default_rng(0)
    tokens = token_scores(rng.normal(size=(1, 7)), rng.normal(size=(1, 7)), offsets, context)
    assert sum(t.start_prob for t in tokens) == pytest.approx(1.0)
    assert sum(t.end_prob for t in tokens) == pytest.approx(1.0)
    assert [t.text for t in tokens] == context.split()
