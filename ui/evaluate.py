"""The Evaluate tab: EM and F1 under both normalisations on the first N labelled questions of a
split, and the analysis of the same run (``qa_core.analysis``): EM and F1 by question type,
answer length, context windows and answerability, the reliability diagram and its ECE, the
no-answer trade-off on SQuAD v2 data, and the misses, filtered by question type without running
the model again. With a second checkpoint picked, both answer the same questions and the tab
shows A − B with paired bootstrap intervals, win/tie/loss counts and the breakdowns side by side.

Everything is computed by ``qa_core`` (the same functions ``train.evaluate`` uses); this module
only turns the results into components.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import gradio as gr
import pandas as pd

from qa_core.analysis import Analysis, analyse, compare_analyses
from qa_core.metrics import compute_all
from qa_core.sources import labelled_only
from qa_core.types import Prediction
from ui import analysis_figures, display
from ui.state import ViqaApp
from ui.widgets import (
    DATA_FILE_TYPES,
    checkpoint_picker,
    errors_shown_in,
    follow_checkpoint,
    source_changed,
    source_choices,
    user_error,
    user_errors,
    warn_user,
)

METRIC_COLUMNS = ["metric", "SQuAD", "MLQA-vi"]
METRIC_COMPARED_COLUMNS = ["metric", "SQuAD A", "MLQA-vi A", "SQuAD B", "MLQA-vi B"]
N_OUTPUTS = 10  # summary, scores, comparison, breakdowns, 3 figures, filter, misses state, table


@dataclass
class Questions:
    """The questions an evaluation scores, and what was left out on the way."""

    rows: list[dict]
    label: str  # "Bundled sample (...) · validation"
    unlabelled: int  # questions without gold answers (not scored)
    too_long: int  # questions whose context is over the app's limit (not scored)

    @property
    def references(self) -> dict[str, list[str]]:
        return {r["id"]: list(r["answers"]["text"]) for r in self.rows}


@dataclass
class Run:
    """One checkpoint's evaluation: its predictions, scores and their analysis."""

    checkpoint: str
    predictions: list[Prediction]
    scores: dict  # qa_core.metrics.compute_all
    analysis: Analysis
    seconds: float


