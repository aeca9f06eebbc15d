"""Evaluate any QA checkpoint on any source, and write the scores and every prediction.

``python -m train.evaluate --checkpoint X --dataset SOURCE [--split S] [--max-samples N]
--output-dir D`` writes ``predictions.json`` (SQuAD format: ``{id: text}``, "" for no answer),
``nbest_predictions.json`` and ``metrics.json`` (both normalisations) into ``D`` and prints a
table. The model runs through ``qa_core.load_reader``, exactly as in the app.

``metrics.json`` also holds the analysis of ``qa_core.evaluation.analysis``: EM and F1 by question type,
answer length, context windows and answerability, the calibration of the model's confidence
and, on data with unanswerable questions, the no-answer trade-off curve; each question's row
(its type, slices, prediction and scores) goes to ``predictions_detail.jsonl``.
``--compare-to B`` evaluates a second checkpoint on the same questions (its files go to
``D/compare_to``) and writes ``comparison.json``: ΔEM and ΔF1 with 95% paired bootstrap
intervals, win/tie/loss counts and the per-slice deltas.
"""

from __future__ import annotations

import json
import logging
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from transformers import HfArgumentParser

from qa_core.answer_options import TrainedSettings
from qa_core.evaluation.analysis import Analysis, analyse, compare_analyses
from qa_core.types import SpanResult
from train.args import TrainConfigError
from train.report import format_breakdowns, format_calibration, format_comparison
from train.scoring import Scores, format_table, nbest

logger = logging.getLogger("train.evaluate")

DETAIL_FILE = "predictions_detail.jsonl"  # one row per question, with its question type


def evaluate_command(checkpoint: str | Path, datasets: list[str], split: str | None) -> str:
    """The shell command that evaluates ``checkpoint`` later, quoted for copy and paste.

    >>> evaluate_command("models/my run", ["sample"], "validation")
    "python -m train.evaluate --checkpoint 'models/my run' --dataset sample --split validation"
    """
    parts = ["python", "-m", "train.evaluate", "--checkpoint", str(checkpoint),
             "--dataset", *datasets]
    if split:
        parts += ["--split", split]
    return shlex.join(parts)


@dataclass
class EvaluateArguments:
    """What to evaluate, on which questions, and where the files go."""

    checkpoint: str = field(
        metadata={"help": "Hub id or local directory of a QA checkpoint (e.g. models/RUN)."}
    )
    dataset: list[str] = field(
        metadata={
            "help": "Sources to evaluate on: named (mlqa.vi.vi, xquad.vi, uit-viquad2, sample, "
            "...), local files or Hub ids; 'SOURCE:SPLIT' picks a split for one of them."
        }
    )
    split: str | None = field(
        default=None,
        metadata={
            "help": "Split, with optional slice ('test', 'validation[:20%%]'); default: "
            "each source's usual evaluation split."
        },
    )
    max_samples: int | None = field(
        default=None, metadata={"help": "Evaluate only the first N questions."}
    )
    output_dir: str | None = field(
        default=None,
        metadata={
            "help": "Where predictions.json, nbest_predictions.json, metrics.json and "
            "predictions_detail.jsonl go (default: outputs/eval/<checkpoint>_<dataset>)."
        },
    )
    compare_to: str | None = field(
        default=None,
        metadata={
            "help": "A second checkpoint (B) to evaluate on the same questions with the same "
            "options: writes comparison.json (A - B with paired bootstrap intervals) and B's "
            "files under OUTPUT_DIR/compare_to."
        },
    )
    max_length: int | None = field(
        default=None,
        metadata={"help": "Tokens per window. Default: as trained (viqa_training.json), else 384."},
    )
    doc_stride: int | None = field(
        default=None,
        metadata={"help": "Tokens shared by consecutive windows. Default: as trained, else 128."},
    )
    max_answer_length: int | None = field(
        default=None, metadata={"help": "Longest answer, in tokens. Default: as trained, else 30."}
    )
    n_best_size: int = field(default=20, metadata={"help": "Candidates kept per question."})
    allow_no_answer: bool | None = field(
        default=None,
        metadata={
            "help": "Let the model answer 'no answer'. Default: as trained (viqa_training.json), "
            "else on when the data has unanswerable questions.",
            "nargs": "?",
            "const": True,
        },
    )
    null_threshold: float | None = field(
        default=None,
        metadata={
            "help": "No-answer threshold. Default: the one tuned in training (viqa_training.json)"
            ", else 0.0."
        },
    )
    tune_null_threshold: bool = field(
        default=False,
        metadata={
            "help": "Tune the threshold for the best F1 on this very data (optimistic: SQuAD v2's "
            "'best F1'); the figures are then labelled 'tuned on this set'."
        },
    )
    batch_size: int = field(default=32, metadata={"help": "Windows per forward pass."})
    device: str | None = field(default=None, metadata={"help": "cuda, mps or cpu (default: best)."})
    dtype: str | None = field(
        default=None, metadata={"help": "float32, bfloat16, float16 or int8 (CPU) (default: the reader's)."}
    )
    dataset_cache_dir: str | None = field(
        default=None, metadata={"help": "Download cache (default: $VIQA_CACHE or ~/.cache/viqa)."}
    )

    def __post_init__(self) -> None:
        if self.max_samples is not None and self.max_samples < 1:
            raise TrainConfigError(f"max_samples={self.max_samples} must be at least 1.")
        if self.tune_null_threshold and self.null_threshold is not None:
            raise TrainConfigError("Pass --null-threshold or --tune-null-threshold, not both.")


