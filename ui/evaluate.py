"""The Evaluate tab: EM and F1 under both normalisations on the first N labelled questions of a
split, and the analysis of the same run (``qa_core.evaluation.analysis``): EM and F1 by
question type, answer length, context windows and answerability, the reliability diagram and
its ECE, the no-answer trade-off on SQuAD v2 data, and the misses, filtered by question type
without running the model again. With a second checkpoint picked, both answer the same
questions and the tab shows A − B with paired bootstrap intervals, win/tie/loss counts and the
breakdowns side by side.

Everything is computed by ``qa_core`` (the same functions ``train.evaluate`` uses); this module
only turns the results into components.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import gradio as gr

from qa_core.data import labelled_only
from qa_core.evaluation.analysis import Analysis, analyse, compare_analyses
from qa_core.evaluation.metrics import compute_all
from qa_core.types import Prediction
from ui import analysis_figures, figures, tables
from ui.feedback import errors_shown_in, user_error, user_errors, warn_user
from ui.i18n import DEFAULT_LANGUAGE, Labels, language, t
from ui.state import ViqaApp
from ui.summaries import comparison_markdown
from ui.text import escape_markdown, short_checkpoint_name
from ui.theme import STACK_NARROW
from ui.widgets import (
    checkpoint_picker,
    follow_checkpoint,
    source_changed,
    source_picker,
    upload_box,
)

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
    scores: dict  # qa_core.evaluation.metrics.compute_all
    analysis: Analysis
    seconds: float


class EvaluateHandlers:
    """The Evaluate button and the misses filter."""

    def __init__(self, app: ViqaApp):
        self.app = app

    def questions(self, source: str, split: str, upload: str | None, n: float,
                  lang: str = DEFAULT_LANGUAGE) -> Questions:
        """The first ``n`` questions of the split that can be scored: with gold answers (a
        split with none is refused) and a context within the app's limit."""
        view = self.app.dataset(self.app.source_of(source, upload, lang), split, lang)
        first = view.loaded.dataset.select(range(min(max(1, int(n)), len(view.rows))))
        if not len(first):
            raise user_error(t("error.empty_split", lang), t("title.empty", lang))
        with user_errors("evaluate", lang):
            labelled, unlabelled = labelled_only(
                first, t("evaluate.first_n", lang, source=view.label(lang), n=len(first)))
        limit = self.app.settings.max_context_chars
        rows = [r for r in labelled.to_list() if len(r["context"]) <= limit]
        too_long = len(labelled) - len(rows)
        if unlabelled:
            warn_user(t("evaluate.skipped_unlabelled", lang,
                        skipped=t("count.questions", lang, n=unlabelled),
                        scored=t("count.questions", lang, n=len(labelled))))
        if too_long:
            warn_user(t("evaluate.skipped_long", lang, n=too_long, limit=limit))
        if not rows:
            raise user_error(t("error.all_too_long", lang, limit=limit), t("title.empty", lang))
        return Questions(rows, view.label(lang), unlabelled, too_long)

    def run(self, checkpoint: str, questions: Questions, allow_no_answer: bool,
            null_threshold: float, lang: str, progress: gr.Progress) -> Run:
        """Answer every question with ``checkpoint``, score the answers and analyse them."""
        reader = self.app.get_reader(checkpoint, lang, progress)
        options = self.app.options_for(reader, lang, top_n=1,
                                       allow_no_answer=bool(allow_no_answer),
                                       null_threshold=float(null_threshold))
        rows = questions.rows
        started = time.perf_counter()
        preds = self.app.answer_all(checkpoint, [r["question"] for r in rows],
                                    [r["context"] for r in rows], options, lang, progress)
        seconds = time.perf_counter() - started
        results = {r["id"]: p for r, p in zip(rows, preds)}
        texts = {qid: p.best_text for qid, p in results.items()}
        with user_errors("score", lang):
            scores = compute_all(questions.references, texts)
            analysis = analyse(results, questions.references, texts,
                               null_threshold=float(null_threshold) if allow_no_answer else None)
        return Run(checkpoint, preds, scores, analysis, seconds)

    def evaluate(self, checkpoint: str, source: str, split: str, upload: str | None, n: float,
                 allow_no_answer: bool, null_threshold: float = 0.0, compare_to: str | None = None,
                 request: gr.Request = None,
                 progress: gr.Progress = gr.Progress()):  # noqa: B008
        """Evaluate tab: scores, breakdowns, calibration, the no-answer curve and the misses of
        ``checkpoint`` (A) on the first N labelled questions; with ``compare_to`` (B), both
        on the same questions and A − B with paired bootstrap intervals."""
        lang = language(request)
        compare_to = (compare_to or "").strip()
        questions = self.questions(source, split, upload, n, lang)
        a = self.run(checkpoint, questions, allow_no_answer, null_threshold, lang, progress)
        b = (self.run(compare_to, questions, allow_no_answer, null_threshold, lang, progress)
             if compare_to else None)
        misses = tables.miss_rows(a.analysis.rows, lang)
        summary = self.summary(a, questions, len(misses), allow_no_answer, null_threshold, lang)
        metrics_a = a.analysis.metrics()
        if b is None:
            scores = tables.frame(tables.metrics_rows(a.scores, lang), tables.METRIC_COLUMNS, lang)
            comparison = gr.Dataframe(value=None, visible=False)
            breakdowns = gr.Dataframe(
                value=tables.frame(tables.breakdown_rows(metrics_a, lang),
                                   tables.BREAKDOWN_COLUMNS, lang),
                column_widths=breakdown_widths(compared=False))
            names = {short_checkpoint_name(a.checkpoint): a.analysis}
        else:
            with user_errors("compare", lang):
                compared = compare_analyses(a.analysis, b.analysis)
            summary += "\n\n" + comparison_markdown(compared, a.checkpoint, b.checkpoint, lang)
            both = {f"{side} {key}": s for side, run in (("A", a), ("B", b))
                    for key, s in run.scores.items()}
            scores = tables.frame(tables.metrics_rows(both, lang), tables.METRIC_COMPARED_COLUMNS,
                                  lang)
            comparison = gr.Dataframe(
                value=tables.frame(tables.comparison_rows(compared, lang),
                                   tables.COMPARISON_COLUMNS, lang), visible=True)
            breakdowns = gr.Dataframe(
                value=tables.frame(tables.compared_breakdown_rows(compared, lang),
                                   tables.BREAKDOWN_COMPARED_COLUMNS, lang),
                column_widths=breakdown_widths(compared=True))
            names = {f"A · {short_checkpoint_name(a.checkpoint)}": a.analysis,
                     f"B · {short_checkpoint_name(b.checkpoint)}": b.analysis}
        by_type = analysis_figures.f1_by_question_type_figure(
            {name: an.metrics()["by_question_type"] for name, an in names.items()}, title=None,
            lang=lang)
        reliability = analysis_figures.reliability_figure(
            {name: an.calibration for name, an in names.items()}, lang=lang)
        curve = a.analysis.no_answer_curve
        no_answer = gr.Plot(value=analysis_figures.no_answer_figure(curve, lang=lang),
                            label=f"{t('evaluate.no_answer_plot', lang)} · {next(iter(names))}",
                            visible=curve is not None)
        return (summary, scores, comparison, breakdowns, by_type, reliability, no_answer,
                type_filter(misses, lang), misses, tables.shown_misses(misses, lang))

    @staticmethod
    def summary(a: Run, questions: Questions, n_misses: int, allow_no_answer: bool,
                null_threshold: float, lang: str = DEFAULT_LANGUAGE) -> str:
        """The headline: what was evaluated on what, its scores, ECE, speed and what was
        skipped."""
        squad, mlqa = a.scores["squad"], a.scores["mlqa-vi"]
        n = len(questions.rows)
        no_answer = (t("evaluate.threshold", lang, threshold=f"{float(null_threshold):g}")
                     if allow_no_answer else t("settings.no_answer_off", lang))
        text = t("evaluate.summary", lang, checkpoint=escape_markdown(a.checkpoint),
                 questions=t("count.questions", lang, n=n),
                 data=escape_markdown(questions.label), squad_em=squad["exact_match"],
                 squad_f1=squad["f1"], mlqa_em=mlqa["exact_match"], mlqa_f1=mlqa["f1"],
                 misses=t("count.misses", lang, n=n_misses), ece=a.analysis.calibration["ece"],
                 no_answer=no_answer, seconds=a.seconds, rate=n / max(a.seconds, 1e-9))
        skipped = []
        if questions.unlabelled:
            skipped.append(t("evaluate.not_scored_unlabelled", lang,
                             questions=t("count.questions", lang, n=questions.unlabelled)))
        if questions.too_long:
            skipped.append(t("evaluate.not_scored_long", lang,
                             questions=t("count.questions", lang, n=questions.too_long)))
        if skipped:
            text += t("evaluate.not_scored", lang, what=t("word.and", lang).join(skipped))
        return text

    @staticmethod
    def filter_misses(misses: list[list] | None, question_type: str | None,
                      request: gr.Request = None):
        """The misses table for one question type, from the rows kept in the page (the model
        does not run again)."""
        return tables.shown_misses(tables.misses_of_type(misses or [], question_type),
                                   language(request))


