"""The Compare tab: two checkpoints on the same question, side by side, and whether they agree."""

from __future__ import annotations

import gradio as gr

from ui import display
from ui.ask import AskTab
from ui.state import ViqaApp
from ui.widgets import (
    HEATMAP_LABEL,
    answer_options,
    checkpoint_picker,
    errors_shown_in,
    follow_checkpoint,
    render_prediction,
    result_panel,
)

HEATMAP_WINDOW = 32  # tokens a half-width heatmap opens on: its tick labels stay readable


class CompareHandlers:
    """The Compare button."""

    def __init__(self, app: ViqaApp):
        self.app = app

    def compare(
        self, context: str, question: str, checkpoint_a: str, checkpoint_b: str, top_n: int = 5,
        max_answer_length: int = 30, allow_no_answer: bool = False, null_threshold: float = 0.0,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ):
        """Compare tab: both checkpoints on the same input, then whether they agree. The two
        heatmaps share one colour scale and are labelled with their checkpoint."""
        self.app.check_input(question, context)
        preds = []
        for k, checkpoint in enumerate((checkpoint_a, checkpoint_b)):
            progress(k / 2, desc=f"Checkpoint {'AB'[k]}: {checkpoint}")
            preds.append(self.app.predict(context, question, checkpoint, top_n,
                                          max_answer_length, allow_no_answer, null_threshold))
        zmax = display.shared_zmax(*preds)
        shown = []
        for side, pred, checkpoint in (("A", preds[0], checkpoint_a), ("B", preds[1], checkpoint_b)):
            outcome, highlighted, heatmap, table = render_prediction(
                pred, window=HEATMAP_WINDOW, zmax=zmax)
            # The block's label names the checkpoint: a title inside the plot would sit under it.
            label = (f"{side} · {display.short_checkpoint_name(checkpoint)}: start and end "
                     f"probability per token (one scale for A and B, 0–{zmax:.0%})")
            shown += [outcome, highlighted, gr.Plot(value=heatmap, label=label), table]
        return (display.agreement_markdown(*preds, "A", "B"), *shown)


def cleared_panels() -> dict[int, object]:
    """What a failed comparison leaves in the outputs after its message: empty panels."""
    empty = ["", None, gr.Plot(value=display.empty_figure(), label=HEATMAP_LABEL), None]
    return {1 + k: value for k, value in enumerate(empty * 2)}


def build(app: ViqaApp, start_checkpoint: str, second_checkpoint: str,
          ask: AskTab) -> tuple[gr.Dropdown, gr.Dropdown]:
    """Lay out the Compare tab and wire its events (``compare_ui``); returns its two pickers."""
    handlers = CompareHandlers(app)
    choices = app.checkpoint_choices()
    with gr.Tab("Compare", id="compare"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                question = gr.Textbox(label="Question", lines=1, elem_id="c-question")
                context = gr.Textbox(label="Context", lines=6, max_lines=12, elem_id="c-context")
                copy_btn = gr.Button("Use the Ask tab's question and context", size="sm")
            with gr.Column(scale=2):
                ckpt_a = checkpoint_picker(choices, "Checkpoint A", start_checkpoint, "ckpt-a")
                ckpt_b = checkpoint_picker(choices, "Checkpoint B", second_checkpoint, "ckpt-b")
                top_n, max_len, allow_null, threshold = answer_options("c-")
                compare_btn = gr.Button("Compare", variant="primary", elem_id="compare-button")
        agreement = gr.Markdown("", elem_classes=["viqa-outcome"], elem_id="agreement")
        with gr.Row(equal_height=False):
            with gr.Column():
                panel_a = result_panel("a-")
            with gr.Column():
                panel_b = result_panel("b-")

    # The options start at, and follow, A's saved settings; each reader keeps its own windows.
    follow_checkpoint(app, ckpt_a, max_answer_length=max_len, allow_no_answer=allow_null,
                      null_threshold=threshold)
    copy_btn.click(lambda c, q: (c, q), [ask.context, ask.question], [context, question],
                   api_visibility="private")
    compare_btn.click(
        errors_shown_in(handlers.compare, 0, 9, cleared_panels),
        [context, question, ckpt_a, ckpt_b, top_n, max_len, allow_null, threshold],
        [agreement, *panel_a, *panel_b], api_visibility="undocumented", api_name="compare_ui",
    )
    return ckpt_a, ckpt_b
