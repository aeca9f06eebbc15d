"""The Compare tab: two checkpoints on the same question, side by side, and whether they agree."""

from __future__ import annotations

import gradio as gr

from ui import display
from ui.ask import AskTab
from ui.state import ViqaApp
from ui.widgets import answer_options, checkpoint_picker, render_prediction, result_panel


class CompareHandlers:
    """The Compare button."""

    def __init__(self, app: ViqaApp):
        self.app = app

    def compare(
        self, context: str, question: str, checkpoint_a: str, checkpoint_b: str, top_n: int = 5,
        max_answer_length: int = 30, allow_no_answer: bool = False, null_threshold: float = 0.0,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ):
        """Compare tab: both checkpoints on the same input, then whether they agree."""
        self.app.check_input(question, context)
        preds = []
        for k, checkpoint in enumerate((checkpoint_a, checkpoint_b)):
            progress(k / 2, desc=f"Checkpoint {'AB'[k]}: {checkpoint}")
            preds.append(self.app.predict(context, question, checkpoint, top_n,
                                          max_answer_length, allow_no_answer, null_threshold))
        a, b = preds
        return (
            display.agreement_markdown(a, b, "A", "B"),
            *render_prediction(a, title=f"A · {checkpoint_a}"),
            *render_prediction(b, title=f"B · {checkpoint_b}"),
        )


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

    copy_btn.click(lambda c, q: (c, q), [ask.context, ask.question], [context, question],
                   api_visibility="private")
    compare_btn.click(
        handlers.compare,
        [context, question, ckpt_a, ckpt_b, top_n, max_len, allow_null, threshold],
        [agreement, *panel_a, *panel_b], api_visibility="undocumented", api_name="compare_ui",
    )
    return ckpt_a, ckpt_b
