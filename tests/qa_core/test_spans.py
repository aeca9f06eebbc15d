"""Span search equals a brute-force reference on random logits, on both code paths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_core.spans import SpanOptions, find_spans, find_spans_batch, trim_maps


def brute_force(start, end, offsets, context, options, cls=0):
    """Every valid (window, i, j) by plain loops; unique trimmed char spans keep the best score."""
    best: dict[tuple[int, int], float] = {}
    n_windows, seq_len = start.shape
    # Rule: a token with the same offsets as the next one (XLM-R's "▁" + "H" at a text's start)
    # is merged into it, which takes the larger start and end logits.
    start, end, offsets = start.copy(), end.copy(), offsets.copy()
    for w in range(n_windows):
        for t in range(seq_len - 2, -1, -1):
            if offsets[w, t, 0] >= 0 and tuple(offsets[w, t]) == tuple(offsets[w, t + 1]):
                start[w, t + 1] = max(start[w, t], start[w, t + 1])
                end[w, t + 1] = max(end[w, t], end[w, t + 1])
                offsets[w, t] = -1
    for w in range(n_windows):
        ctx = [i for i in range(seq_len) if offsets[w, i, 0] >= 0]
        # Tokens with visible text of their own (not blank, not sharing the next one's offsets).
        visible = []  # (start, end) of each such token's text, trimmed
        for t in ctx:
            s, e = int(offsets[w, t, 0]), int(offsets[w, t, 1])
            tok = context[s:e]
            if tok.strip():
                visible.append((s + len(tok) - len(tok.lstrip()), e - len(tok) + len(tok.rstrip())))
        for i in ctx:
            for j in ctx:
                if j < i:
                    continue
                a, b = int(offsets[w, i, 0]), int(offsets[w, j, 1])
                text = context[a:b]
                a += len(text) - len(text.lstrip())
                b -= len(text) - len(text.rstrip())
                if a >= b:
                    continue
                # max_answer_length counts the visible tokens the trimmed span covers
                n_tokens = sum(1 for s, e in visible if a <= s and e <= b)
                if n_tokens > options.max_answer_length:
                    continue
                score = float(start[w, i] + end[w, j])
                if best.get((a, b), -np.inf) < score:
                    best[(a, b)] = score
    items = sorted(best.items(), key=lambda kv: -kv[1])
    scores = [s for _, s in items]
    null = None
    if options.allow_no_answer:
        null = min(float(start[w, cls] + end[w, cls]) for w in range(n_windows))
        scores.append(null)
    log_z = np.logaddexp.reduce(np.array(scores)) if scores else 0.0
    top = [(a, b, s, float(np.exp(s - log_z))) for (a, b), s in items[: options.top_n]]
    no_answer = (
        null is not None and null - (items[0][1] if items else -np.inf) > options.null_threshold
    )
    return top, no_answer, (None if null is None else float(np.exp(null - log_z)))


def words_context(n_words: int, rng) -> str:
    words = ["Hà", "Nội", "là", "thủ", "đô", "(năm", "1010)", "của", "Việt", "Nam.", "Phở", "ngon"]
    return " ".join(words[i] for i in rng.integers(0, len(words), n_words))


def make_offsets(context: str, style: str, n_windows: int, seq_len: int, stride: int, lead: int):
    """Windows over the words of ``context`` in a tokenizer style:
    bert (no spaces), xlmr (leading space included), lone (some whitespace-only tokens)."""
    toks = []
    pos = 0
    for word in context.split(" "):
        start = context.index(word, pos)
        if style == "bert":
            toks.append((start, start + len(word)))
        elif style == "xlmr":
            toks.append((max(start - 1, 0), start + len(word)))
        elif style == "dup":  # "▁" + "H" at a text's start: two tokens, the same offsets
            if len(toks) % 5 == 0:
                toks.append((start, start + 1))
            toks.append((start, start + 1))
            if len(word) > 1:
                toks.append((start + 1, start + len(word)))
        else:  # "lone": a whitespace-only token before every other word
            if start > 0 and len(toks) % 2:
                toks.append((start - 1, start))
            toks.append((start, start + len(word)))
        pos = start + len(word)
    room = seq_len - lead - 1
    offsets = np.full((n_windows, seq_len, 2), -1, dtype=np.int64)
    for w in range(n_windows):
        chunk = toks[w * stride : w * stride + room]
        for k, tok in enumerate(chunk):
            offsets[w, lead + k] = tok
    return offsets


def as_tuples(result):
    return [(a.start, a.end, round(a.score, 8), round(a.probability, 8)) for a in result.answers]


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    style=st.sampled_from(["bert", "xlmr", "lone", "dup"]),
    n_windows=st.integers(1, 3),
    top_n=st.integers(1, 8),
    max_answer_length=st.integers(1, 12),
    allow_no_answer=st.booleans(),
    null_threshold=st.floats(-2, 2),
)
def test_find_spans_matches_brute_force(
    seed, style, n_windows, top_n, max_answer_length, allow_no_answer, null_threshold
):
    rng = np.random.default_rng(seed)
    context = words_context(40, rng)
    offsets = make_offsets(context, style, n_windows, seq_len=24, stride=10, lead=4)
    start = rng.normal(size=(n_windows, 24))
    end = rng.normal(size=(n_windows, 24))
    options = SpanOptions(top_n, max_answer_length, allow_no_answer, null_threshold)
    expected, no_answer, null_p = brute_force(start, end, offsets, context, options)
    single = find_spans(start, end, offsets, context, options, cls_index=0)
    batch = find_spans_batch(start, end, offsets, np.zeros(n_windows, int), [context], options)[0]
    want = [(a, b, round(s, 8), round(p, 8)) for a, b, s, p in expected]
    for got in (single, batch):
        assert as_tuples(got) == want
        assert got.no_answer == no_answer
        if allow_no_answer:
            assert got.null_probability == pytest.approx(null_p)
        for answer in got.answers:
            assert context[answer.start : answer.end] == answer.text
            assert answer.text == answer.text.strip()


@pytest.mark.parametrize("allow_no_answer", [False, True])
@pytest.mark.parametrize("as_columns", [False, True])
def test_batch_mixes_fast_and_explicit_examples(allow_no_answer, as_columns):
    rng = np.random.default_rng(0)
    contexts, rows, owner = [], [], []
    for ex, (style, n_windows) in enumerate(
        [("bert", 1), ("xlmr", 2), ("lone", 1), ("bert", 3), ("dup", 1), ("lone", 3), ("dup", 2)]
    ):
        context = words_context(40, rng)
        contexts.append(context)
        rows.append(make_offsets(context, style, n_windows, 24, 10, 4))
        owner += [ex] * n_windows
    offsets = np.concatenate(rows)
    start = rng.normal(size=offsets.shape[:2])
    end = rng.normal(size=offsets.shape[:2])
    owner = np.array(owner)
    cls = rng.integers(0, 3, size=len(owner))
    options = SpanOptions(top_n=4, max_answer_length=6, allow_no_answer=allow_no_answer)
    batch_contexts, batch_cls = contexts, cls
    if as_columns:  # datasets columns are read through Arrow, with the same result
        from datasets import Dataset

        batch_contexts = Dataset.from_dict({"context": contexts})["context"]
        batch_cls = Dataset.from_dict({"cls": cls.tolist()})["cls"]
    batch = find_spans_batch(start, end, offsets, owner, batch_contexts, options, batch_cls)
    for ex, context in enumerate(contexts):
        m = owner == ex
        single = find_spans(start[m], end[m], offsets[m], context, options, cls[m])
        assert as_tuples(batch[ex]) == as_tuples(single)
        assert (batch[ex].no_answer, batch[ex].null_score) == (single.no_answer, single.null_score)
        if allow_no_answer:
            assert batch[ex].null_probability == pytest.approx(single.null_probability)


def test_probabilities_sum_to_one_over_all_spans():
    context = "Hà Nội là thủ đô"
    offsets = np.array([[[-1, -1], [0, 2], [3, 6], [7, 9], [10, 13], [14, 16], [-1, -1]]])
    start = np.zeros((1, 7))
    end = np.zeros((1, 7))
    res = find_spans(start, end, offsets, context, SpanOptions(top_n=100, max_answer_length=30))
    assert len(res.answers) == 15  # 5 tokens: 5 + 4 + 3 + 2 + 1 spans
    assert sum(a.probability for a in res.answers) == pytest.approx(1.0)


def test_no_context_tokens_gives_no_answers():
    offsets = np.full((1, 5, 2), -1)
    res = find_spans(np.zeros((1, 5)), np.zeros((1, 5)), offsets, "abc", SpanOptions())
    assert res.answers == [] and res.best_text == ""
    res = find_spans(
        np.zeros((1, 5)), np.zeros((1, 5)), offsets, "abc", SpanOptions(allow_no_answer=True)
    )
    assert res.no_answer and res.null_probability == pytest.approx(1.0)


def test_trim_maps_skip_unicode_spaces():
    context = "\u00a0 Hà\u3000Nội \n"
    first, last_end = trim_maps(context)
    assert context[first[0] : last_end[len(context)]] == "Hà\u3000Nội"


@pytest.mark.parametrize("kwargs", [dict(top_n=0), dict(max_answer_length=0)])
def test_span_options_validation(kwargs):
    with pytest.raises(ValueError):
        SpanOptions(**kwargs)


def test_examples_without_windows_get_results_of_their_own():
    """Two examples the windows missed: filling one result must not change the other."""
    seq = 6
    start = np.zeros((1, seq))
    offsets = np.array([[[-1, -1], [0, 2], [3, 6], [-1, -1], [-1, -1], [-1, -1]]])
    results = find_spans_batch(start, start, offsets, np.array([1]), ["x", "Hà Nội", "y"])
    assert len(results) == 3 and results[0] is not results[2]
    results[0].answers.append("changed")
    assert results[2].answers == [] and results[1].answers  # the middle one was searched
