"""The Datasets tab: browse a split (the bundled sample, MLQA-vi, XQuAD-vi, UIT-ViQuAD 2.0 or
an upload), search it, see an example with its gold answers, and run a checkpoint on it."""

from __future__ import annotations

import random

import gradio as gr
import pandas as pd

from ui import display
from ui.ask import AskTab
from ui.state import DatasetView, ViqaApp
from ui.widgets import (
    DATA_FILE_TYPES,
    checkpoint_picker,
    errors_shown_in,
    follow_checkpoint,
    source_changed,
    source_choices,
    user_error,
    warn_user,
)

PAGE_SIZE = 10
TABLE_COLUMNS = ["#", "id", "question", "gold answer"]


class DatasetHandlers:
    """Loading, searching and paging a split, and showing one example."""

    def __init__(self, app: ViqaApp):
        self.app = app

    def page_table(self, view: DatasetView, indices: list[int], page: int):
        """Rows of one page, the page number (clamped) and 'page x of y'. Rows are numbered
        from 1 as people count (``#`` is the position in the split plus one)."""
        pages = max(1, -(-len(indices) // PAGE_SIZE))
        page = min(max(1, int(page or 1)), pages)
        chunk = indices[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        rows = []
        for i in chunk:
            r = view.rows[i]
            golds = r["answers"]["text"]
            rows.append([i + 1, r["id"], r["question"], golds[0] if golds else "(unanswerable)"])
        table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
        return (table, page,
                f"Page {page} of {pages} · {display.plural(len(indices), 'matching example')}")

    def load_dataset(self, source: str, split: str, upload: str | None,
                     progress: gr.Progress = gr.Progress()):  # noqa: B008
        """Datasets tab: load a split and show its first page and first example."""
        progress(0, desc="Loading the dataset…")
        view = self.app.dataset(self.app.source_of(source, upload), split)
        indices = list(range(len(view.rows)))
        if not indices:
            raise user_error("This split has no examples.")
        report = view.loaded.report
        status = (f"**{display.escape_markdown(view.label)}**: "
                  f"{display.plural(len(indices), 'question')}.")
        if not report.clean:
            status += f" Repairs on load: {display.escape_markdown(report.summary().splitlines()[0])}"
        table, page, page_info = self.page_table(view, indices, 1)
        key = [view.loaded.source, split or ""]
        return (status, key, indices, table, page, page_info, *self.show_example(key, indices[0]))

    def _view(self, key: list[str] | None) -> DatasetView:
        if not key:
            raise user_error("Load a dataset first (pick a source and press Load).")
        return self.app.dataset(key[0], key[1])

    def search_dataset(self, key: list[str], query: str):
        """Filter by a query in questions and contexts (case and diacritics ignored)."""
        view = self._view(key)
        indices = display.search_indices(view.index, query or "")
        table, page, page_info = self.page_table(view, indices, 1)
        if not indices:
            warn_user(f"No question or context contains “{query}”.")
        return indices, table, page, page_info

    def goto_page(self, key: list[str], indices: list[int], page: float, step: int = 0):
        """Show page ``page + step`` (clamped to the pages there are)."""
        view = self._view(key)
        return self.page_table(view, indices or [], int(page or 1) + step)

    def previous_page(self, key: list[str], indices: list[int], page: float):
        return self.goto_page(key, indices, page, -1)

    def next_page(self, key: list[str], indices: list[int], page: float):
        return self.goto_page(key, indices, page, 1)

    def select_example(self, key: list[str], table: pd.DataFrame, evt: gr.SelectData):
        """A click on a row of the page shows that example."""
        row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        number = int(pd.DataFrame(table).iloc[int(row), 0])  # "#", counted from 1
        return self.show_example(key, number - 1)

    def random_example(self, key: list[str], indices: list[int]):
        if not indices:
            raise user_error("No examples to pick from: clear the search.")
        return self.show_example(key, random.choice(indices))

    def show_example(self, key: list[str], index: int):
        """The example's question, gold answers and its context with the gold highlighted."""
        view = self._view(key)
        r = view.rows[int(index)]
        golds = r["answers"]["text"]
        gold_md = ", ".join(f"“{display.escape_markdown(t)}”" for t in golds) or "*unanswerable*"
        header = (
            f"**{display.escape_markdown(r['title'] or r['id'])}** · `{r['id']}`\n\n"
            f"**Question:** {display.escape_markdown(r['question'])}\n\n**Gold:** {gold_md}"
        )
        segments = display.gold_segments(r["context"], golds, r["answers"]["answer_start"])
        return (int(index), header,
                gr.HighlightedText(value=segments, color_map=display.GOLD_COLOR_MAP), "")

    def ask_this(self, key: list[str], index: int | None):
        """Send the shown example to the Ask tab and switch to it."""
        if index is None:
            raise user_error("Pick an example first.")
        r = self._view(key).rows[int(index)]
        return r["context"], r["question"], gr.Tabs(selected="ask")

    def run_on_example(self, key: list[str], index: int | None, checkpoint: str,
                       allow_no_answer: bool, progress: gr.Progress = gr.Progress()):  # noqa: B008
        """Gold versus predicted on the shown example, with EM and F1."""
        if index is None:
            raise user_error("Pick an example first.")
        r = self._view(key).rows[int(index)]
        # Windows, span limit and threshold: the checkpoint's own (its viqa_training.json).
        pred = self.app.predict(r["context"], r["question"], checkpoint, 5, None, allow_no_answer,
                                None, progress)
        golds = r["answers"]["text"]
        best = pred.answers[0] if pred.answers and not pred.no_answer else None
        segments = display.gold_segments(r["context"], golds, r["answers"]["answer_start"], best)
        scores = display.example_scores(pred.best_text, golds)
        verdict = (
            f"**Predicted:** “{display.escape_markdown(pred.best_text)}”" if best
            else "**Predicted:** *no answer*"
        )
        verdict += (
            f" · EM {scores['em_squad']:.0f} / F1 {scores['f1_squad']:.1f} (SQuAD) · "
            f"EM {scores['em_mlqa_vi']:.0f} / F1 {scores['f1_mlqa_vi']:.1f} (MLQA-vi)"
        )
        return gr.HighlightedText(value=segments, color_map=display.GOLD_COLOR_MAP), verdict


def build(app: ViqaApp, start_checkpoint: str, ask: AskTab, tabs: gr.Tabs,
          demo: gr.Blocks) -> gr.Dropdown:
    """Lay out the Datasets tab and wire its events (all private): "Ask this" fills ``ask`` and
    switches ``tabs``; ``demo`` opens the tab on the bundled sample. Returns its picker."""
    handlers = DatasetHandlers(app)
    with gr.Tab("Datasets", id="datasets"):
        key = gr.State(None)
        indices = gr.State([])
        index = gr.State(None)
        with gr.Row(equal_height=True):
            source = gr.Dropdown(source_choices(), value="sample", label="Source", scale=3,
                                 elem_id="ds-source")
            split = gr.Dropdown(["validation", "train"], value="validation", label="Split",
                                scale=2)
        upload = gr.File(label="SQuAD-format file (.json, .jsonl, .csv, .parquet)",
                         file_types=DATA_FILE_TYPES, type="filepath", visible=False)
        with gr.Row():
            load = gr.Button("Load", variant="primary", scale=0, min_width=160, elem_id="ds-load")
            random_btn = gr.Button("Random example", scale=0, min_width=200)
            status = gr.Markdown("", elem_id="ds-status")
        query = gr.Textbox(label="Search questions and contexts",
                           placeholder="e.g. Huế, ha noi (case and accents optional)",
                           submit_btn="Search", elem_id="ds-query")
        table = gr.Dataframe(headers=TABLE_COLUMNS, interactive=False, wrap=True,
                             elem_id="ds-table", label="Examples (click a row to show it)",
                             elem_classes=["viqa-table"],
                             column_widths=["7%", "16%", "55%", "22%"])
        with gr.Row(equal_height=True):
            prev_btn = gr.Button("← Previous", size="sm", scale=0, min_width=120)
            page = gr.Number(value=1, precision=0, minimum=1, show_label=False, container=False,
                             scale=0, min_width=90)
            next_btn = gr.Button("Next →", size="sm", scale=0, min_width=120)
            page_info = gr.Markdown("", elem_id="ds-page-info")
        header = gr.Markdown("", elem_id="ds-example")
        context = gr.HighlightedText(label="Context (gold answers highlighted)", show_legend=True,
                                     elem_id="ds-context", elem_classes=["viqa-highlight"],
                                     color_map=display.GOLD_COLOR_MAP)
        with gr.Row(equal_height=True):
            checkpoint = checkpoint_picker(app.checkpoint_choices(), "Checkpoint for “Run”",
                                           start_checkpoint, "ds-ckpt", scale=3)
            allow_null = gr.Checkbox(value=True, label="Allow “no answer”", scale=1)
        with gr.Row():
            ask_btn = gr.Button("Ask this →", variant="primary", elem_id="ds-ask")
            run_btn = gr.Button("Run the checkpoint on this example", elem_id="ds-run")
        verdict = gr.Markdown("", elem_id="ds-verdict")

    source.change(source_changed, source, [split, upload], api_visibility="private")
    example_outputs = [index, header, context, verdict]
    load_outputs = [status, key, indices, table, page, page_info, *example_outputs]
    # Errors stay in the page after their toast: in the status line, the page line or the
    # verdict under the example.
    load_dataset = errors_shown_in(handlers.load_dataset, 0, len(load_outputs))
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
                  [key, index, checkpoint, allow_null], [context, verdict], api_visibility="private")
    # The tab opens on the bundled sample, so it is never empty.
    demo.load(load_dataset, [source, split, upload], load_outputs, api_visibility="private")
    return checkpoint
