"""ui.highlights: candidates and gold answers cut at their exact offsets; the pieces always join
back to the context."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from qa_core.types import Answer
from ui import highlights


def test_best_answer_is_highlighted_where_the_model_put_it_not_at_the_first_occurrence():
    context = "Hà Nội là thủ đô. Người ta nói Hà Nội có nghìn năm văn hiến."
    second = context.index("Hà Nội", 5)
    best = Answer("Hà Nội", second, second + 6, 3.0, 0.7)
    segments, colors = highlights.answer_highlights(context, [best])
    assert "".join(text for text, _ in segments) == context
    offset = 0
    for text, label in segments:
        if label is not None:
            assert (offset, text) == (second, "Hà Nội")
            assert label.startswith("best") and colors[label] == highlights.BEST_COLOR
        offset += len(text)
    # the first "Hà Nội" is plain text
    assert segments[0] == ("Hà ", None)


def test_overlapping_candidates_all_stay_visible_and_tags_name_the_nested_ones():
    context = "Ngô Quyền đánh tan quân Nam Hán trên sông Bạch Đằng năm 938."
    answers = [
        Answer("sông Bạch Đằng", 37, 51, 5.0, 0.5),
        Answer("trên sông Bạch Đằng năm 938", 32, 59, 4.0, 0.3),
        Answer("Bạch Đằng", 42, 51, 3.0, 0.2),
    ]
    assert all(context[a.start:a.end] == a.text for a in answers)
    segments, colors = highlights.answer_highlights(context, answers)
    assert "".join(t for t, _ in segments) == context
    labels = [label for _, label in segments if label]
    assert any(label.startswith("best") and "+#2" in label and "+#3" in label for label in labels)
    assert any(label.startswith("#2") for label in labels)
    assert set(labels) == set(colors)


def test_no_answer_marks_candidates_without_a_best_tag():
    context = "Văn Miếu được xây dựng năm 1070."
    answers = [Answer("1070", 27, 31, 1.0, 0.1)]
    segments, colors = highlights.answer_highlights(context, answers, no_answer=True)
    labels = [label for _, label in segments if label]
    assert labels and not any(label.startswith("best") for label in labels)
    assert highlights.BEST_COLOR not in colors.values()


def test_gold_and_prediction_overlap_is_labelled_both():
    context = "Thủ đô là Hà Nội."
    pred = Answer("là Hà Nội", 7, 16, 1.0, 0.5)
    segments = highlights.gold_segments(context, ["Hà Nội"], [10], pred)
    assert ("là ", "predicted") in segments
    assert ("Hà Nội", "gold + predicted") in segments
    assert set(label for _, label in segments if label) <= set(highlights.gold_color_map())


@given(
    text=st.text(alphabet=st.sampled_from("aăâ bc\nđ😀\u0301<>"), max_size=40),
    spans=st.lists(st.tuples(st.integers(-5, 45), st.integers(-5, 45), st.sampled_from("xyz")),
                   max_size=5),
    combine=st.booleans(),
)
def test_segments_always_join_back_to_the_text(text, spans, combine):
    segments = highlights.span_segments(text, spans, combine=combine)
    assert "".join(t for t, _ in segments) == text
    assert all(t for t, _ in segments) or text == ""


def test_html_emoji_and_nfd_text_come_back_verbatim():
    context = unicodedata.normalize("NFD", "<script>alert(1)</script> Hà Nội 🇻🇳 đẹp")
    start = context.index("H")
    answers = [Answer(context[start:start + 5], start, start + 5, 1.0, 0.9)]
    segments, _ = highlights.answer_highlights(context, answers)
    assert "".join(t for t, _ in segments) == context
    assert any("<script>" in t for t, _ in segments)  # as text: HighlightedText never renders HTML
