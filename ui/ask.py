"""The Ask tab: a question about a passage, every candidate at its exact offsets, the top-n
table, the start/end heatmap and the start × end score map; and the ``/answer`` API handler."""

from __future__ import annotations

import dataclasses
import html
from dataclasses import dataclass

import gradio as gr

from qa_core.answer_options import AnswerOptions
from qa_core.checkpoints import PUBLIC_CHECKPOINTS
from qa_core.hub import hub_url
from qa_core.sources import load_source
from ui import display
from ui.state import ViqaApp
from ui.widgets import (
    answer_options,
    checkpoint_picker,
    errors_shown_in,
    render_prediction,
    result_panel,
)

# A handful of the bundled questions, one click away: short and long passages, one unanswerable.
EXAMPLE_IDS = ("vi-sample-001", "vi-sample-013", "vi-sample-010", "vi-sample-027", "vi-sample-041",
               "vi-sample-017", "vi-sample-004")
# The controls that follow the picked checkpoint's saved settings, in the order of their
# components (see ``AskHandlers.follow_checkpoint``).
FOLLOWED = ("max_answer_length", "max_length", "doc_stride", "allow_no_answer", "null_threshold")
_SHORT = {"max_length": "window", "doc_stride": "stride", "max_answer_length": "max answer",
          "allow_no_answer": "allow no answer", "null_threshold": "threshold"}


def settings_line(options: AnswerOptions, trained: AnswerOptions, source: str,
                  precision: str | None = None) -> str:
    """One line under the answer: the settings in force and whether they are the
    checkpoint's own, e.g. ``window 256, stride 64, ... (as trained (viqa_training.json))``.

    >>> settings_line(AnswerOptions(max_length=256), AnswerOptions(), "library defaults")
    'Settings in force: window 256, stride 128, answers up to 30 tokens, no answer off; changed from library defaults: window 384 → 256.'
    """
    text = (f"window {options.max_length}, stride {options.doc_stride}, answers up to "
            f"{options.max_answer_length} tokens, ")
    if options.allow_no_answer:
        text += f"no-answer threshold {options.null_threshold:g}"
    else:
        text += "no answer off"
    changed = [
        f"{_SHORT[name]} {_value(getattr(trained, name))} → {_value(getattr(options, name))}"
        for name in FOLLOWED
        if getattr(trained, name) != getattr(options, name)
        and not (name == "null_threshold" and not options.allow_no_answer)
    ]
    where = f"changed from {source}: {', '.join(changed)}" if changed else f"({source})"
    line = f"Settings in force: {text}{';' if changed else ''} {where}"
    return line + (f" · precision {precision}." if precision else ".")


def _value(value) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else f"{value:g}"


