"""Components and helpers shared by several tabs: checkpoint picker, answer options, result
panel, dataset-source picker, and the error helpers that turn failures into page messages."""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import gradio as gr

from qa_core.answer_options import AnswerOptions
from qa_core.errors import QAError
from qa_core.sources import NAMED_SOURCES
from qa_core.types import Prediction
from ui import display

logger = logging.getLogger("viqa.app")

UPLOAD = "upload"  # the source value that means "the file uploaded beside the picker"
SOURCE_LABELS = {
    "sample": "Bundled sample (54 questions, offline)",
    "mlqa.vi.vi": "MLQA vi–vi",
    "mlqa-translate-train.vi": "MLQA translate-train vi",
    "xquad.vi": "XQuAD vi",
    "uit-viquad2": "UIT-ViQuAD 2.0",
}
DATA_FILE_TYPES = [".json", ".jsonl", ".csv", ".parquet"]


# ---------------------------------------------------------------------------------------------
# Errors → messages in the page
# ---------------------------------------------------------------------------------------------
def user_error(message: str, title: str = "Cannot do that", print_exception: bool = False) -> gr.Error:
    """A ``gr.Error`` whose message is shown as text: Gradio renders these messages as HTML, and
    they may quote the user's input (a checkpoint name, a file name)."""
    return gr.Error(html.escape(message, quote=False), title=title, print_exception=print_exception)


def warn_user(message: str) -> None:
    """``gr.Warning`` with the message shown as text (see :func:`user_error`)."""
    gr.Warning(html.escape(message, quote=False))


@contextmanager
def user_errors(action: str) -> Iterator[None]:
    """Turn anything raised inside into a ``gr.Error`` shown in the page (never a traceback):
    the engine's own messages as they are, anything unexpected with its type and the action."""
    try:
        yield
    except gr.Error:
        raise
    except (QAError, ValueError) as exc:  # the engine's errors say what to change
        raise user_error(str(exc), title=f"Cannot {action}") from exc
    except Exception as exc:
        logger.exception("Unexpected error while trying to %s", action)
        # The exception's own text stays in the server's log: on a public server it may name
        # files on the server's disk, which callers must not learn.
        raise user_error(
            f"Unexpected {type(exc).__name__} while trying to {action} (details are in the "
            "server's log). The app is still running; check the input and try again.",
            title=f"Cannot {action}", print_exception=True,
        ) from exc


def error_markdown(err: gr.Error) -> str:
    """A failed action's title and message as Markdown that stays in the page."""
    title = html.unescape(err.title or "Error")  # user_error escaped them for the toast
    message = html.unescape(str(err.message))
    return f"**⚠ {display.escape_markdown(title)}:** {display.escape_markdown(message)}"