class EvaluateHandlers:
    """The Evaluate button and the misses filter."""

    def __init__(self, app: ViqaApp):
        self.app = app

    def questions(self, source: str, split: str, upload: str | None, n: float) -> Questions:
        """The first ``n`` questions of the split that can be scored: with gold answers (a
        split with none is refused) and a context within the app's limit."""
        view = self.app.dataset(self.app.source_of(source, upload), split)
        first = view.loaded.dataset.select(range(min(max(1, int(n)), len(view.rows))))
        if not len(first):
            raise user_error("The dataset is empty.")
        with user_errors("evaluate"):
            labelled, unlabelled = labelled_only(first, f"{view.label} (the first {len(first):,})")
        limit = self.app.settings.max_context_chars
        rows = [r for r in labelled.to_list() if len(r["context"]) <= limit]
        too_long = len(labelled) - len(rows)
        if unlabelled:
            warn_user(f"{display.plural(unlabelled, 'question')} without gold answers "
                      f"{'is' if unlabelled == 1 else 'are'} skipped; "
                      f"{display.plural(len(labelled), 'question')} with gold answers "
                      f"{'is' if len(labelled) == 1 else 'are'} scored.")
        if too_long:
            warn_user(f"{display.plural(too_long, 'question')} with contexts over {limit:,} "
                      "characters skipped (VIQA_MAX_CONTEXT_CHARS).")
        if not rows:
            raise user_error(f"No question left to score: every context is over {limit:,} "
                             "characters (VIQA_MAX_CONTEXT_CHARS).")
        return Questions(rows, view.label, unlabelled, too_long)

    def run(self, checkpoint: str, questions: Questions, allow_no_answer: bool,
            null_threshold: float, progress: gr.Progress) -> Run:
        """Answer every question with ``checkpoint``, score the answers and analyse them."""
        reader = self.app.get_reader(checkpoint, progress)
        rows = questions.rows
        started = time.perf_counter()
        preds = self.app.answer_all(
            reader, [r["question"] for r in rows], [r["context"] for r in rows], "evaluate",
            progress, allow_no_answer=bool(allow_no_answer), null_threshold=float(null_threshold),
        )
        seconds = time.perf_counter() - started
        results = {r["id"]: p for r, p in zip(rows, preds)}
        texts = {qid: p.best_text for qid, p in results.items()}
        with user_errors("score the predictions"):
            scores = compute_all(questions.references, texts)
            analysis = analyse(results, questions.references, texts,
                               null_threshold=float(null_threshold) if allow_no_answer else None)
        return Run(checkpoint, preds, scores, analysis, seconds)

    def evaluate(self, checkpoint: str, source: str, split: str, upload: str | None, n: float,
                 allow_no_answer: bool, null_threshold: float = 0.0, compare_to: str | None = None,
                 progress: gr.Progress = gr.Progress()):  # noqa: B008
        """Evaluate tab: scores, breakdowns, calibration, the no-answer curve and the misses of
        ``checkpoint`` (A) on the first N labelled questions; with ``compare_to`` (B), both
        on the same questions and A − B with paired bootstrap intervals."""
        compare_to = (compare_to or "").strip()
        questions = self.questions(source, split, upload, n)
        a = self.run(checkpoint, questions, allow_no_answer, null_threshold, progress)
        b = (self.run(compare_to, questions, allow_no_answer, null_threshold, progress)
             if compare_to else None)
        misses = display.miss_rows(a.analysis.rows)
        summary = self.summary(a, questions, len(misses), allow_no_answer, null_threshold)
        metrics_a = a.analysis.metrics()
        if b is None:
            scores = pd.DataFrame(display.metrics_rows(a.scores), columns=METRIC_COLUMNS)
            comparison = gr.Dataframe(value=None, visible=False)
            breakdowns = gr.Dataframe(
                value=pd.DataFrame(display.breakdown_rows(metrics_a),
                                   columns=display.BREAKDOWN_COLUMNS),
                column_widths=breakdown_widths(compared=False))
            names = {display.short_checkpoint_name(a.checkpoint): a.analysis}
        else:
            with user_errors("compare the checkpoints"):
                compared = compare_analyses(a.analysis, b.analysis)
            summary += "\n\n" + display.comparison_markdown(compared, a.checkpoint, b.checkpoint)
            both = {f"{side} {key}": s for side, run in (("A", a), ("B", b))
                    for key, s in run.scores.items()}
            scores = pd.DataFrame(display.metrics_rows(both), columns=METRIC_COMPARED_COLUMNS)
            comparison = gr.Dataframe(
                value=pd.DataFrame(display.comparison_rows(compared),
                                   columns=display.COMPARISON_COLUMNS), visible=True)
            breakdowns = gr.Dataframe(
                value=pd.DataFrame(display.compared_breakdown_rows(compared),
                                   columns=display.BREAKDOWN_COMPARED_COLUMNS),
                column_widths=breakdown_widths(compared=True))
            names = {f"A · {display.short_checkpoint_name(a.checkpoint)}": a.analysis,
                     f"B · {display.short_checkpoint_name(b.checkpoint)}": b.analysis}
        by_type = analysis_figures.f1_by_question_type_figure(
            {name: an.metrics()["by_question_type"] for name, an in names.items()}, title=None)
        reliability = analysis_figures.reliability_figure(
            {name: an.calibration for name, an in names.items()})
        curve = a.analysis.no_answer_curve
        no_answer = gr.Plot(value=analysis_figures.no_answer_figure(curve),
                            label=f"{NO_ANSWER_LABEL} · {next(iter(names))}",
                            visible=curve is not None)
        return (summary, scores, comparison, breakdowns, by_type, reliability, no_answer,
                type_filter(misses), misses, pd.DataFrame(misses, columns=display.MISS_COLUMNS))

    @staticmethod
    def summary(a: Run, questions: Questions, n_misses: int, allow_no_answer: bool,
                null_threshold: float) -> str:
        """The headline: what was evaluated on what, its scores, ECE, speed and what was
        skipped."""
        squad, mlqa = a.scores["squad"], a.scores["mlqa-vi"]
        n = len(questions.rows)
        text = (
            f"**{display.escape_markdown(a.checkpoint)}** on "
            f"{display.plural(n, 'question')} of {display.escape_markdown(questions.label)}: "
            f"EM **{squad['exact_match']:.1f}**, F1 **{squad['f1']:.1f}** (SQuAD) · "
            f"EM **{mlqa['exact_match']:.1f}**, F1 **{mlqa['f1']:.1f}** (MLQA-vi) · "
            f"{display.plural(n_misses, 'miss', 'misses')} · ECE "
            f"**{a.analysis.calibration['ece']:.3f}** · "
            + (f"no-answer threshold {float(null_threshold):g}" if allow_no_answer
               else "no answer off")
            + f" · {a.seconds:.1f} s ({n / max(a.seconds, 1e-9):.1f} questions/s)."
        )
        skipped = []
        if questions.unlabelled:
            skipped.append(f"{display.plural(questions.unlabelled, 'question')} without gold "
                           "answers")
        if questions.too_long:
            skipped.append(f"{display.plural(questions.too_long, 'question')} with over-long "
                           "contexts")
        if skipped:
            text += f" Not scored: {' and '.join(skipped)}."
        return text

    @staticmethod
    def filter_misses(misses: list[list] | None, question_type: str | None) -> pd.DataFrame:
        """The misses table for one question type, from the rows kept in the page (the model
        does not run again)."""
        return pd.DataFrame(display.misses_of_type(misses or [], question_type),
                            columns=display.MISS_COLUMNS)


