"""The Compare tab: two checkpoints on the same question, side by side, and whether they agree."""

from __future__ import annotations

import gradio as gr

from ui import figures
from ui.ask import AskTab
from ui.feedback import errors_shown_in
from ui.i18n import DEFAULT_LANGUAGE, Labels, language, t
from ui.state import ViqaApp
from ui.summaries import agreement_markdown
from ui.text import short_checkpoint_name
from ui.widgets import (
    answer_options,
    checkpoint_picker,
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
        request: gr.Request = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ):
        """Compare tab: both checkpoints on the same input, then whether they agree. The two
        heatmaps share one colour scale and are labelled with their checkpoint."""
        lang = language(request)
        self.app.check_input(question, context, lang)
        preds = []
        for k, checkpoint in enumerate((checkpoint_a, checkpoint_b)):
            progress(k / 2, desc=t("compare.progress", lang, side="AB"[k], name=checkpoint))
            pred, _, _ = self.app.predict(
                context, question, checkpoint, lang, include_tokens=True, top_n=top_n,
                max_answer_length=max_answer_length, allow_no_answer=allow_no_answer,
                null_threshold=null_threshold)
            preds.append(pred)
        zmax = figures.shared_zmax(*preds)
        shown = []
        for side, pred, checkpoint in (("A", preds[0], checkpoint_a),
                                       ("B", preds[1], checkpoint_b)):
            outcome, highlighted, heatmap, table = render_prediction(
                pred, lang, window=HEATMAP_WINDOW, zmax=zmax)
            # The block's label names the checkpoint: a title inside the plot would sit under it.
            label = t("compare.heatmap", lang, side=side, name=short_checkpoint_name(checkpoint),
                      zmax=f"{zmax:.0%}")
            shown += [outcome, highlighted, gr.Plot(value=heatmap, label=label), table]
        return (agreement_markdown(*preds, lang), *shown)


def cleared_panels(lang: str = DEFAULT_LANGUAGE) -> dict[int, object]:
    """What a failed comparison leaves in the outputs after its message: empty panels."""
    empty = ["", None, gr.Plot(value=figures.empty_figure()), None]
    return {1 + k: value for k, value in enumerate(empty * 2)}


def build(app: ViqaApp, labels: Labels, start_checkpoint: str, second_checkpoint: str,
          ask: AskTab) -> tuple[gr.Dropdown, gr.Dropdown]:
    """Lay out the Compare tab and wire its events (``compare_ui``); returns its two pickers."""
    handlers = CompareHandlers(app)
    with labels(gr.Tab(t("tab.compare"), id="compare"), label="tab.compare"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                question = labels(gr.Textbox(label=t("ask.question"), lines=1,
                                             elem_id="c-question"), label="ask.question")
                context = labels(gr.Textbox(label=t("ask.context"), lines=6, max_lines=12,
                                            elem_id="c-context"), label="ask.context")
                copy_btn = labels(gr.Button(t("compare.copy"), size="sm"), value="compare.copy")
            with gr.Column(scale=2, min_width=320):
                ckpt_a = checkpoint_picker(app, labels, "compare.checkpoint_a", start_checkpoint,
                                           "ckpt-a")
                ckpt_b = checkpoint_picker(app, labels, "compare.checkpoint_b",
                                           second_checkpoint, "ckpt-b")
                top_n, max_len, allow_null, threshold = answer_options(labels, "c-")
                compare_btn = labels(gr.Button(t("compare.button"), variant="primary",
                                               elem_id="compare-button"), value="compare.button")
        agreement = gr.Markdown("", elem_classes=["viqa-outcome"], elem_id="agreement")
        with gr.Row(equal_height=False):
            with gr.Column(min_width=320):
                panel_a = result_panel(labels, "a-")
            with gr.Column(min_width=320):
                panel_b = result_panel(labels, "b-")

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