def errors_shown_in(fn: Callable, message: int, outputs: int,
                    cleared: Callable[[], Mapping[int, object]] | None = None) -> Callable:
    """``fn`` as an event handler whose errors stay readable: a ``gr.Error`` it raises is
    shown as a toast *and* written (:func:`error_markdown`) into its Markdown output number
    ``message`` of ``outputs``. Gradio would otherwise leave only a red "Error" badge once the
    toast closes. The outputs ``cleared()`` names (position → value) are reset, so no result
    of an earlier run is shown as if it were this one's; the others keep their values.
    ``cleared`` is called only on failure: a component made while the page is being built
    would be laid out on the page.

    ``fn`` itself still raises (its tests and direct callers see the error); only the wiring
    uses this wrapper. Gradio reads the signature of ``fn`` through it (``gr.Progress``,
    ``gr.SelectData``).
    """

    @functools.wraps(fn)
    def handler(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error as err:
            gr.Warning(err.message, title=err.title)  # already escaped by user_error
            values = [gr.skip()] * outputs
            for position, value in (cleared() if cleared else {}).items():
                values[position] = value
            values[message] = error_markdown(err)
            return tuple(values) if outputs > 1 else values[0]

    return handler


# ---------------------------------------------------------------------------------------------
# Checkpoints and answer options
# ---------------------------------------------------------------------------------------------
def checkpoint_picker(choices: list[tuple[str, str]], label: str, value: str, elem_id: str,
                      **kwargs) -> gr.Dropdown:
    """A checkpoint dropdown that also takes any typed Hub id or local path."""
    return gr.Dropdown(
        choices=choices, value=value, label=label, allow_custom_value=True,
        filterable=True, elem_id=elem_id, **kwargs,
    )


def follow_checkpoint(app, picker: gr.Dropdown, untrained: dict | None = None,
                      **controls: gr.components.Component) -> None:
    """Keep ``controls`` (``AnswerOptions`` field name → component) at the picked checkpoint's
    saved settings (``app.trained_options``: what it was trained with, else the library's,
    or the tab's own value from ``untrained`` for a checkpoint that saved none): from the
    start, and whenever another checkpoint is picked. What the user leaves alone is then what
    the model was trained with; what they change, they change."""
    names = list(controls)

    def values(checkpoint: str) -> list:
        options, source = app.trained_options(checkpoint)
        fallback = untrained if source == "library defaults" and untrained else {}
        return [fallback.get(name, getattr(options, name)) for name in names]

    for component, value in zip(controls.values(), values(picker.value)):
        component.value = value
    picker.change(values, picker, list(controls.values()), api_visibility="private",
                  queue=False, show_progress="hidden")


def answer_options(prefix: str = "", defaults: AnswerOptions | None = None):
    """Top-n, maximum answer length, allow-no-answer and threshold controls, starting at
    ``defaults`` (a checkpoint's saved settings; the library's when ``None``). The threshold
    is a number box, not a slider: a slider would round a tuned threshold to its step."""
    defaults = defaults or AnswerOptions()
    with gr.Row():
        top_n = gr.Slider(1, 20, value=defaults.top_n, step=1, label="Top-n candidates",
                          elem_id=f"{prefix}top-n")
        max_len = gr.Slider(1, 100, value=defaults.max_answer_length, step=1,
                            label="Max answer length (tokens)", elem_id=f"{prefix}max-len")
    allow_null = gr.Checkbox(value=defaults.allow_no_answer,
                             label="Allow “no answer” (SQuAD 2.0 style)",
                             elem_id=f"{prefix}allow-null")
    threshold = gr.Number(value=defaults.null_threshold, step=0.1, label="No-answer threshold",
                          elem_id=f"{prefix}threshold",
                          info="“No answer” when null score − best span score is above this.")
    return top_n, max_len, allow_null, threshold


# ---------------------------------------------------------------------------------------------
# One prediction shown
# ---------------------------------------------------------------------------------------------
HEATMAP_LABEL = ("Where an answer starts and ends: probability per token (drag the plot or the "
                 "slider under it to scroll)")


def result_panel(prefix: str, score_map: bool = False):
    """One prediction's components: outcome, highlighted context, heatmap, table (and, on the
    Ask tab, the start × end score map beside the table)."""
    outcome = gr.Markdown("", elem_classes=["viqa-outcome"], elem_id=f"{prefix}outcome")
    highlighted = gr.HighlightedText(
        label="Candidates at their exact place in the context", show_legend=False,
        combine_adjacent=False, show_inline_category=True, elem_id=f"{prefix}highlight",
        elem_classes=["viqa-highlight"],
    )
    heatmap = gr.Plot(label=HEATMAP_LABEL, value=display.empty_figure(),
                      elem_id=f"{prefix}heatmap")
    with gr.Row(equal_height=False):
        table = gr.Dataframe(
            headers=display.CANDIDATE_COLUMNS, label="Top-n candidates (click a header to sort)",
            interactive=False, wrap=True, elem_id=f"{prefix}table", max_height=460,
            elem_classes=["viqa-table"], scale=5,
            column_widths=["10%", "34%", "20%", "12%", "12%", "12%"],  # headers fit at half width
        )
        if not score_map:
            return outcome, highlighted, heatmap, table
        span_map = gr.Plot(label="Start × end score map around the best spans",
                           value=display.empty_figure(), elem_id=f"{prefix}score-map", scale=4)
    return outcome, highlighted, heatmap, table, span_map


def render_prediction(pred: Prediction, title: str | None = None, **heatmap):
    """Values for :func:`result_panel`'s first four components: outcome text, highlighted
    context, heatmap (``heatmap``: more options of ``display.token_heatmap``) and candidate
    table."""
    segments, colors = display.answer_highlights(pred.context, pred.answers, pred.no_answer)
    return (
        display.outcome_markdown(pred),
        gr.HighlightedText(value=segments, color_map=colors),
        display.token_heatmap(pred.tokens, [] if pred.no_answer else pred.answers, title=title,
                              **heatmap),
        display.candidate_table(pred.answers),
    )


# ---------------------------------------------------------------------------------------------
# Dataset sources (Datasets and Evaluate tabs)
# ---------------------------------------------------------------------------------------------
def source_choices() -> list[tuple[str, str]]:
    """The dataset picker: the bundled sample first, the named sources, then an upload."""
    names = dict.fromkeys(["sample", *NAMED_SOURCES])
    return [*((SOURCE_LABELS.get(n, n), n) for n in names), ("Upload a file…", UPLOAD)]


def splits_for(source: str) -> gr.Dropdown:
    """The split picker for a source: its named splits, or one split for a file."""
    info = NAMED_SOURCES.get(source)
    if info is None:
        return gr.Dropdown(choices=["train"], value="train")
    return gr.Dropdown(choices=list(info.splits), value=info.default_split)


def source_changed(source: str):
    """A new source: its splits, and the upload box only when uploading."""
    return splits_for(source), gr.File(visible=source == UPLOAD)
