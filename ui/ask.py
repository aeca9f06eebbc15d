"""The Ask tab: a question about a passage, every candidate at its exact offsets, the top-n
table, the start/end heatmap and the start × end score map; and the ``/answer`` endpoint (also
the app's MCP tool)."""

from __future__ import annotations

import dataclasses
import html
from dataclasses import dataclass

import gradio as gr

from qa_core.answer_options import AnswerOptions, read_trained_settings
from qa_core.checkpoints import BASE_MODEL_LICENCES, NETWORK_COPYLEFT, PUBLIC_CHECKPOINTS
from qa_core.data import load_source
from qa_core.errors import CheckpointError
from qa_core.model.hub import hub_url
from ui import figures
from ui.checkpoints import hub_status
from ui.feedback import errors_shown_in
from ui.i18n import DEFAULT_LANGUAGE, Labels, language, t, translate
from ui.state import ViqaApp
from ui.text import escape_markdown
from ui.widgets import (
    answer_options,
    cautions,
    checkpoint_choices,
    checkpoint_picker,
    render_prediction,
    result_panel,
)

# A handful of the bundled questions, one click away: short and long passages, one unanswerable.
EXAMPLE_IDS = ("vi-sample-001", "vi-sample-013", "vi-sample-010", "vi-sample-027", "vi-sample-041",
               "vi-sample-017", "vi-sample-004")
# The controls that follow the picked checkpoint's saved settings, in the order of their
# components (see ``AskHandlers.follow_checkpoint``).
FOLLOWED = ("max_answer_length", "max_length", "doc_stride", "allow_no_answer", "null_threshold")


def options_description(options: AnswerOptions, lang: str = DEFAULT_LANGUAGE) -> str:
    """The answer settings in words, e.g. ``windows of 384 tokens (stride 128), answers up to
    30 tokens, no-answer off``."""
    no_answer = (t("settings.no_answer_on", lang, threshold=f"{options.null_threshold:g}")
                 if options.allow_no_answer else t("settings.no_answer_off", lang))
    return t("settings.description", lang, window=options.max_length, stride=options.doc_stride,
             length=options.max_answer_length, no_answer=no_answer)


def settings_line(options: AnswerOptions, trained: AnswerOptions, source: str,
                  precision: str | None = None, lang: str = DEFAULT_LANGUAGE) -> str:
    """One line under the answer: the settings in force and whether they are the
    checkpoint's own.

    >>> settings_line(AnswerOptions(max_length=256), AnswerOptions(), "library defaults")
    'Settings in force: windows of 256 tokens (stride 128), answers up to 30 tokens, no-answer off; changed from library defaults: window 384 → 256.'
    """
    changed = [
        f"{t(f'settings.short.{name}', lang)} {_value(getattr(trained, name), lang)} → "
        f"{_value(getattr(options, name), lang)}"
        for name in FOLLOWED
        if getattr(trained, name) != getattr(options, name)
        and not (name == "null_threshold" and not options.allow_no_answer)
    ]
    source = translate(source, lang)
    where = (t("settings.changed", lang, source=source, changes=", ".join(changed)) if changed
             else t("settings.as_source", lang, source=source))
    line = t("settings.in_force", lang, description=options_description(options, lang),
             where=where)
    if precision:
        line += t("settings.precision", lang, precision=translate(precision, lang))
    return line + "."


def _value(value, lang: str) -> str:
    if isinstance(value, bool):
        return t("value.on" if value else "value.off", lang)
    return f"{value:g}"


