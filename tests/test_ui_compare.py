"""ui.compare: two checkpoints on one question, with the tiny offline checkpoints."""

from __future__ import annotations

import pytest
from ui_helpers import CONTEXT, QUESTION, joined, make_state, reference

from ui.compare import CompareHandlers


@pytest.fixture(scope="module")
def compare(models_dir) -> CompareHandlers:
    return CompareHandlers(make_state(models_dir))

def test_compare_shows_both_and_whether_they_agree(compare, models_dir):
    a, b = str(models_dir / "tiny-wordpiece"), str(models_dir / "tiny-unigram")
    out = compare.compare(CONTEXT, QUESTION, a, b, top_n=3)
    assert len(out) == 9
    agreement, md_a, hl_a, heat_a, table_a, md_b, hl_b, heat_b, table_b = out
    assert "Probability" in md_a and "Probability" in md_b
    assert joined(hl_a) == joined(hl_b) == CONTEXT
    assert heat_a.layout.title.text.startswith("A ·") and heat_b.layout.title.text.startswith("B ·")
    assert table_a["answer"].tolist() == [x.text for x in reference(compare.app, a, top_n=3).answers]
    assert table_b["answer"].tolist() == [x.text for x in reference(compare.app, b, top_n=3).answers]
    assert any(word in agreement for word in ("Agree", "Overlap", "Disagree"))
    same = compare.compare(CONTEXT, QUESTION, a, a, top_n=3)[0]
    assert "Agree" in same
