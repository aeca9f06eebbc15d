"""Word segmentation placed on the original text: spans, fallbacks, forced boundaries, tones."""

from __future__ import annotations

import json
import sys
import types
import unicodedata
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phobert_layout import awkward_texts

from qa_core.errors import InputError, SegmenterUnavailableError
from qa_core.segmentation import (
    SEGMENTERS,
    TONE_MOVES,
    align_words,
    clusters,
    move_tones,
    segment,
    segmenter_words,
    split_words,
)
from qa_core.textnorm import is_space

LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def words_of(text, segmentation):
    return [text[s:e] for s, e in segmentation.spans]


def check_spans(text, segmentation):
    """The invariants every segmentation keeps, whatever the segmenter did."""
    bounds = {s for s, _ in clusters(text)} | {len(text)}
    prev_end = 0
    for start, end in segmentation.spans:
        assert prev_end <= start < end <= len(text)
        assert start in bounds and end in bounds  # never inside a letter + mark cluster
        assert not is_space(text[start]) and not is_space(text[end - 1])
        assert not any(c in LINE_BREAKS for c in text[start:end])
        prev_end = end
    covered = {i for s, e in segmentation.spans for i in range(s, e)}
    assert all(i in covered for i, c in enumerate(text) if not is_space(c))


# ---- tone placement ------------------------------------------------------------------------------
def test_every_tone_move_keeps_length_and_both_placements_meet():
    for old, new in TONE_MOVES.items():
        assert len(old) == len(new) == 2
        assert unicodedata.is_normalized("NFC", old) and unicodedata.is_normalized("NFC", new)
        assert move_tones(old) == move_tones(new) == new
    assert {"Ủy", "ỦY", "Òa", "òA"} <= TONE_MOVES.keys()


@given(awkward_texts())
def test_moving_tones_keeps_length_and_is_idempotent(text):
    text = unicodedata.normalize("NFC", text)
    moved = move_tones(text)
    assert len(moved) == len(text)
    assert move_tones(moved) == moved


# ---- alignment ------------------------------------------------------------------------------------
@settings(max_examples=80, deadline=None)
@given(awkward_texts(), st.sampled_from(["underthesea", "none"]))
def test_spans_keep_their_invariants_on_awkward_text(text, segmenter):
    check_spans(text, segment(text, segmenter))


@settings(deadline=None)
@given(st.text(max_size=40))
def test_spans_keep_their_invariants_on_any_text(text):
    check_spans(text, segment(text, "underthesea"))


@given(awkward_texts())
def test_none_gives_the_whitespace_separated_tokens(text):
    seg = segment(text, "none")
    tokens = "".join(" " if is_space(c) else c for c in text).split(" ")
    assert words_of(text, seg) == [t for t in tokens if t]
    assert seg.fallbacks == 0


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_segmenter_words_land_on_the_original_characters(form):
    text = unicodedata.normalize(form, "Hà  Nội là thủ\u00a0đô của Việt Nam, hòa bình.")
    seg = segment(text, "underthesea")
    assert words_of(text, seg) == [
        unicodedata.normalize(form, w)
        for w in ["Hà  Nội", "là", "thủ\u00a0đô", "của", "Việt Nam", ",", "hòa bình", "."]
    ]
    assert seg.fallbacks == 0


def test_rewritten_characters_are_no_misalignment():
    # A segmenter may write NFC, "đ" for "ð", another case or tone placement, "_" joiners.
    text = unicodedata.normalize("NFD", "Ðà Nẵng HÒA")
    seg = align_words(text, ["Đà_Nẵng", "hoà"])
    assert words_of(text, seg) == [unicodedata.normalize("NFD", w) for w in ["Ðà Nẵng", "HÒA"]]
    assert seg.fallbacks == 0


@pytest.mark.parametrize(
    ("words", "expected", "fallbacks"),
    [
        # dropped "!": the stretch around it falls back to syllables
        (["Hà Nội", "thủ đô", "của", "Việt Nam"], ["Hà Nội", "thủ đô!", "của", "Việt Nam"], 1),
        # an added character: only the gaps beside it lose the segmenter's word
        (["Hà Nội", "thủ đô", "X", "!", "của", "Việt Nam"], ["Hà Nội", "thủ đô!", "của", "Việt Nam"], 1),
        # a replaced word and a dropped one: two stretches ("cua" would match: marks fold away)
        (["Hà Nội", "thủ đô", "!", "gì", "Việt"], ["Hà Nội", "thủ đô", "!", "của", "Việt", "Nam"], 2),
        # nothing in common: plain syllables throughout
        (["xyz"], ["Hà", "Nội", "thủ", "đô!", "của", "Việt", "Nam"], 1),
    ],
)  # fmt: skip
def test_unaligned_stretches_fall_back_to_syllables_and_are_counted(words, expected, fallbacks):
    text = "Hà Nội thủ đô! của Việt Nam"
    seg = align_words(text, words)
    assert words_of(text, seg) == expected
    assert seg.fallbacks == fallbacks


