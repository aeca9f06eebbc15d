"""The Datasets tab: browse a split (the bundled sample, MLQA-vi, XQuAD-vi, UIT-ViQuAD 2.0 or
an upload), search it, see an example with its gold answers, and run a checkpoint on it."""

from __future__ import annotations

import random

import gradio as gr
import pandas as pd

from qa_core.data import RepairReport
from ui import tables
from ui.ask import AskTab
from ui.feedback import errors_shown_in, user_error, warn_user
from ui.highlights import gold_color_map, gold_segments
from ui.i18n import DEFAULT_LANGUAGE, Labels, language, t
from ui.state import DatasetView, ViqaApp
from ui.summaries import example_scores
from ui.text import escape_markdown, search_indices
from ui.theme import STACK_NARROW
from ui.widgets import (
    checkpoint_picker,
    follow_checkpoint,
    source_changed,
    source_picker,
    upload_box,
)

PAGE_SIZE = 10


def repairs_line(report: RepairReport, lang: str = DEFAULT_LANGUAGE) -> str:
    """What repairing the answers changed, in one line (empty when nothing did)."""
    if report.clean:
        return ""
    line = t("data.repairs", lang, answers=report.total_answers, repaired=report.repaired,
             dropped=report.dropped, questions=report.dropped_examples,
             renamed=report.duplicate_ids)
    if report.unlabelled:
        line += t("data.unlabelled", lang, n=report.unlabelled)
    return line


