"""Components shared by several tabs: the checkpoint picker, answer options, the result panel
and the dataset-source picker, each built in English and registered with ``ui.i18n.Labels``
so that the page shows them in the visitor's language."""

from __future__ import annotations

import gradio as gr

from qa_core.answer_options import LIBRARY_DEFAULTS, AnswerOptions
from qa_core.checkpoints import PUBLIC_CHECKPOINTS
from qa_core.data import NAMED_SOURCES
from qa_core.types import Prediction
from ui import figures, tables
from ui.highlights import answer_highlights
from ui.i18n import DEFAULT_LANGUAGE, Labels, t, translate
from ui.state import UPLOAD, ViqaApp
from ui.summaries import outcome_markdown
from ui.theme import STACK_NARROW

DATA_FILE_TYPES = [".json", ".jsonl", ".csv", ".parquet"]


# ---------------------------------------------------------------------------------------------
# Checkpoints and answer options
# ---------------------------------------------------------------------------------------------
def checkpoint_choices(app: ViqaApp, lang: str = DEFAULT_LANGUAGE) -> list[tuple[str, str]]:
    """``(label, value)`` pairs for a picker: usable local final models first (by their name
    in the models directory), then the public ones with their licence and gating."""
    local = [(f"{c.name} — {t('checkpoint.local', lang)} ({c.architecture})", c.name)
             for c in app.checkpoints.offered]
    public = [
        (f"{c.hub_id} — {translate(c.description, lang)} ({c.licence}; "
         f"{t('checkpoint.gated' if c.gated else 'checkpoint.open', lang)})", c.hub_id)
        for c in PUBLIC_CHECKPOINTS
    ]
    return local + public


def checkpoint_picker(app: ViqaApp, labels: Labels, label: str, value: str | None,
                      elem_id: str, info: str | None = None, **kwargs) -> gr.Dropdown:
    """A checkpoint dropdown (``label``, ``info``: catalogue keys) that also takes any typed
    Hub id, or a path under the models directory."""
    picker = gr.Dropdown(
        choices=checkpoint_choices(app), value=value, label=t(label),
        info=t(info) if info else None, allow_custom_value=True, filterable=True,
        elem_id=elem_id, **kwargs,
    )
    return labels.custom(picker, lambda lang: gr.Dropdown(
        choices=checkpoint_choices(app, lang), label=t(label, lang),
        info=t(info, lang) if info else None))


def follow_checkpoint(app: ViqaApp, picker: gr.Dropdown, untrained: dict | None = None,
                      **controls: gr.components.Component) -> None:
    """Keep ``controls`` (``AnswerOptions`` field name → component) at the picked checkpoint's
    saved settings (``app.trained_options``: what it was trained with, else the library's,
    or the tab's own value from ``untrained`` for a checkpoint that saved none): from the
    start, and whenever another checkpoint is picked. What the user leaves alone is then what
    the model was trained with; what they change, they change."""
    names = list(controls)

    def values(checkpoint: str) -> list:
        options, source = app.trained_options(checkpoint)
        fallback = untrained if source == LIBRARY_DEFAULTS and untrained else {}
        return [fallback.get(name, getattr(options, name)) for name in names]

    for component, value in zip(controls.values(), values(picker.value)):
        component.value = value
    picker.change(values, picker, list(controls.values()), api_visibility="private",
                  queue=False, show_progress="hidden")


def answer_options(labels: Labels, prefix: str = "", defaults: AnswerOptions | None = None):
    """Top-n, maximum answer length, allow-no-answer and threshold controls, starting at
    ``defaults`` (a checkpoint's saved settings; the library's when ``None``). The threshold
    is a number box, not a slider: a slider would round a tuned threshold to its step."""
    defaults = defaults or AnswerOptions()
    with gr.Row():
        top_n = labels(gr.Slider(1, 20, value=defaults.top_n, step=1, label=t("options.top_n"),
                                 elem_id=f"{prefix}top-n"), label="options.top_n")
        max_len = labels(gr.Slider(1, 100, value=defaults.max_answer_length, step=1,
                                   label=t("options.max_answer_length"),
                                   elem_id=f"{prefix}max-len"), label="options.max_answer_length")
    allow_null = labels(gr.Checkbox(value=defaults.allow_no_answer,
                                    label=t("options.allow_no_answer"),
                                    elem_id=f"{prefix}allow-null"), label="options.allow_no_answer")
    threshold = labels(gr.Number(value=defaults.null_threshold, step=0.1,
                                 label=t("options.threshold"), info=t("options.threshold_info"),
                                 elem_id=f"{prefix}threshold"),
                       label="options.threshold", info="options.threshold_info")
    return top_n, max_len, allow_null, threshold