class AskHandlers:
    """The Ask tab's button, its checkpoint picker and the documented ``/answer`` endpoint."""

    def __init__(self, app: ViqaApp):
        self.app = app

    def ask(
        self, context: str, question: str, checkpoint: str, top_n: int | None = None,
        max_answer_length: int | None = None, allow_no_answer: bool | None = None,
        null_threshold: float | None = None, max_length: int | None = None,
        doc_stride: int | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio injects it by default value
    ):
        """Ask tab: outcome (with the settings in force), highlighted context, heatmap, top-n
        table, score map, and the checkpoint's info (its precision, once loaded). Options
        left at ``None`` are the checkpoint's own."""
        given = dict(top_n=top_n, max_answer_length=max_answer_length, max_length=max_length,
                     doc_stride=doc_stride, allow_no_answer=allow_no_answer,
                     null_threshold=null_threshold)
        pred, reader, options = self.app.predict_in_detail(
            context, question, checkpoint, progress, **given)
        outcome, *shown = render_prediction(pred)
        line = settings_line(options, reader.defaults, reader.defaults_source, reader.precision)
        # What the user must know about these answers: an untrained head, a degenerate threshold.
        cautions = "".join(f"\n\n> ⚠ {display.escape_markdown(w)}" for w in pred.warnings)
        return (
            f"{outcome}{cautions}\n\n<small>{html.escape(line, quote=False)}</small>",
            *shown,
            display.span_score_map(pred.tokens, pred.answers, options.max_answer_length),
            self.checkpoint_info(checkpoint),
        )

    def answer_api(
        self, context: str, question: str, checkpoint: str = "", top_n: int | None = None,
        max_answer_length: int | None = None, allow_no_answer: bool | None = None,
        null_threshold: float | None = None, max_length: int | None = None,
        doc_stride: int | None = None,
    ) -> dict:
        """Answer candidates for a question about a passage, as JSON.

        Returns {"best_text", "no_answer", "null_probability", "answers": [{"text", "start",
        "end", "score", "probability"}, ...], "warnings": [...], "settings": {...}, ...};
        start/end index the context. An empty checkpoint means the app's default; options left
        empty are the checkpoint's own (the settings it was trained with, else the library's).
        "warnings" says when the answers cannot be trusted (an untrained QA head); "settings"
        gives the options in force. Errors are plain text.
        """
        if context is None or question is None:  # a REST call that left them out
            missing = " and ".join(n for n, v in (("context", context), ("question", question))
                                   if v is None)
            raise gr.Error(f"/answer needs a {missing}: send {{\"data\": [context, question, "
                           "checkpoint, top_n, ...]}; values after the question may be left out "
                           "(the checkpoint's own settings apply).", title="Missing values",
                           print_exception=False)
        checkpoint = checkpoint or self.app.default_checkpoint()
        given = dict(top_n=top_n, max_answer_length=max_answer_length, max_length=max_length,
                     doc_stride=doc_stride, allow_no_answer=allow_no_answer,
                     null_threshold=null_threshold)
        try:
            pred, reader, options = self.app.predict_in_detail(
                context, question, checkpoint, **given)
        except gr.Error as err:  # the page's messages are escaped HTML; API clients get text
            raise gr.Error(html.unescape(err.message), title=err.title,
                           print_exception=False) from err
        return {**pred.to_dict(), "settings": {**dataclasses.asdict(options),
                                               "source": reader.defaults_source,
                                               "precision": reader.precision}}

    def follow_checkpoint(self, checkpoint: str):
        """A checkpoint was picked: its info, and the controls set to its saved settings
        (the ones it was trained with; the library's for checkpoints not trained here)."""
        options, _ = self.app.trained_options(checkpoint)
        return (self.checkpoint_info(checkpoint),
                *(getattr(options, name) for name in FOLLOWED))

    def checkpoint_info(self, checkpoint: str) -> str:
        """What the picked checkpoint is: licence and gating for a public one, and how it
        answers: its saved settings and, once loaded, its device and precision."""
        name = (checkpoint or "").strip()
        public = {c.hub_id: c for c in PUBLIC_CHECKPOINTS}.get(name)
        parts = []
        if public is not None:
            access = (f"gated: accept its conditions at {hub_url(name)} and log in "
                      "(`hf auth login` or `HF_TOKEN`)" if public.gated else "open, no token needed")
            parts.append(f"{display.escape_markdown(public.description)} · licence "
                         f"**{public.licence}** · {access}.")
        options, source = self.app.trained_options(name)
        parts.append(f"Answers with {options.describe()} ({source}).")
        reader = self.app.loaded_reader(name)
        if reader is not None:
            parts.append(f"Loaded on {reader.device}; precision **{reader.precision}**.")
            if reader.trained is not None and reader.trained.no_answer_warning:
                parts.append("⚠ Its saved no-answer threshold is **degenerate**: it says \"no "
                             "answer\" to almost every answerable question of its evaluation "
                             "set (untick *Allow “no answer”* to see its best span as the answer).")
        else:
            parts.append(f"Not loaded yet; precision setting **{self.app.settings.dtype}** "
                         "(VIQA_DTYPE).")
        return " ".join(parts)

    def notice(self):
        """The start-up notice at the top of the tab, shown only when there is one."""
        text = self.app.startup_notice()
        if not text:
            return gr.Markdown("", visible=False)
        # The notice is the app's own text (commands in backticks), never the user's.
        lines = "\n".join(f"- {html.escape(line, quote=False)}" for line in text.splitlines())
        return gr.Markdown(f"**Before you ask**\n\n{lines}", visible=True)

    @staticmethod
    def stale():
        """The inputs changed: clear the answer, so none is shown for other inputs."""
        return ("", None, display.empty_figure(), None, display.empty_figure())

    def cleared(self) -> dict[int, object]:
        """What a failed Ask leaves under its message: no answer (outputs 1-4 of ``ask``)."""
        return dict(enumerate(self.stale()[1:], 1))


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
    notice: gr.Markdown  # filled on page load (``app.py``) by ``notice``
    handlers: AskHandlers