class DatasetHandlers:
    """Loading, searching and paging a split, and showing one example."""

    def __init__(self, app: ViqaApp):
        self.app = app

    def page_table(self, view: DatasetView, indices: list[int], page: int,
                   lang: str = DEFAULT_LANGUAGE):
        """Rows of one page, the page number (clamped) and 'page x of y'. Rows are numbered
        from 1 as people count (``#`` is the position in the split plus one)."""
        pages = max(1, -(-len(indices) // PAGE_SIZE))
        page = min(max(1, int(page or 1)), pages)
        chunk = indices[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        none = t("value.unanswerable", lang)
        rows = []
        for i in chunk:
            r = view.rows[i]
            golds = r["answers"]["text"]
            rows.append([i + 1, r["id"], r["question"], golds[0] if golds else none])
        info = t("data.page", lang, page=page, pages=pages,
                 matching=t("count.matching", lang, n=len(indices)))
        return tables.frame(rows, tables.DATASET_COLUMNS, lang), page, info

    def load_dataset(self, source: str, split: str, upload: str | None,
                     request: gr.Request = None,
                     progress: gr.Progress = gr.Progress()):  # noqa: B008
        """Datasets tab: load a split and show its first page and first example."""
        lang = language(request)
        progress(0, desc=t("progress.loading_dataset", lang))
        view = self.app.dataset(self.app.source_of(source, upload, lang), split, lang)
        indices = list(range(len(view.rows)))
        if not indices:
            raise user_error(t("error.empty_split", lang), t("title.empty", lang))
        status = (f"**{escape_markdown(view.label(lang))}**: "
                  f"{t('count.questions', lang, n=len(indices))}.")
        if repairs := repairs_line(view.loaded.report, lang):
            status += " " + escape_markdown(repairs)
        table, page, page_info = self.page_table(view, indices, 1, lang)
        key = [view.loaded.source, split or ""]
        return (status, key, indices, table, page, page_info,
                *self.show_example(key, indices[0], request))

    def _view(self, key: list[str] | None, lang: str) -> DatasetView:
        if not key:
            raise user_error(t("error.load_first", lang), t("title.no_dataset", lang))
        return self.app.dataset(key[0], key[1], lang)

    def search_dataset(self, key: list[str], query: str, request: gr.Request = None):
        """Filter by a query in questions and contexts: case ignored, and tone marks too
        where the query has none."""
        lang = language(request)
        view = self._view(key, lang)
        indices = search_indices(view.index, query or "")
        table, page, page_info = self.page_table(view, indices, 1, lang)
        if not indices:
            warn_user(t("data.no_match", lang, query=query))
        return indices, table, page, page_info

    def goto_page(self, key: list[str], indices: list[int], page: float, step: int = 0,
                  request: gr.Request = None):
        """Show page ``page + step`` (clamped to the pages there are)."""
        lang = language(request)
        return self.page_table(self._view(key, lang), indices or [], int(page or 1) + step, lang)

    def previous_page(self, key: list[str], indices: list[int], page: float,
                      request: gr.Request = None):
        return self.goto_page(key, indices, page, -1, request)

    def next_page(self, key: list[str], indices: list[int], page: float,
                  request: gr.Request = None):
        return self.goto_page(key, indices, page, 1, request)

    def select_example(self, key: list[str], table: pd.DataFrame, evt: gr.SelectData,
                       request: gr.Request = None):
        """A click on a row of the page shows that example."""
        row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        number = int(pd.DataFrame(table).iloc[int(row), 0])  # "#", counted from 1
        return self.show_example(key, number - 1, request)

    def random_example(self, key: list[str], indices: list[int], request: gr.Request = None):
        if not indices:
            lang = language(request)
            raise user_error(t("error.nothing_to_pick", lang), t("title.no_examples", lang))
        return self.show_example(key, random.choice(indices), request)

    def show_example(self, key: list[str], index: int, request: gr.Request = None):
        """The example's question, gold answers and its context with the gold highlighted."""
        lang = language(request)
        r = self._view(key, lang).rows[int(index)]
        golds = r["answers"]["text"]
        gold_md = (", ".join(f"“{escape_markdown(g)}”" for g in golds)
                   or f"*{t('value.unanswerable', lang)}*")
        header = (
            f"**{escape_markdown(r['title'] or r['id'])}** · `{r['id']}`\n\n"
            f"**{t('data.question', lang)}:** {escape_markdown(r['question'])}\n\n"
            f"**{t('data.gold', lang)}:** {gold_md}"
        )
        segments = gold_segments(r["context"], golds, r["answers"]["answer_start"], lang=lang)
        return (int(index), header,
                gr.HighlightedText(value=segments, color_map=gold_color_map(lang)), "")

    def ask_this(self, key: list[str], index: int | None, request: gr.Request = None):
        """Send the shown example to the Ask tab and switch to it."""
        lang = language(request)
        if index is None:
            raise user_error(t("error.pick_example", lang), t("title.no_example", lang))
        r = self._view(key, lang).rows[int(index)]
        return r["context"], r["question"], gr.Tabs(selected="ask")

    def run_on_example(self, key: list[str], index: int | None, checkpoint: str,
                       allow_no_answer: bool, request: gr.Request = None,
                       progress: gr.Progress = gr.Progress()):  # noqa: B008
        """Gold versus predicted on the shown example, with EM and F1."""
        lang = language(request)
        if index is None:
            raise user_error(t("error.pick_example", lang), t("title.no_example", lang))
        r = self._view(key, lang).rows[int(index)]
        # Windows, span limit and threshold: the checkpoint's own (its viqa_training.json).
        pred, _, _ = self.app.predict(r["context"], r["question"], checkpoint, lang, progress,
                                      allow_no_answer=allow_no_answer)
        golds = r["answers"]["text"]
        best = pred.answers[0] if pred.answers and not pred.no_answer else None
        segments = gold_segments(r["context"], golds, r["answers"]["answer_start"], best, lang)
        scores = example_scores(pred.best_text, golds)
        predicted = (f"“{escape_markdown(pred.best_text)}”" if best
                     else f"*{t('value.no_answer', lang)}*")
        verdict = t("data.verdict", lang, predicted=predicted, **scores)
        return gr.HighlightedText(value=segments, color_map=gold_color_map(lang)), verdict


def cleared_example(lang: str = DEFAULT_LANGUAGE) -> dict[int, object]:
    """What a failed load leaves under its message: no table, no example of another source."""
    return {1: None, 2: [], 3: None, 4: 1, 5: "", 6: None, 7: "", 8: None, 9: ""}


def build(app: ViqaApp, labels: Labels, start_checkpoint: str, ask: AskTab, tabs: gr.Tabs,
          demo: gr.Blocks) -> gr.Dropdown:
    """Lay out the Datasets tab and wire its events (all private): "Ask this" fills ``ask`` and
    switches ``tabs``; ``demo`` opens the tab on the bundled sample. Returns its picker."""
    handlers = DatasetHandlers(app)
    with labels(gr.Tab(t("tab.datasets"), id="datasets"), label="tab.datasets"):
        key = gr.State(None)
        indices = gr.State([])
        index = gr.State(None)
        with gr.Row(equal_height=True, elem_classes=STACK_NARROW):
            source = source_picker(labels, scale=3, elem_id="ds-source", min_width=200)
            split = labels(gr.Dropdown(["validation", "train"], value="validation",
                                       label=t("data.split"), scale=2, min_width=160),
                           label="data.split")
        upload = upload_box(labels)
        with gr.Row():
            load = labels(gr.Button(t("data.load"), variant="primary", scale=0, min_width=160,
                                    elem_id="ds-load"), value="data.load")
            random_btn = labels(gr.Button(t("data.random"), scale=0, min_width=200),
                                value="data.random")
            status = gr.Markdown("", elem_id="ds-status")
        query = labels(gr.Textbox(label=t("data.search"), placeholder=t("data.search_hint"),
                                  submit_btn=t("data.search_button"), elem_id="ds-query"),
                       label="data.search", placeholder="data.search_hint",
                       submit_btn="data.search_button")
        table = gr.Dataframe(headers=tables.headers(tables.DATASET_COLUMNS), interactive=False,
                             wrap=True, elem_id="ds-table", label=t("data.table"),
                             elem_classes=["viqa-table"],
                             column_widths=["9%", "18%", "51%", "22%"])
        labels.custom(table, lambda lang: gr.Dataframe(
            value=tables.frame([], tables.DATASET_COLUMNS, lang), label=t("data.table", lang)))
        with gr.Row(equal_height=True):
            prev_btn = labels(gr.Button(t("data.previous"), size="sm", scale=0, min_width=110),
                              value="data.previous")
            page = gr.Number(value=1, precision=0, minimum=1, show_label=False, container=False,
                             scale=0, min_width=80)
            next_btn = labels(gr.Button(t("data.next"), size="sm", scale=0, min_width=110),
                              value="data.next")
            page_info = gr.Markdown("", elem_id="ds-page-info")
        header = gr.Markdown("", elem_id="ds-example")
        context = labels(gr.HighlightedText(label=t("data.context"), show_legend=True,
                                            elem_id="ds-context", elem_classes=["viqa-highlight"],
                                            color_map=gold_color_map()), label="data.context")
        with gr.Row(equal_height=True, elem_classes=STACK_NARROW):
            checkpoint = checkpoint_picker(app, labels, "data.checkpoint", start_checkpoint,
                                           "ds-ckpt", scale=3, min_width=240)
            allow_null = labels(gr.Checkbox(value=True, label=t("data.allow_no_answer"), scale=1,
                                            min_width=160), label="data.allow_no_answer")
        with gr.Row():
            ask_btn = labels(gr.Button(t("data.ask_this"), variant="primary", elem_id="ds-ask"),
                             value="data.ask_this")
            run_btn = labels(gr.Button(t("data.run"), elem_id="ds-run"), value="data.run")
        verdict = gr.Markdown("", elem_id="ds-verdict")

    example_outputs = [index, header, context, verdict]
    load_outputs = [status, key, indices, table, page, page_info, *example_outputs]
    # A new source: its splits and upload box; the example of the old one leaves the page.
    source.change(source_changed, source, [split, upload], api_visibility="private")
    source.change(lambda: (None, "", None, ""), None, example_outputs, api_visibility="private",
                  queue=False, show_progress="hidden")
    # Errors stay in the page after their toast: in the status line, the page line or the
    # verdict under the example; a failed load shows nothing of an earlier one.
    load_dataset = errors_shown_in(handlers.load_dataset, 0, len(load_outputs), cleared_example)
    load.click(load_dataset, [source, split, upload], load_outputs, api_visibility="private")
    query.submit(errors_shown_in(handlers.search_dataset, 3, 4), [key, query],
                 [indices, table, page, page_info], api_visibility="private")
    page_outputs = [table, page, page_info]
    for event, handler in ((prev_btn.click, handlers.previous_page),
                           (next_btn.click, handlers.next_page), (page.submit, handlers.goto_page)):
        event(errors_shown_in(handler, 2, 3), [key, indices, page], page_outputs,
              api_visibility="private")
    example_verdict = len(example_outputs) - 1
    table.select(errors_shown_in(handlers.select_example, example_verdict, 4), [key, table],
                 example_outputs, api_visibility="private")
    random_btn.click(errors_shown_in(handlers.random_example, example_verdict, 4),
                     [key, indices], example_outputs, api_visibility="private")
    ask_btn.click(handlers.ask_this, [key, index], [ask.context, ask.question, tabs],
                  api_visibility="private")
    follow_checkpoint(app, checkpoint, {"allow_no_answer": True}, allow_no_answer=allow_null)
    run_btn.click(errors_shown_in(handlers.run_on_example, 1, 2),
                  [key, index, checkpoint, allow_null], [context, verdict],
                  api_visibility="private")
    # The tab opens on the bundled sample, so it is never empty.
    demo.load(load_dataset, [source, split, upload], load_outputs, api_visibility="private")
    return checkpoint