# ---------------------------------------------------------------------------------------------
# One prediction shown
# ---------------------------------------------------------------------------------------------
def result_panel(labels: Labels, prefix: str, score_map: bool = False):
    """One prediction's components: outcome, highlighted context, heatmap, table (and, on the
    Ask tab, the start × end score map beside the table, or under it on a narrow screen)."""
    outcome = gr.Markdown("", elem_classes=["viqa-outcome"], elem_id=f"{prefix}outcome")
    highlighted = labels(gr.HighlightedText(
        label=t("result.highlighted"), show_legend=False, combine_adjacent=False,
        show_inline_category=True, elem_id=f"{prefix}highlight", elem_classes=["viqa-highlight"],
    ), label="result.highlighted")
    heatmap = labels(gr.Plot(label=t("result.heatmap"), value=figures.empty_figure(),
                             elem_id=f"{prefix}heatmap"), label="result.heatmap")
    with gr.Row(equal_height=False, elem_classes=STACK_NARROW):
        table = gr.Dataframe(
            headers=tables.headers(tables.CANDIDATE_COLUMNS), label=t("result.table"),
            interactive=False, wrap=True, elem_id=f"{prefix}table", max_height=460,
            elem_classes=["viqa-table"], scale=5, min_width=300,
            column_widths=["10%", "34%", "20%", "12%", "12%", "12%"],
        )
        labels.custom(table, lambda lang: gr.Dataframe(
            value=tables.frame([], tables.CANDIDATE_COLUMNS, lang), label=t("result.table", lang)))
        if not score_map:
            return outcome, highlighted, heatmap, table
        span_map = labels(gr.Plot(label=t("result.score_map"), value=figures.empty_figure(),
                                  elem_id=f"{prefix}score-map", scale=4, min_width=300),
                          label="result.score_map")
    return outcome, highlighted, heatmap, table, span_map


def render_prediction(pred: Prediction, lang: str = DEFAULT_LANGUAGE, **heatmap):
    """Values for :func:`result_panel`'s first four components: outcome text, highlighted
    context, heatmap (``heatmap``: more options of ``figures.token_heatmap``) and candidate
    table."""
    segments, colors = answer_highlights(pred.context, pred.answers, pred.no_answer, lang)
    return (
        outcome_markdown(pred, lang),
        gr.HighlightedText(value=segments, color_map=colors),
        figures.token_heatmap(pred.tokens, [] if pred.no_answer else pred.answers, lang=lang,
                              **heatmap),
        tables.frame(tables.candidate_rows(pred.answers), tables.CANDIDATE_COLUMNS, lang),
    )


def cautions(pred: Prediction, lang: str = DEFAULT_LANGUAGE) -> str:
    """What the user must know about these answers (an untrained head, a degenerate
    threshold, a question cut short), as Markdown quotes under the outcome."""
    from ui.text import escape_markdown

    return "".join(f"\n\n> ⚠ {escape_markdown(translate(w, lang))}" for w in pred.warnings)


# ---------------------------------------------------------------------------------------------
# Dataset sources (Datasets and Evaluate tabs)
# ---------------------------------------------------------------------------------------------
def source_choices(lang: str = DEFAULT_LANGUAGE) -> list[tuple[str, str]]:
    """The dataset picker: the bundled sample first, the named sources, then an upload."""
    names = dict.fromkeys(["sample", *NAMED_SOURCES])
    return [*((t(f"source.{n}", lang), n) for n in names), (t("source.upload", lang), UPLOAD)]


def source_picker(labels: Labels, **kwargs) -> gr.Dropdown:
    picker = gr.Dropdown(source_choices(), value="sample", label=t("data.source"), **kwargs)
    return labels.custom(picker, lambda lang: gr.Dropdown(choices=source_choices(lang),
                                                          label=t("data.source", lang)))


def upload_box(labels: Labels) -> gr.File:
    return labels(gr.File(label=t("data.upload"), file_types=DATA_FILE_TYPES, type="filepath",
                          visible=False), label="data.upload")


def splits_for(source: str) -> gr.Dropdown:
    """The split picker for a source: its named splits, or one split for a file."""
    info = NAMED_SOURCES.get(source)
    if info is None:
        return gr.Dropdown(choices=["train"], value="train")
    return gr.Dropdown(choices=list(info.splits), value=info.default_split)


def source_changed(source: str):
    """A new source: its splits, and the upload box only when uploading."""
    return splits_for(source), gr.File(visible=source == UPLOAD)
