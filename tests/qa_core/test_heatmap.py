import numpy as np
import pytest

from qa_core.heatmap import token_scores


def test_each_token_once_from_its_most_central_window():
    context = "a b c d e f g"
    # Window 0 holds a..e, window 1 holds c..g (5 context tokens each, after one special
    # token). Context on the shorter side: c has 2 in window 0 and 0 in window 1 → window 0;
    # d has 1 in both → a tie, the earlier window; e has 0 in window 0 and 2 in window 1.
    tok = {ch: (context.index(ch), context.index(ch) + 1) for ch in "abcdefg"}
    offsets = np.full((2, 7, 2), -1)
    start = np.zeros((2, 7))
    for w, letters in enumerate(("abcde", "cdefg")):
        for k, ch in enumerate(letters):
            offsets[w, k + 1] = tok[ch]
            start[w, k + 1] = 10 * (w + 1) + k  # window 0: 10..14, window 1: 20..24
    tokens = token_scores(start, np.zeros((2, 7)), offsets, context)
    assert [t.text for t in tokens] == list("abcdefg")
    window_of = {t.text: int(t.start_logit // 10) - 1 for t in tokens}
    assert window_of == {"a": 0, "b": 0, "c": 0, "d": 0, "e": 1, "f": 1, "g": 1}
    # Each probability is a softmax over the context tokens of the window it was read from.
    for t in tokens:
        w = window_of[t.text]
        logits = start[w, 1:6]
        assert t.start_prob == pytest.approx(np.exp(t.start_logit) / np.exp(logits).sum())


def test_single_window_probabilities_sum_to_one():
    context = "Hà Nội là thủ đô"
    offsets = np.array([[[-1, -1], [0, 2], [3, 6], [7, 9], [10, 13], [14, 16], [-1, -1]]])
    rng = np.random.default_rng(0)
    tokens = token_scores(rng.normal(size=(1, 7)), rng.normal(size=(1, 7)), offsets, context)
    assert sum(t.start_prob for t in tokens) == pytest.approx(1.0)
    assert sum(t.end_prob for t in tokens) == pytest.approx(1.0)
    assert [t.text for t in tokens] == context.split()