def write_outputs(
    directory: str | Path,
    scores: Scores,
    results: Mapping[str, SpanResult],
    analysis: Analysis | None = None,
) -> dict:
    """``predictions.json``, ``nbest_predictions.json`` and ``metrics.json`` in ``directory``;
    with an ``analysis``, ``metrics.json`` gains it and ``predictions_detail.jsonl`` is written
    (one JSON object per question: ``predictions.json`` stays the official scorer's format)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "predictions.json": scores.predictions,
        "nbest_predictions.json": nbest(results),
        "metrics.json": {
            **scores.metrics,
            **scores.threshold_info(),  # which threshold, tuned where, degenerate or not
            "span_quality": scores.span_metrics,
        },
    }
    if analysis is not None:
        files["metrics.json"] = {**files["metrics.json"], **analysis.metrics()}
    paths = {}
    for name, content in files.items():
        path = directory / name
        path.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        paths[name] = path
    if analysis is not None:
        path = paths[DETAIL_FILE] = directory / DETAIL_FILE
        lines = (json.dumps(row, ensure_ascii=False) + "\n" for row in analysis.rows)
        path.write_text("".join(lines), encoding="utf-8")
    return paths


def _default_output_dir(checkpoint: str, datasets: list[str]) -> Path:
    from train.args import default_run_name

    return Path("outputs") / "eval" / default_run_name(checkpoint, datasets)


def answer_and_score(cfg: EvaluateArguments) -> tuple[dict[str, SpanResult], Scores]:
    """Answer every question with the checkpoint and score the answers (no files written)."""
    from qa_core.data.schema import labelled_only
    from qa_core.reader import load_reader
    from qa_core.spans import column_values, references_of
    from train.data import has_unanswerable, load_questions
    from train.scoring import score_results

    examples = load_questions(cfg.dataset, cfg.split, cfg.max_samples, cfg.dataset_cache_dir)
    # Only questions with a gold label can be scored; a split with none is refused here,
    # before the model is loaded.
    what = f"{', '.join(cfg.dataset)} ({cfg.split or 'default split'})"
    examples, unlabelled = labelled_only(examples, what)
    if unlabelled:
        logger.warning(
            "%s: %d questions have no gold answer and are skipped; %d are evaluated.",
            what,
            unlabelled,
            len(examples),
        )
    reader = load_reader(cfg.checkpoint, device=cfg.device, dtype=cfg.dtype)
    # viqa_training.json as the reader read it (a local checkpoint's, or a pushed model's from
    # the Hub); None for checkpoints not trained here
    record = reader.trained
    allow_no_answer = cfg.allow_no_answer
    if allow_no_answer is None:
        allow_no_answer = (
            record.allow_no_answer
            if record and record.allow_no_answer is not None
            else has_unanswerable(examples)
        )
    threshold = cfg.null_threshold
    source = "given (--null-threshold)"
    if threshold is None and not cfg.tune_null_threshold:
        if record and record.null_threshold is not None:
            threshold, source = record.null_threshold, _trained_threshold_source(record)
        else:
            threshold, source = 0.0, "default 0.0 (the checkpoint has no tuned threshold)"

    # Windows as the model saw them in training, unless told otherwise; the reader's own
    # defaults for whatever neither gives.
    trained = record.overrides() if record else {}
    windows = {
        name: value if value is not None else trained.get(name)
        for name, value in (
            ("max_length", cfg.max_length),
            ("doc_stride", cfg.doc_stride),
            ("max_answer_length", cfg.max_answer_length),
            ("max_question_length", None),
        )
    }
    windows = {name: value for name, value in windows.items() if value is not None}

    logger.info("Answering %d questions with %s", len(examples), reader)
    predictions = reader.answer_batch(
        column_values(examples["question"]),
        column_values(examples["context"]),
        batch_size=cfg.batch_size,
        progress=True,
        top_n=cfg.n_best_size,
        **windows,
        allow_no_answer=allow_no_answer,
        null_threshold=threshold or 0.0,
    )
    results = dict(zip(column_values(examples["id"]), predictions))
    references = references_of(examples)
    # With --tune-null-threshold, ``threshold`` is still None: score_results tunes it on this
    # very data and labels it so.
    scores = score_results(
        results,
        references,
        allow_no_answer=allow_no_answer,
        null_threshold=threshold,
        threshold_source=source,
    )
    return results, scores


def _trained_threshold_source(record: TrainedSettings) -> str:
    """Where training tuned the threshold it saved, as the reader read ``viqa_training.json``
    (a local checkpoint's or a pushed model's)."""
    where = record.null_threshold_source
    return f"saved by training: {where}" if where else "saved by training"


def _answer_and_analyse(cfg: EvaluateArguments, out_dir: Path) -> tuple[Analysis, dict]:
    """:func:`answer_and_score`, the analysis and the files; returns the analysis and the
    metrics (``{"squad": {...}, "mlqa-vi": {...}, "null_threshold": ..., "by_...": ...}``)."""
    results, scores = answer_and_score(cfg)
    analysis = analyse(
        results, scores.references or {}, scores.predictions, null_threshold=scores.null_threshold
    )
    paths = write_outputs(out_dir, scores, results, analysis)
    logger.info("Wrote %s", ", ".join(str(p) for p in paths.values()))
    metrics = {**scores.metrics, **scores.threshold_info(), "span_quality": scores.span_metrics}
    if scores.degenerate:
        logger.warning("%s", scores.warning(f"{', '.join(cfg.dataset)}"))
    return analysis, {**metrics, **analysis.metrics(), "output_dir": str(out_dir)}


def evaluate(cfg: EvaluateArguments) -> dict:
    """:func:`answer_and_score`, then the files; returns the metrics (``{"squad": {...},
    "mlqa-vi": {...}, "null_threshold": ..., "by_question_type": ..., "output_dir": ...}``),
    with ``"comparison"`` (what ``comparison.json`` holds) when ``cfg.compare_to`` is set."""
    out_dir = (
        Path(cfg.output_dir) if cfg.output_dir else _default_output_dir(cfg.checkpoint, cfg.dataset)
    )
    analysis, metrics = _answer_and_analyse(cfg, out_dir)
    if cfg.compare_to:
        other = replace(cfg, checkpoint=cfg.compare_to, compare_to=None)
        analysis_b, _ = _answer_and_analyse(other, out_dir / "compare_to")
        try:
            comparison = compare_analyses(analysis, analysis_b)
        except ValueError as exc:  # different questions: a user's mistake, said plainly
            raise TrainConfigError(str(exc)) from None
        comparison = {"a_name": cfg.checkpoint, "b_name": cfg.compare_to, **comparison}
        path = out_dir / "comparison.json"
        path.write_text(json.dumps(comparison, ensure_ascii=False, indent=2) + "\n", "utf-8")
        logger.info("Wrote %s", path)
        metrics["comparison"] = comparison
    return metrics


def main(argv: list[str] | None = None) -> int:
    from qa_core.errors import QAError
    from train.cli import HelpFormatter, dashed

    parser = dashed(HfArgumentParser(
        EvaluateArguments, prog="python -m train.evaluate",
        usage="python -m train.evaluate --checkpoint CKPT --dataset SOURCE [SOURCE ...] "
        "[options]", description=__doc__.split("\n\n")[0], formatter_class=HelpFormatter))
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        level=logging.INFO,
    )
    try:
        (cfg,) = parser.parse_args_into_dataclasses(argv, look_for_args_file=False)
        metrics = evaluate(cfg)
    except (TrainConfigError, QAError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"\n{cfg.checkpoint} on {', '.join(cfg.dataset)} ({cfg.split or 'default split'}):\n")
    print(format_table(metrics))
    if metrics["null_threshold"] is not None:
        print(
            f"\nno-answer threshold: {metrics['null_threshold']:.3f} "
            f"({metrics['null_threshold_source']})"
        )
        if metrics["degenerate_no_answer"]:
            from qa_core.evaluation.no_answer import degenerate_warning

            share = metrics["no_answer_share_of_answerable"]
            print("WARNING: " + degenerate_warning(share, "this data",
                                                   metrics.get("no_answer_auc")))
    if metrics.get("span_quality"):
        print("\nSpan quality (answerable questions, no-answer off):\n")
        print(format_table(metrics["span_quality"]))
    print("\n" + format_breakdowns(metrics) + "\n\n" + format_calibration(metrics["calibration"]))
    if "comparison" in metrics:
        print("\n" + format_comparison(metrics["comparison"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