def build(app: ViqaApp, start_checkpoint: str) -> AskTab:
    """Lay out the Ask tab, wire its events (``ask_ui``) and the ``/answer`` endpoint."""
    handlers = AskHandlers(app)
    examples, example_labels = sample_examples()
    trained, _ = app.trained_options(start_checkpoint)
    with gr.Tab("Ask", id="ask"):
        notice = gr.Markdown("", visible=False, elem_id="ask-notice",
                             elem_classes=["viqa-notice"])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                question = gr.Textbox(label="Question", lines=1, elem_id="question",
                                      placeholder="Ví dụ: Ai chỉ huy quân dân Việt?")
                context = gr.Textbox(label="Context", lines=8, max_lines=16, elem_id="context",
                                     placeholder="Dán đoạn văn chứa câu trả lời…")
            with gr.Column(scale=2):
                checkpoint = checkpoint_picker(
                    app.checkpoint_choices(), "Checkpoint", start_checkpoint, "checkpoint",
                    info="Local models first, then public Hub models (licence; open or "
                         "gated); or type a Hub id or a path under the models directory.")
                info = gr.Markdown(handlers.checkpoint_info(start_checkpoint),
                                   elem_id="checkpoint-info")
                refresh = gr.Button("↻ Rescan local models", size="sm")
                top_n, max_len, allow_null, threshold = answer_options(defaults=trained)
                with gr.Row():
                    window = gr.Slider(32, 512, value=trained.max_length, step=1,
                                       label="Window length (tokens)", elem_id="window",
                                       info="Question + passage tokens per window.")
                    stride = gr.Slider(0, 256, value=trained.doc_stride, step=1,
                                       label="Window overlap (stride)", elem_id="stride")
                ask_btn = gr.Button("Ask", variant="primary", elem_id="ask-button")
        gr.Examples(examples, inputs=[context, question], label="Examples (one click)",
                    example_labels=example_labels, cache_examples=False,
                    examples_per_page=len(examples))
        outcome, highlighted, heatmap, table, score_map = result_panel("ask-", score_map=True)
        # The documented endpoint for gradio_client: JSON in, JSON out. Declared inside the
        # tab, since ``gr.Tabs`` takes only tabs as children.
        gr.api(handlers.answer_api, api_name="answer")

    # The controls start at, and follow, the checkpoint's saved settings: what the user does
    # not change is what the model was trained with.
    followed = [max_len, window, stride, allow_null, threshold]  # in the order of FOLLOWED
    checkpoint.change(handlers.follow_checkpoint, checkpoint, [info, *followed],
                      api_visibility="private", queue=False, show_progress="hidden")
    outputs = [outcome, highlighted, heatmap, table, score_map]
    inputs = [context, question, checkpoint, top_n, max_len, allow_null, threshold, window,
              stride]
    # A second press while an answer is on its way runs after it (never dropped); changing
    # any input clears the answer and cancels the one on its way, so the page never shows
    # an answer to other inputs than those on screen.
    # A failed Ask keeps its message in the outcome once the toast closes, and shows no
    # older answer under it.
    ask = errors_shown_in(handlers.ask, 0, 6, handlers.cleared)
    asked = gr.on([ask_btn.click, question.submit], ask, inputs, [*outputs, info],
                  api_visibility="undocumented", api_name="ask_ui", trigger_mode="always_last")
    gr.on([c.change for c in inputs], handlers.stale, None, outputs, cancels=[asked],
          api_visibility="private", queue=False, show_progress="hidden")
    return AskTab(question, context, checkpoint, refresh, notice, handlers)