def breakdown_widths(compared: bool) -> list[str]:
    """Column widths of the breakdown table: every column fits the page (13 when compared)."""
    if compared:
        return ["11%", "11%", "6%"] + ["7.2%"] * 10
    return ["16%", "14%", "10%"] + ["15%"] * 4


def type_filter(misses: list[list], lang: str = DEFAULT_LANGUAGE) -> gr.Dropdown:
    """The misses filter: every question type among the misses, with its count."""
    column = tables.MISS_COLUMNS.index("type")
    counts: dict[str, int] = {}
    for m in misses:
        counts[m[column]] = counts.get(m[column], 0) + 1
    choices = [(f"{t('evaluate.all_types', lang)} ({t('count.misses', lang, n=len(misses))})",
                tables.ALL_TYPES)]
    choices += [(f"{tables.slice_name(k, lang)} ({t('count.misses', lang, n=c)})", k)
                for k, c in counts.items()]
    return gr.Dropdown(choices=choices, value=tables.ALL_TYPES, interactive=True)


def no_type_filter(lang: str = DEFAULT_LANGUAGE) -> gr.Dropdown:
    """The misses filter before any evaluation: one choice, every question type."""
    return gr.Dropdown(choices=[(t("evaluate.all_types", lang), tables.ALL_TYPES)],
                       value=tables.ALL_TYPES)