NO_ANSWER_LABEL = ("No-answer trade-off against the threshold, the one in force marked (data "
                   "with unanswerable questions, no answer allowed)")


def breakdown_widths(compared: bool) -> list[str]:
    """Column widths of the breakdown table: every column fits the page (13 when compared)."""
    if compared:
        return ["11%", "11%", "6%"] + ["7.2%"] * 10
    return ["16%", "14%", "10%"] + ["15%"] * 4


def type_filter(misses: list[list]) -> gr.Dropdown:
    """The misses filter: every question type among the misses, with its count."""
    column = display.MISS_COLUMNS.index("type")
    counts: dict[str, int] = {}
    for m in misses:
        counts[m[column]] = counts.get(m[column], 0) + 1
    choices = [(f"{display.ALL_TYPES} ({display.plural(len(misses), 'miss', 'misses')})",
                display.ALL_TYPES)]
    choices += [(f"{t} ({display.plural(c, 'miss', 'misses')})", t) for t, c in counts.items()]
    return gr.Dropdown(choices=choices, value=display.ALL_TYPES, interactive=True)


def cleared_outputs() -> dict[int, object]:
    """What a failed evaluation leaves after its message: no result of an earlier run."""
    empty = display.empty_figure("Press Evaluate to see the analysis.")
    return {1: None, 2: gr.Dataframe(value=None, visible=False), 3: None, 4: empty, 5: empty,
            6: gr.Plot(value=None, visible=False), 7: gr.Dropdown(choices=[display.ALL_TYPES],
                                                                  value=display.ALL_TYPES),
            8: [], 9: None}