class AskHandlers:
    """The Ask tab's button, its checkpoint picker and the ``/answer`` endpoint."""

    def __init__(self, app: ViqaApp):
        self.app = app

    def ask(
        self, context: str, question: str, checkpoint: str, top_n: int | None = None,
        max_answer_length: int | None = None, allow_no_answer: bool | None = None,
        null_threshold: float | None = None, max_length: int | None = None,
        doc_stride: int | None = None, request: gr.Request = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio injects it by default value
    ):
        """Ask tab: outcome (with the settings in force), highlighted context, heatmap, top-n
        table, score map, and the checkpoint's info (its precision, once loaded). Options
        left at ``None`` are the checkpoint's own."""
        lang = language(request)
        pred, reader, options = self.app.predict(
            context, question, checkpoint, lang, progress, include_tokens=True, top_n=top_n,
            max_answer_length=max_answer_length, max_length=max_length, doc_stride=doc_stride,
            allow_no_answer=allow_no_answer, null_threshold=null_threshold)
        outcome, *shown = render_prediction(pred, lang)
        line = settings_line(options, reader.defaults, reader.defaults_source, reader.precision,
                             lang)
        return (
            f"{outcome}{cautions(pred, lang)}\n\n<small>{html.escape(line, quote=False)}</small>",
            *shown,
            figures.span_score_map(pred.tokens, pred.answers, options.max_answer_length,
                                   lang=lang),
            self.checkpoint_info(checkpoint, lang),
        )

    def answer(
        self, context: str, question: str, checkpoint: str = "", top_n: int | None = None,
        max_answer_length: int | None = None, allow_no_answer: bool | None = None,
        null_threshold: float | None = None, max_length: int | None = None,
        doc_stride: int | None = None,
    ) -> dict:
        # Gradio turns this docstring into the MCP tool's description and the API page: it
        # reads one line per argument and joins the lines under Returns with ", ". Hence the
        # long lines.
        """Answer a question about a passage (extractive QA, Vietnamese or any language the checkpoint knows): the answer is a span copied from the passage, with its probability.

        Args:
            context: the passage that holds the answer (plain text).
            question: the question about the passage.
            checkpoint: the model, as a name from the app's checkpoint list or a Hugging Face Hub id; empty for the app's default.
            top_n: how many candidate answers to return, best first (default 5).
            max_answer_length: the longest answer, in tokens (default: the checkpoint's own).
            allow_no_answer: whether the model may say that the passage holds no answer (default: the checkpoint's own).
            null_threshold: the answer is "no answer" when the null score exceeds the best span's score by more than this (default: the checkpoint's own).
            max_length: tokens per window of the passage (default: the checkpoint's own).
            doc_stride: tokens shared by consecutive windows (default: the checkpoint's own).

        Returns:
            a JSON object with "answers" (the candidates, best first, each with "text", "start", "end", "score" and "probability"; "start" and "end" are character offsets into the given context, so context[start:end] == text)
            "best_text" (the best answer, "" when there is no answer)
            "no_answer" (true when the model judges that the passage holds no answer to the question)
            "null_probability" (the probability of no answer)
            "n_windows" (how many windows the passage was cut into)
            "warnings" (what makes the answers untrustworthy, such as an untrained model or a question cut short)
            "settings" (the options in force, where they come from, and the precision)
        """
        if context is None or question is None:  # a REST call that left them out
            missing = " and ".join(n for n, v in (("context", context), ("question", question))
                                   if v is None)
            raise gr.Error(t("error.api_missing", missing=missing), title=t("title.missing"),
                           print_exception=False)
        checkpoint = checkpoint or self.app.default_checkpoint()
        try:
            pred, reader, options = self.app.predict(
                context, question, checkpoint, top_n=top_n, max_answer_length=max_answer_length,
                max_length=max_length, doc_stride=doc_stride, allow_no_answer=allow_no_answer,
                null_threshold=null_threshold)
        except gr.Error as err:  # the page's messages are escaped HTML; API clients get text
            raise gr.Error(html.unescape(err.message), title=html.unescape(err.title or ""),
                           print_exception=False) from err
        return {**pred.to_dict(), "settings": {**dataclasses.asdict(options),
                                               "source": str(reader.defaults_source),
                                               "precision": str(reader.precision)}}

    def follow_checkpoint(self, checkpoint: str, request: gr.Request = None):
        """A checkpoint was picked: its info, and the controls set to its saved settings
        (the ones it was trained with; the library's for checkpoints not trained here)."""
        options, _ = self.app.trained_options(checkpoint)
        return (self.checkpoint_info(checkpoint, language(request)),
                *(getattr(options, name) for name in FOLLOWED))

    def checkpoint_info(self, checkpoint: str, lang: str = DEFAULT_LANGUAGE) -> str:
        """What the picked checkpoint is: licence and gating for a public one, whether this
        server serves it and whether it exists, and how it answers: its saved settings and,
        once loaded, its device and precision."""
        name = (checkpoint or "").strip()
        if not name:
            return t("info.none", lang)
        try:
            resolved = self.app.resolve(name)
        except CheckpointError:
            return t("info.not_served", lang, name=escape_markdown(name))
        public = {c.hub_id: c for c in PUBLIC_CHECKPOINTS}.get(name)
        local = self.app.checkpoints.local(resolved)
        parts = []
        if public is not None:
            access = (t("info.gated", lang, url=hub_url(name)) if public.gated
                      else t("info.open", lang))
            parts.append(t("info.public", lang,
                           description=escape_markdown(translate(public.description, lang)),
                           licence=public.licence, access=access))
        elif local is not None and not local.usable:
            return t("info.unusable", lang, name=escape_markdown(name),
                     problem=escape_markdown(translate(local.problem, lang)))
        elif local is None and "/" in resolved and not resolved.startswith((".", "/", "~")):
            status = hub_status(resolved)
            if status == "missing":
                return t("info.missing", lang, name=escape_markdown(name))
            parts.append(t(f"info.hub_{status}", lang))
        reader = self.app.loaded_reader(name)
        trained = reader.trained if reader is not None else (
            read_trained_settings(local.path) if local is not None else None)
        licence = BASE_MODEL_LICENCES.get(trained.base_model) if trained is not None else None
        if licence is not None:
            parts.append(t("info.base_licence", lang, base=escape_markdown(trained.base_model),
                           licence=licence.upper()))
            if licence in NETWORK_COPYLEFT:
                parts.append(t("info.network_copyleft", lang))
        options, source = self.app.trained_options(name)
        parts.append(t("info.answers_with", lang, description=options_description(options, lang),
                       source=translate(source, lang)))
        if reader is not None:
            parts.append(t("info.loaded", lang, device=reader.device,
                           precision=translate(reader.precision, lang)))
            if reader.trained is not None and reader.trained.no_answer_warning:
                parts.append(t("info.degenerate", lang))
        else:
            parts.append(t("info.not_loaded", lang, dtype=self.app.settings.dtype))
        return " ".join(parts)

    def rescan(self, current: dict, request: gr.Request = None) -> dict:
        """Look at the models directory again: every picker gets the new list and keeps its
        value (``current``: picker → value, as Gradio passes a set of inputs)."""
        lang = language(request)
        self.app.rescan()
        n_local = len(self.app.checkpoints.offered)
        gr.Info(html.escape(t("ask.rescanned", lang, n=n_local,
                              folder=self.app.settings.models_dir), quote=False))
        choices = checkpoint_choices(self.app, lang)
        return {picker: gr.Dropdown(choices=choices, value=value, allow_custom_value=True)
                for picker, value in current.items()}

    def notice(self, request: gr.Request = None):
        """The start-up notice at the top of the tab, shown only when there is one."""
        lang = language(request)
        notes = self.app.startup_notes()
        if not notes:
            return gr.Markdown("", visible=False)
        # The notes are the app's own text (commands in backticks), never the user's.
        lines = "\n".join(f"- {html.escape(translate(n, lang), quote=False)}" for n in notes)
        return gr.Markdown(f"**{t('ask.before_you_ask', lang)}**\n\n{lines}", visible=True)

    @staticmethod
    def stale():
        """The inputs changed: clear the answer, so none is shown for other inputs."""
        return ("", None, figures.empty_figure(), None, figures.empty_figure())

    def cleared(self, lang: str = DEFAULT_LANGUAGE) -> dict[int, object]:
        """What a failed Ask leaves under its message: no answer (outputs 1-4 of ``ask``)."""
        return dict(enumerate(self.stale()[1:], 1))