def cleared_outputs(lang: str = DEFAULT_LANGUAGE) -> dict[int, object]:
    """What a failed evaluation leaves after its message: no result of an earlier run."""
    empty = figures.empty_figure()
    return {1: None, 2: gr.Dataframe(value=None, visible=False), 3: None, 4: empty, 5: empty,
            6: gr.Plot(value=None, visible=False), 7: no_type_filter(lang), 8: [], 9: None}


def build(app: ViqaApp, labels: Labels, start_checkpoint: str) -> tuple[gr.Dropdown, gr.Dropdown]:
    """Lay out the Evaluate tab and wire its events (``evaluate_ui``); returns its two
    pickers (A and the optional "compare to" B), which the rescan button refreshes."""
    handlers = EvaluateHandlers(app)

    def table(columns, key, **kwargs):
        component = gr.Dataframe(headers=tables.headers(columns), interactive=False, wrap=True,
                                 label=t(key), elem_classes=["viqa-table"], **kwargs)
        return labels.custom(component, lambda lang: gr.Dataframe(
            value=tables.frame([], columns, lang), label=t(key, lang)))

    with labels(gr.Tab(t("tab.evaluate"), id="evaluate"), label="tab.evaluate"):
        with gr.Row(equal_height=True, elem_classes=STACK_NARROW):
            checkpoint = checkpoint_picker(app, labels, "evaluate.checkpoint", start_checkpoint,
                                           "ev-ckpt", min_width=260)
            compare_to = checkpoint_picker(app, labels, "evaluate.compare_to", None,
                                           "ev-compare", min_width=260)
        with gr.Row(equal_height=True, elem_classes=STACK_NARROW):
            source = source_picker(labels, scale=2, min_width=200)
            split = labels(gr.Dropdown(["validation", "train"], value="validation",
                                       label=t("data.split"), scale=1, min_width=160),
                           label="data.split")
        upload = upload_box(labels)
        with gr.Row(equal_height=True, elem_classes=STACK_NARROW):
            n = labels(gr.Slider(1, 2000, value=54, step=1, scale=3, elem_id="ev-n",
                                 label=t("evaluate.n"), info=t("evaluate.n_info"), min_width=240),
                       label="evaluate.n", info="evaluate.n_info")
            allow_null = labels(gr.Checkbox(value=True, label=t("evaluate.allow_no_answer"),
                                            scale=2, min_width=200),
                                label="evaluate.allow_no_answer")
            # A number box: a slider would round the checkpoint's tuned threshold to its step.
            threshold = labels(gr.Number(value=0.0, step=0.1, scale=2, min_width=160,
                                         label=t("options.threshold"), elem_id="ev-threshold"),
                               label="options.threshold")
        button = labels(gr.Button(t("evaluate.button"), variant="primary", elem_id="ev-button"),
                        value="evaluate.button")
        summary = gr.Markdown("", elem_id="ev-summary")
        # A − B first when there is a B: it is the headline of a comparison.
        comparison = table(tables.COMPARISON_COLUMNS, "evaluate.comparison", visible=False,
                           elem_id="ev-comparison",
                           column_widths=["16%", "10%", "10%", "12%", "20%", "10%", "10%", "12%"])
        metrics = table(tables.METRIC_COLUMNS, "evaluate.scores", elem_id="ev-scores")
        breakdowns = table(tables.BREAKDOWN_COLUMNS, "evaluate.breakdowns", max_height=760,
                           elem_id="ev-breakdown", column_widths=breakdown_widths(compared=False))
        with gr.Row(equal_height=False):
            # The block labels name the figures: a title inside would sit under the label.
            empty = figures.empty_figure()
            by_type = labels(gr.Plot(value=empty, label=t("evaluate.by_type"), elem_id="ev-types",
                                     min_width=320), label="evaluate.by_type")
            reliability = labels(gr.Plot(value=empty, label=t("evaluate.reliability"),
                                         elem_id="ev-reliability", min_width=320),
                                 label="evaluate.reliability")
        no_answer = labels(gr.Plot(label=t("evaluate.no_answer_plot"), visible=False,
                                   elem_id="ev-no-answer"), label="evaluate.no_answer_plot")
        miss_rows = gr.State([])
        with gr.Row(equal_height=True, elem_classes=STACK_NARROW):
            kind = gr.Dropdown([(t("evaluate.all_types"), tables.ALL_TYPES)],
                               value=tables.ALL_TYPES, label=t("evaluate.misses_of"),
                               elem_id="ev-miss-type", scale=1, min_width=200)
            labels.custom(kind, lambda lang: gr.Dropdown(
                choices=no_type_filter(lang).choices, label=t("evaluate.misses_of", lang)))
            labels(gr.Markdown(t("evaluate.filter_note")), value="evaluate.filter_note")
        misses = table(tables.MISS_COLUMNS, "evaluate.misses", max_height=480,
                       elem_id="ev-misses",
                       column_widths=["11%", "8%", "27%", "15%", "15%", "8%", "8%", "8%"])

    source.change(source_changed, source, [split, upload], api_visibility="private")
    # The controls follow A's saved no-answer settings (its windows are the reader's own
    # already), as `python -m train.evaluate` does for A; a checkpoint that saved none: no answer
    # allowed, as `train.evaluate` does on data with unanswerable questions. B answers with the
    # same controls, so the comparison holds the options fixed (the command line instead lets
    # B fall back on its own saved settings for what is not given).
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
