"""ui.compare: two checkpoints on one question, with the tiny offline checkpoints."""

from __future__ import annotations

import pytest
from ui_helpers import CONTEXT, QUESTION, joined, make_state, reference

from ui import figures
from ui.compare import HEATMAP_WINDOW, CompareHandlers, cleared_panels
from ui.feedback import errors_shown_in


def plot_figure(plot):
    """The plotly figure inside a ``gr.Plot`` value."""
    import plotly.io as pio

    return pio.from_json(plot.value["plot"])


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
    # Each heatmap's block label names its checkpoint (a title in the plot sat under the
    # label); both share one colour scale and open on a window narrow enough to read.
    assert heat_a.label.startswith("A · tiny-wordpiece") and heat_b.label.startswith("B · tiny-unigram")
    zmax = figures.shared_zmax(reference(compare.app, a), reference(compare.app, b))
    assert heat_a.value["plot"] and zmax <= 1.0
    fig_a, fig_b = (plot_figure(heat) for heat in (heat_a, heat_b))
    assert fig_a.data[0].zmax == fig_b.data[0].zmax == pytest.approx(zmax)
    lo, hi = fig_a.layout.xaxis.range
    assert hi - lo <= HEATMAP_WINDOW
    assert table_a["answer"].tolist() == [x.text for x in reference(compare.app, a, top_n=3).answers]
    assert table_b["answer"].tolist() == [x.text for x in reference(compare.app, b, top_n=3).answers]
    best_a = reference(compare.app, a).answers[0]
    best_b = reference(compare.app, b).answers[0]
    if (best_a.start, best_a.end) == (best_b.start, best_b.end):
        expected = "Agree"
    elif best_a.start < best_b.end and best_b.start < best_a.end:
        expected = "Overlap"
    else:
        expected = "Disagree"
    assert f"**{expected}**" in agreement, (best_a, best_b, agreement)
    same = compare.compare(CONTEXT, QUESTION, a, a, top_n=3)[0]
    assert "Agree" in same


def test_a_failed_comparison_keeps_its_message_and_clears_the_panels(compare, models_dir):
    handler = errors_shown_in(compare.compare, 0, 9, cleared_panels)
    out = handler(CONTEXT, "  ", str(models_dir / "tiny-unigram"), str(models_dir / "tiny-unigram"))
    assert out[0].startswith("**⚠") and "question" in out[0]
    assert out[1] == "" and out[2] is None and out[4] is None


def test_the_tab_lays_out_only_its_own_components(models_dir):
    import gradio as gr

    from ui import ask, compare
    from ui.i18n import Labels

    app = make_state(models_dir)
    start = str(models_dir / "tiny-unigram")
    with gr.Blocks() as demo, gr.Tabs():
        ask_tab = ask.build(app, Labels(), start)
        before = len(demo.blocks)
        compare.build(app, Labels(), start, start, ask_tab)
    plots = [b for b in list(demo.blocks.values())[before:] if isinstance(b, gr.Plot)]
    assert len(plots) == 2  # A's and B's heatmaps, nothing else