def sample_examples(lang: str = DEFAULT_LANGUAGE) -> tuple[list[list[str]], list[str]]:
    """``[context, question]`` pairs from the bundled sample, with short labels."""
    rows = {r["id"]: r for r in load_source("sample").dataset.to_list()}
    examples, labels = [], []
    for qid in EXAMPLE_IDS:
        r = rows.get(qid)
        if r is None:
            continue
        examples.append([r["context"], r["question"]])
        tag = t("ask.example_no_answer", lang) if not r["answers"]["text"] else ""
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


def build(app: ViqaApp, labels: Labels, start_checkpoint: str) -> AskTab:
    """Lay out the Ask tab, wire its events (``ask_ui``) and the ``/answer`` endpoint."""
    handlers = AskHandlers(app)
    examples, example_labels = sample_examples()
    trained, _ = app.trained_options(start_checkpoint)
    with labels(gr.Tab(t("tab.ask"), id="ask"), label="tab.ask"):
        notice = gr.Markdown("", visible=False, elem_id="ask-notice",
                             elem_classes=["viqa-notice"])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                question = labels(gr.Textbox(label=t("ask.question"), lines=1, elem_id="question",
                                             placeholder=t("ask.question_placeholder")),
                                  label="ask.question", placeholder="ask.question_placeholder")
                context = labels(gr.Textbox(label=t("ask.context"), lines=8, max_lines=16,
                                            elem_id="context",
                                            placeholder=t("ask.context_placeholder")),
                                 label="ask.context", placeholder="ask.context_placeholder")
            with gr.Column(scale=2, min_width=320):
                checkpoint = checkpoint_picker(app, labels, "ask.checkpoint", start_checkpoint,
                                               "checkpoint", info="ask.checkpoint_info")
                info = gr.Markdown(handlers.checkpoint_info(start_checkpoint),
                                   elem_id="checkpoint-info")
                labels.custom(info, lambda lang: gr.Markdown(
                    value=handlers.checkpoint_info(start_checkpoint, lang)))
                refresh = labels(gr.Button(t("ask.rescan"), size="sm"), value="ask.rescan")
                top_n, max_len, allow_null, threshold = answer_options(labels, defaults=trained)
                with gr.Row():
                    window = labels(gr.Slider(32, 512, value=trained.max_length, step=1,
                                              label=t("ask.window"), elem_id="window",
                                              info=t("ask.window_info")),
                                    label="ask.window", info="ask.window_info")
                    stride = labels(gr.Slider(0, 256, value=trained.doc_stride, step=1,
                                              label=t("ask.stride"), elem_id="stride"),
                                    label="ask.stride")
                ask_btn = labels(gr.Button(t("ask.button"), variant="primary",
                                           elem_id="ask-button"), value="ask.button")
        example_box = gr.Examples(examples, inputs=[context, question], label=t("ask.examples"),
                                  example_labels=example_labels, cache_examples=False,
                                  examples_per_page=len(examples), elem_id="ask-examples")
        labels.custom(example_box.dataset, lambda lang: gr.Dataset(
            label=t("ask.examples", lang), sample_labels=sample_examples(lang)[1]))
        # A click on an example sends each box its value with the props it was built with,
        # English labels included, undoing the page's relabelling: send the values alone
        # (tests/test_library_contracts.py checks that Gradio still reads this list per click).
        example_box.input_component_props = [{} for _ in example_box.input_component_props]
        outcome, highlighted, heatmap, table, score_map = result_panel(labels, "ask-",
                                                                      score_map=True)
        # The documented endpoint for gradio_client and MCP clients: JSON in, JSON out.
        # Declared inside the tab, since ``gr.Tabs`` takes only tabs as children.
        gr.api(handlers.answer, api_name="answer")

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
    # an answer to other inputs than those on screen. A failed Ask keeps its message in the
    # outcome once the toast closes, and shows no older answer under it.
    ask = errors_shown_in(handlers.ask, 0, 6, handlers.cleared)
    asked = gr.on([ask_btn.click, question.submit], ask, inputs, [*outputs, info],
                  api_visibility="undocumented", api_name="ask_ui", trigger_mode="always_last")
    gr.on([c.change for c in inputs], handlers.stale, None, outputs, cancels=[asked],
          api_visibility="private", queue=False, show_progress="hidden")
    return AskTab(question, context, checkpoint, refresh, notice, handlers)
