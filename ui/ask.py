"""The Ask tab: a question about a passage, every candidate at its exact offsets, the top-n
table, the start/end heatmap and the start × end score map; and the ``/answer`` API handler."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from qa_core.sources import load_source
from ui import display
from ui.state import ViqaApp
from ui.widgets import answer_options, checkpoint_picker, render_prediction, result_panel

# A handful of the bundled questions, one click away: short and long passages, one unanswerable.
EXAMPLE_IDS = ("vi-sample-001", "vi-sample-013", "vi-sample-010", "vi-sample-027", "vi-sample-041",
               "vi-sample-017", "vi-sample-004")


class AskHandlers:
    """The Ask tab's button and the documented ``/answer`` endpoint."""

    def __init__(self, app: ViqaApp):
        self.app = app

    def ask(
        self, context: str, question: str, checkpoint: str, top_n: int = 5,
        max_answer_length: int = 30, allow_no_answer: bool = False, null_threshold: float = 0.0,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio injects it by default value
    ):
        """Ask tab: outcome, highlighted context, heatmap, top-n table and score map."""
        pred = self.app.predict(context, question, checkpoint, top_n, max_answer_length,
                                allow_no_answer, null_threshold, progress)
        return (
            *render_prediction(pred),
            display.span_score_map(pred.tokens, pred.answers, int(max_answer_length)),
        )

    def answer_api(
        self, context: str, question: str, checkpoint: str = "", top_n: int = 5,
        max_answer_length: int = 30, allow_no_answer: bool = False, null_threshold: float = 0.0,
    ) -> dict:
        """Answer candidates for a question about a passage, as JSON.

        Returns {"best_text", "no_answer", "null_probability", "answers": [{"text", "start",
        "end", "score", "probability"}, ...], ...}; start/end index the context. An empty
        checkpoint means the app's default.
        """
        pred = self.app.predict(context, question, checkpoint or self.app.default_checkpoint(),
                                top_n, max_answer_length, allow_no_answer, null_threshold)
        return pred.to_dict()


def sample_examples() -> tuple[list[list[str]], list[str]]:
    """``[context, question]`` pairs from the bundled sample, with short labels."""
    rows = {r["id"]: r for r in load_source("sample").dataset.to_list()}
    examples, labels = [], []
    for qid in EXAMPLE_IDS:
        r = rows.get(qid)
        if r is None:
            continue
        examples.append([r["context"], r["question"]])
        tag = " (no answer)" if not r["answers"]["text"] else ""
        labels.append(f"{r['title']}: {r['question']}{tag}")
    return examples, labels


@dataclass
class AskTab:
    """The Ask tab's components that other tabs read or fill."""

    question: gr.Textbox
    context: gr.Textbox
    checkpoint: gr.Dropdown
    refresh: gr.Button  # rescans the models for every tab's picker (wired by ``app.py``)


def build(app: ViqaApp, start_checkpoint: str) -> AskTab:
    """Lay out the Ask tab, wire its events (``ask_ui``) and the ``/answer`` endpoint."""
    handlers = AskHandlers(app)
    examples, example_labels = sample_examples()
    with gr.Tab("Ask", id="ask"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                question = gr.Textbox(label="Question", lines=1, elem_id="question",
                                      placeholder="Ví dụ: Ai chỉ huy quân dân Việt?")
                context = gr.Textbox(label="Context", lines=8, max_lines=16, elem_id="context",
                                     placeholder="Dán đoạn văn chứa câu trả lời…")
            with gr.Column(scale=2):
                checkpoint = checkpoint_picker(
                    app.checkpoint_choices(), "Checkpoint", start_checkpoint, "checkpoint",
                    info="Local models first, then public Hub models; or type any Hub "
                         "id or local path.")
                refresh = gr.Button("↻ Rescan local models", size="sm")
                top_n, max_len, allow_null, threshold = answer_options()
                ask_btn = gr.Button("Ask", variant="primary", elem_id="ask-button")
        gr.Examples(examples, inputs=[context, question], label="Examples (one click)",
                    example_labels=example_labels, cache_examples=False,
                    examples_per_page=len(examples))
        outcome, highlighted, heatmap, table, score_map = result_panel("ask-", score_map=True)
        # The documented endpoint for gradio_client: JSON in, JSON out. Declared inside the
        # tab, since ``gr.Tabs`` takes only tabs as children.
        gr.api(handlers.answer_api, api_name="answer")

    gr.on([ask_btn.click, question.submit], handlers.ask,
          [context, question, checkpoint, top_n, max_len, allow_null, threshold],
          [outcome, highlighted, heatmap, table, score_map],
          api_visibility="undocumented", api_name="ask_ui")
    return AskTab(question, context, checkpoint, refresh)