def build(app: ViqaApp, start_checkpoint: str) -> tuple[gr.Dropdown, gr.Dropdown]:
    """Lay out the Evaluate tab and wire its events (``evaluate_ui``); returns its two
    pickers (A and the optional "compare to" B), which the rescan button refreshes."""
    handlers = EvaluateHandlers(app)
    choices = app.checkpoint_choices()
    with gr.Tab("Evaluate", id="evaluate"):
        with gr.Row(equal_height=True):
            checkpoint = checkpoint_picker(choices, "Checkpoint (A)", start_checkpoint, "ev-ckpt")
            compare_to = checkpoint_picker(
                choices, "Compare to (optional): checkpoint B, on the same questions", None,
                "ev-compare")
        with gr.Row(equal_height=True):
            source = gr.Dropdown(source_choices(), value="sample", label="Source", scale=2)
            split = gr.Dropdown(["validation", "train"], value="validation", label="Split",
                                scale=1)
        upload = gr.File(label="SQuAD-format file (.json, .jsonl, .csv, .parquet)",
                         file_types=DATA_FILE_TYPES, type="filepath", visible=False)
        with gr.Row(equal_height=True):
            n = gr.Slider(1, 2000, value=54, step=1, scale=3, elem_id="ev-n",
                          label="Number of examples (the first N of the split)",
                          info="Questions without gold answers among them are skipped.")
            allow_null = gr.Checkbox(value=True, label="Allow “no answer” (for SQuAD 2.0 "
                                     "data: the sample, UIT-ViQuAD)", scale=2)
            # A number box: a slider would round the checkpoint's tuned threshold to its step.
            threshold = gr.Number(value=0.0, step=0.1, scale=2, label="No-answer threshold",
                                  elem_id="ev-threshold")
        button = gr.Button("Evaluate", variant="primary", elem_id="ev-button")
        summary = gr.Markdown("", elem_id="ev-summary")
        # A − B first when there is a B: it is the headline of a comparison.
        # wrap: long headers and cells go onto two lines instead of ending in "…"
        comparison = gr.Dataframe(headers=display.COMPARISON_COLUMNS, interactive=False, wrap=True,
                                  label="A − B: 95% paired bootstrap intervals, and the questions "
                                        "each wins by F1", visible=False,
                                  elem_id="ev-comparison", elem_classes=["viqa-table"],
                                  column_widths=["16%", "10%", "10%", "12%", "20%", "10%", "10%",
                                                 "12%"])
        metrics = gr.Dataframe(headers=METRIC_COLUMNS, interactive=False, wrap=True,
                               label="Scores (%)",
                               elem_id="ev-scores", elem_classes=["viqa-table"])
        breakdowns = gr.Dataframe(headers=display.BREAKDOWN_COLUMNS, interactive=False, wrap=True,
                                  label="Breakdowns: EM and F1 (%) by slice", max_height=760,
                                  elem_id="ev-breakdown", elem_classes=["viqa-table"],
                                  column_widths=breakdown_widths(compared=False))
        with gr.Row(equal_height=False):
            # The block labels name the figures: a title inside would sit under the label.
            empty = display.empty_figure("Press Evaluate to see the analysis.")
            by_type = gr.Plot(value=empty, label="F1 (MLQA-vi) by question type",
                              elem_id="ev-types")
            reliability = gr.Plot(value=empty, label="Reliability: is the top answer's "
                                  "probability honest? (ECE in the legend)",
                                  elem_id="ev-reliability")
        no_answer = gr.Plot(label=NO_ANSWER_LABEL, visible=False, elem_id="ev-no-answer")
        miss_rows = gr.State([])
        with gr.Row(equal_height=True):
            kind = gr.Dropdown([display.ALL_TYPES], value=display.ALL_TYPES,
                               label="Show the misses of", elem_id="ev-miss-type", scale=1)
            gr.Markdown("Filtering keeps the model's answers: nothing runs again.")
        misses = gr.Dataframe(headers=display.MISS_COLUMNS, interactive=False, wrap=True,
                              label="Misses of A (click a header to sort)", max_height=480,
                              elem_id="ev-misses", elem_classes=["viqa-table"],
                              column_widths=["11%", "8%", "27%", "15%", "15%", "8%", "8%", "8%"])

    source.change(source_changed, source, [split, upload], api_visibility="private")
    # The same numbers as `python -m train.evaluate`: A's saved no-answer settings (its
    # windows are the reader's own already).
    # A checkpoint that saved no setting: no answer allowed, as `train.evaluate` does on data
    # with unanswerable questions (the sample, UIT-ViQuAD).
    follow_checkpoint(app, checkpoint, {"allow_no_answer": True}, allow_no_answer=allow_null,
                      null_threshold=threshold)
    outputs = [summary, metrics, comparison, breakdowns, by_type, reliability, no_answer, kind,
               miss_rows, misses]
    button.click(errors_shown_in(handlers.evaluate, 0, N_OUTPUTS, cleared_outputs),
                 [checkpoint, source, split, upload, n, allow_null, threshold, compare_to],
                 outputs, concurrency_limit=1, concurrency_id="long-jobs",
                 api_visibility="undocumented", api_name="evaluate_ui")
    kind.change(handlers.filter_misses, [miss_rows, kind], misses, api_visibility="private",
                queue=False, show_progress="hidden")
    return checkpoint, compare_to