def test_line_breaks_and_lone_underscores():
    text = "Hà\nNội a _ b __init__ x_"
    seg = align_words(text, ["Hà Nội", "a", "_", "b", "init", "x"])
    assert words_of(text, seg) == ["Hà", "Nội", "a", "_", "b", "__init__", "x_"]


# ---- forced boundaries ----------------------------------------------------------------------------
def test_boundaries_inside_words_cut_them_and_are_counted():
    text = "Thành phố Hồ Chí Minh"
    whole = segment(text, "underthesea")
    assert words_of(text, whole) == ["Thành phố", "Hồ Chí Minh"]
    # a word start (10), the space inside "Hồ Chí Minh" (12), inside "Chí" (15)
    seg = segment(text, "underthesea", boundaries=[15, 10, 12])
    assert words_of(text, seg) == ["Thành phố", "Hồ", "Ch", "í Minh"]
    assert seg.splits == 2 and whole.splits == 0
    at_edges = segment(text, "underthesea", boundaries=[0, 10, len(text), 9, -1, 99])
    assert at_edges.spans == whole.spans and at_edges.splits == 0


def test_boundaries_inside_a_letter_and_its_mark_are_ignored():
    text = unicodedata.normalize("NFD", "Hồ Chí")
    assert unicodedata.combining(text[2])
    seg = segment(text, "none", boundaries=[2])
    assert seg.spans == segment(text, "none").spans and seg.splits == 0


@settings(max_examples=60, deadline=None)
@given(awkward_texts(), st.data())
def test_boundaries_become_word_edges(text, data):
    bounds = sorted({s for s, _ in clusters(text)} | {len(text)})
    positions = data.draw(st.lists(st.sampled_from(bounds), max_size=4))
    seg = segment(text, "underthesea", boundaries=positions)
    check_spans(text, seg)
    starts = {s for s, _ in seg.spans}
    ends = {e for _, e in seg.spans}
    for p in positions:
        inside = any(s < p < e for s, e in segment(text, "underthesea").spans)
        if inside:  # a cut word: p is an edge, or whitespace lies between p and the edge
            left, right = p, p
            while left > 0 and is_space(text[left - 1]):
                left -= 1
            while right < len(text) and is_space(text[right]):
                right += 1
            assert left in ends and right in starts


def test_split_words_needs_no_segmenter():
    text = "Việt Nam"
    seg = split_words(text, align_words(text, ["Việt Nam"]), [4, 5])
    assert words_of(text, seg) == ["Việt", "Nam"] and seg.splits == 1


# ---- segmenters -----------------------------------------------------------------------------------
def test_unknown_segmenter_names_the_choices():
    with pytest.raises(InputError, match="choose one of underthesea, pyvi, none") as info:
        segment("Hà Nội", "vncorenlp")
    assert info.value.params["segmenter"] == "vncorenlp"
    assert SEGMENTERS == ("underthesea", "pyvi", "none")


def test_pyvi_through_a_stub(monkeypatch):
    calls = []

    def tokenize(text):
        calls.append(text)
        return "Thành_phố Hồ_Chí_Minh ở_đâu ?"

    monkeypatch.setitem(sys.modules, "pyvi", types.SimpleNamespace(
        ViTokenizer=types.SimpleNamespace(tokenize=tokenize)))
    text = unicodedata.normalize("NFD", "Thành phố Hồ Chí Minh ở đâu?")
    seg = segment(text, "pyvi")
    assert words_of(text, seg) == [
        unicodedata.normalize("NFD", w) for w in ["Thành phố", "Hồ Chí Minh", "ở đâu", "?"]
    ]
    assert calls == [unicodedata.normalize("NFC", text)]  # segmenters get NFC


def test_missing_pyvi_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyvi", None)  # import fails as if not installed
    with pytest.raises(SegmenterUnavailableError, match="pip install pyvi") as info:
        segment("một văn bản chỉ thử pyvi vắng mặt", "pyvi")
    assert isinstance(info.value, InputError) and "{package}" in info.value.template


def test_threads_get_the_serial_result():
    texts = [f"Câu số {i}: Hà Nội là thủ đô của Việt Nam, hòa bình {i}." for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        threaded = list(pool.map(lambda t: segment(t, "underthesea"), texts))
    # segment() caches; the serial reference goes around the cache.
    serial = [align_words(t, segmenter_words(t, "underthesea")) for t in texts]
    assert threaded == serial


# ---- real text ------------------------------------------------------------------------------------
def test_xquad_contexts_align_without_fallback(xquad_path):
    data = json.loads(xquad_path.read_text(encoding="utf-8"))
    contexts = [p["context"] for a in data["data"] for p in a["paragraphs"]]
    for form in ("NFC", "NFD"):
        for context in contexts:
            text = unicodedata.normalize(form, context)
            seg = segment(text, "underthesea")
            check_spans(text, seg)
            assert seg.fallbacks == 0
