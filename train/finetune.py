"""Fine-tune a Vietnamese extractive QA model: ``python -m train.finetune [--preset smoke]``.

``train(cfg) -> metrics`` is the whole pipeline; ``main()`` parses arguments and sets up logs.

1. Check the Hub first when publishing (token present, can write), so nothing is trained in vain.
2. Load the model (Hub id, directory, or ``tiny:unigram``) and the questions of every source;
   hold out a few training passages (``--threshold-split``) to tune the no-answer threshold on.
3. Cut windows with ``qa_core.windows`` (cached on disk); keep ``--null-window-rate`` of the
   windows of answerable questions whose answer is in another window and
   ``--unanswerable-window-rate`` of those of unanswerable questions; pad per batch, group by
   length.
4. Train with ``QATrainer``: EM/F1 of post-processed spans each epoch (or N steps), at the
   threshold tuned on the held-out slice, best checkpoint kept; SIGTERM/SIGINT save a
   checkpoint and stop; ``--resume`` continues.
5. Save the final model *first*, then evaluate, write the model card and push. A failure after
   the save loses nothing: the error says how to finish (e.g. the ``train.push`` command).

The same command runs on one CPU, one GPU, or several GPUs under ``torchrun`` or
``accelerate launch``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import signal
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import datasets
import numpy as np

from qa_core.windows import segments_words
from train.args import FinetuneConfig, TrainConfigError, parse_args
from train.data import RunQuestions, load_run_questions
from train.evaluate import evaluate_command
from train.push import push_command
from train.run_folder import (
    TrainingStopped,
    clear_checkpoints,
    removed_on_failure,
    resume_point,
    stopped_checkpoint,
)

logger = logging.getLogger("train.finetune")

def _precision(args) -> str:
    return "bf16 mixed" if args.bf16 else "fp16 mixed" if args.fp16 else "fp32"


def _settings(cfg: FinetuneConfig, data: QAData) -> dict:
    args = cfg.training
    effective = (
        args.per_device_train_batch_size * args.gradient_accumulation_steps * args.world_size
    )
    return {
        "base_model": cfg.model.model_name_or_path,
        "train_questions": len(data.train_examples),
        "train_windows": len(data.train_features),
        "max_length": cfg.qa.max_length,
        "doc_stride": cfg.qa.doc_stride,
        "max_question_length": cfg.qa.max_question_length,
        "max_answer_length": cfg.qa.max_answer_length,
        "learning_rate": args.learning_rate,
        "epochs": args.num_train_epochs if args.max_steps <= 0 else None,
        "max_steps": args.max_steps if args.max_steps > 0 else None,
        "batch": (
            f"{args.per_device_train_batch_size} per device × {args.gradient_accumulation_steps} "
            f"accumulation × {args.world_size} processes = {effective}"
        ),
        "warmup": args.warmup_steps,
        "weight_decay": args.weight_decay,
        "optimizer": str(getattr(args.optim, "value", args.optim)),
        "precision": _precision(args),
        "attention dropout": (
            "checkpoint's own" if cfg.model.attention_dropout is None
            else cfg.model.attention_dropout
        ),
        "batching": f"dynamic padding, {args.train_sampling_strategy}",
        "answer-elsewhere windows kept": cfg.qa.null_window_rate,
        "unanswerable windows kept": cfg.qa.unanswerable_window_rate,
        "threshold split": cfg.data.threshold_split,
        "seed": args.seed,
        # PhoBERT: the segmenter the app answers with too, and the answers cut inside a word
        "word_segmenter": data.word_segmenter,
        "answers split at word edges": data.split_words if data.word_segmenter else None,
    }


def _best_normalization(metric_for_best_model: str | None) -> str:
    return "squad" if metric_for_best_model and "squad" in metric_for_best_model else "mlqa-vi"


def train(cfg: FinetuneConfig) -> dict:
    """Run the whole pipeline of the module docstring; returns the final metrics.

    Raises ``TrainingStopped`` when a signal stopped training (a checkpoint is saved), and
    ``train.hub.HubAccessError`` before training when ``--push-to-hub`` cannot work. A run
    that fails leaves no half-made output folder behind (see :func:`removed_on_failure`).
    """
    with removed_on_failure(cfg.training.output_dir, cfg.training.process_index == 0):
        return _train(cfg)


def _train(cfg: FinetuneConfig) -> dict:
    """:func:`train` without the clean-up on failure."""
    from transformers import DataCollatorWithPadding, set_seed

    from qa_core.spans import SpanOptions
    from train.hub import check_hub_access
    from train.model import load_model_and_tokenizer, resolve_checkpoint
    from train.signals import StopOnSignal
    from train.trainer import QATrainer

    args = cfg.training
    output_dir = Path(args.output_dir)
    hub_target = None
    if args.push_to_hub and args.should_save:  # fail now, not after hours of training
        hub_target = check_hub_access(args.hub_model_id)
        logger.info("Hub check passed: %s can push to %s", hub_target.user, hub_target.repo_id)
    resume_from = resume_point(output_dir, cfg.run.resume, cfg.run.overwrite_output_dir)
    # Data errors first: before a base model is built or downloaded and old checkpoints go.
    with args.main_process_first(desc="loading the data"):
        questions = load_run_questions(cfg.data, args.do_eval)
    set_seed(args.seed)

    with args.main_process_first(desc="building the base model"):
        checkpoint = resolve_checkpoint(cfg.model, output_dir)
    model, tokenizer = load_model_and_tokenizer(cfg.model, checkpoint, cfg.qa.word_segmenter)
    windows = cfg.qa.windows()
    with args.main_process_first(desc="loading and tokenizing the data"):
        data = load_data(cfg, tokenizer, windows, questions)
    allow_no_answer = data.allow_no_answer
    logger.info("%s; no-answer %s", data.summary(), "on" if allow_no_answer else "off")

    if cfg.run.overwrite_output_dir and not cfg.run.resume and args.should_save:
        clear_checkpoints(output_dir)  # only now that the model and the data are ready
    # We push once, after training (below), not at every save as the Trainer would.
    trainer_args = replace(args, push_to_hub=False) if args.push_to_hub else args
    stop = StopOnSignal()
    trainer = QATrainer(
        model=model,
        args=trainer_args,
        train_dataset=data.train_features,
        eval_dataset=data.eval_features,
        processing_class=tokenizer,
        # Pad each batch to its longest window; multiples of 8 suit tensor cores.
        data_collator=DataCollatorWithPadding(
            tokenizer, pad_to_multiple_of=8 if args.device.type == "cuda" else None
        ),
        callbacks=[stop],
        eval_examples=data.eval_examples,
        span_options=SpanOptions(
            top_n=cfg.qa.n_best_size,
            max_answer_length=cfg.qa.max_answer_length,
            allow_no_answer=allow_no_answer,
        ),
        null_threshold=cfg.qa.null_threshold,
        threshold_examples=data.threshold_examples,
        threshold_features=data.threshold_features,
        tune_for=_best_normalization(args.metric_for_best_model),
    )

    stop.install()
    try:
        result = trainer.train(resume_from_checkpoint=resume_from)
    finally:
        stop.uninstall()
    if stop.stopped_at is not None:
        raise TrainingStopped(
            stop.received or signal.SIGTERM,
            stopped_checkpoint(output_dir, stop.stopped_at),
            "the same command with --resume",
        )

    # Save first: nothing after this line can lose the trained model.
    trainer.save_model(str(output_dir))
    if trainer.is_world_process_zero():
        logger.info("Model saved to %s", output_dir)
    metrics = {**result.metrics, "global_step": result.global_step, "output_dir": str(output_dir)}

    scores = None
    failed: list[str] = []  # steps asked for that failed after the model was saved
    threshold = (cfg.qa.null_threshold, "given (--null-threshold)")
    if data.eval_examples is not None:
        try:
            results, scores, timing = _final_evaluation(trainer)
            metrics.update({f"eval_{k}": v for k, v in scores.flat().items()})
            metrics.update(timing)
            metrics["eval_null_threshold_source"] = scores.threshold_source
            threshold = (scores.null_threshold, scores.threshold_source)
        except Exception as exc:  # the model is saved; report, write the card, exit non-zero
            logger.exception("Final evaluation failed; the model is saved in %s.", output_dir)
            failed.append(
                f"The final evaluation failed ({type(exc).__name__}: {exc}), so the model card "
                f"has no scores. The model is saved in {output_dir}; evaluate it with:\n  "
                + evaluate_command(output_dir, cfg.data.eval_dataset or cfg.data.train_dataset,
                                   cfg.data.eval_split))
    elif allow_no_answer and data.threshold_examples is not None:
        threshold = trainer.tuned_threshold()  # no evaluation set: the card still needs one
    if allow_no_answer and threshold[0] is not None:
        logger.info("No-answer threshold %.3f: %s", threshold[0], threshold[1])

    if trainer.is_world_process_zero():
        from train.evaluate import write_outputs
        from train.model_card import write_model_card
        from train.scoring import format_table

        if scores is not None:
            write_outputs(output_dir / "eval", scores, results, analysis_or_none(data, results, scores))
            logger.info("Evaluation:\n%s", format_table(scores.metrics))
            if scores.span_metrics:
                logger.info(
                    "Span quality (answerable questions, no-answer off):\n%s",
                    format_table(scores.span_metrics),
                )
            if scores.degenerate:
                logger.warning("%s", scores.warning("the evaluation set"))
        record = _record(cfg, data, result, scores, threshold, hub_target)
        name = hub_target.repo_id.split("/")[-1] if hub_target else output_dir.name
        write_model_card(output_dir, record, name)
        if hub_target is not None:
            metrics["hub_url"] = push_or_explain(
                output_dir, hub_target.repo_id, args.hub_private_repo
            )
            if metrics["hub_url"] is None:
                failed.append(f"Pushing to the Hub failed (the reason is above). The model is "
                              f"saved in {output_dir}; push it with:\n  " + push_command(
                                  output_dir, hub_target.repo_id, args.hub_private_repo))
    if failed:
        metrics["failed"] = failed
    return metrics


@dataclass
class QAData:
    """The questions of a run and their windows (evaluation ones absent without evaluation;
    threshold ones, the held-out training passages, absent without no-answer)."""

    train_examples: datasets.Dataset
    train_features: datasets.Dataset
    eval_examples: datasets.Dataset | None = None
    eval_features: datasets.Dataset | None = None
    threshold_examples: datasets.Dataset | None = None
    threshold_features: datasets.Dataset | None = None
    allow_no_answer: bool = False
    all_windows: int | None = None  # training windows before answerless ones were dropped
    split_words: int = 0  # answers whose edge fell inside a segmented word (PhoBERT)
    word_segmenter: str | None = None  # PhoBERT's input: how its words were cut

    def summary(self) -> str:
        text = f"{len(self.train_examples)} training questions → {len(self.train_features)} windows"
        if self.all_windows is not None and self.all_windows != len(self.train_features):
            text += f" (of {self.all_windows}: answerless windows down-sampled)"
        if self.threshold_examples is not None:
            text += (
                f"; {len(self.threshold_examples)} held out to tune the no-answer threshold"
            )
        if self.eval_examples is not None:
            text += (
                f"; {len(self.eval_examples)} evaluation questions → "
                f"{len(self.eval_features)} windows"
            )
        return text


def split_by_passage(
    contexts: list[str], share: float, seed: int
) -> tuple[list[int], list[int]]:
    """(training rows, held-out rows): whole passages, drawn with ``seed``, held out until they
    hold at least ``share`` of the questions; no passage is on both sides. At least one
    passage stays for training; ``share == 0`` or a single passage holds nothing out.

    >>> split_by_passage(["a", "a", "b", "c", "c", "c"], 0.3, seed=0)
    ([0, 1, 2], [3, 4, 5])
    """
    passages = list(dict.fromkeys(contexts))  # first-seen order, then a seeded shuffle
    if share <= 0 or len(passages) < 2:
        return list(range(len(contexts))), []
    order = np.random.default_rng(seed).permutation(len(passages))
    size: dict[str, int] = {}
    for context in contexts:
        size[context] = size.get(context, 0) + 1
    held: set[str] = set()
    count = 0
    for i in order[:-1]:  # the last passage drawn is never held out
        if count >= share * len(contexts):
            break
        held.add(passages[i])
        count += size[passages[i]]
    train_rows = [i for i, c in enumerate(contexts) if c not in held]
    held_rows = [i for i, c in enumerate(contexts) if c in held]
    return train_rows, held_rows


def null_window_rows(
    input_ids: list[list[int]], start_positions: list[int], cls_token_id: int | None
) -> np.ndarray:
    """Boolean mask of the training windows labelled "no answer" (start label on CLS).

    >>> null_window_rows([[0, 5, 6], [0, 7, 8]], [0, 2], cls_token_id=0).tolist()
    [True, False]
    """
    return np.asarray(
        [ids[s] == cls_token_id for ids, s in zip(input_ids, start_positions)], dtype=bool
    )


def sample_null_windows(
    groups: dict[str, np.ndarray], rates: dict[str, float], seed: int
) -> np.ndarray:
    """Rows to train on, in their original order: every row in no group, and of each group
    (disjoint boolean masks) a seeded ``rates[name]`` share (at least one when it has any).

    >>> is_null = np.array([True, False, True, True, False])
    >>> sample_null_windows({"null": is_null}, {"null": 1.0}, 0).tolist()
    [0, 1, 2, 3, 4]
    >>> len(sample_null_windows({"null": np.array([True] * 10 + [False] * 5)}, {"null": 0.2}, 0))
    7
    """
    rng = np.random.default_rng(seed)
    rows = np.arange(len(next(iter(groups.values()))))
    keep = np.ones(len(rows), dtype=bool)
    for name, mask in groups.items():
        rate = rates[name]
        if rate >= 1.0:
            continue
        members = rows[mask]
        n_keep = min(len(members), max(1, round(rate * len(members)))) if len(members) else 0
        keep[members] = False
        keep[rng.choice(members, size=n_keep, replace=False)] = True
    return rows[keep]


def load_data(cfg: FinetuneConfig, tokenizer, windows, questions: RunQuestions) -> QAData:
    """Training (and, when the run evaluates, evaluation) questions cut into windows; with
    no-answer on and no --null-threshold, the held-out passages too."""
    from train.data import has_unanswerable, tokenize

    data = cfg.data
    common = dict(
        cache_dir=data.dataset_cache_dir,
        num_proc=data.preprocessing_num_workers,
        overwrite_cache=data.overwrite_cache,
    )
    train_examples = questions.train
    allow_no_answer = (
        cfg.qa.allow_no_answer
        if cfg.qa.allow_no_answer is not None
        else has_unanswerable(train_examples)
    )
    held = None
    if allow_no_answer and cfg.qa.null_threshold is None and data.threshold_split > 0:
        kept, held_rows = split_by_passage(
            list(train_examples["context"]), data.threshold_split, cfg.training.seed
        )
        if held_rows:
            held = train_examples.select(held_rows)
            train_examples = train_examples.select(kept)
        else:
            logger.warning(
                "The training data has a single passage: nothing can be held out to tune the "
                "no-answer threshold, so it is tuned on the evaluation set (optimistic)."
            )
    features = tokenize("train", train_examples, tokenizer, windows, **common)
    all_windows = len(features)
    if cfg.qa.null_window_rate < 1.0 or cfg.qa.unanswerable_window_rate < 1.0:
        # Two kinds of CLS window, thinned apart: the easy negatives (an answerable question's
        # window without its answer) and the windows of unanswerable questions, which teach
        # what "no answer" looks like.
        is_null = null_window_rows(
            features["input_ids"], features["start_positions"], tokenizer.cls_token_id
        )
        answerable = np.asarray(features["answerable"], dtype=bool)
        rows = sample_null_windows(
            {"elsewhere": is_null & answerable, "unanswerable": ~answerable},
            {"elsewhere": cfg.qa.null_window_rate,
             "unanswerable": cfg.qa.unanswerable_window_rate},
            cfg.training.seed,
        )
        features = features.select(rows)
    split = sum(features["split_words"])
    if split:
        answers = sum(bool(a["text"]) for a in train_examples["answers"])
        logger.info(
            "%d of %d training answers began or ended inside a segmented word; those words were "
            "split there, so every answer is whole tokens.", split, answers)
    features = features.remove_columns(["answerable", "split_words"])
    out = QAData(
        train_examples, features, allow_no_answer=allow_no_answer, all_windows=all_windows,
        split_words=split,
        word_segmenter=tokenizer.segmenter if segments_words(tokenizer) else None,
    )
    if held is not None:
        out.threshold_examples = held
        out.threshold_features = tokenize("eval", held, tokenizer, windows, **common)
    if questions.eval is not None:
        out.eval_examples = questions.eval
        out.eval_features = tokenize("eval", out.eval_examples, tokenizer, windows, **common)
    return out


def _record(cfg: FinetuneConfig, data: QAData, result, scores, threshold, hub_target):
    """The ``viqa_training.json`` of a finished run (also the model card's source);
    ``threshold`` is (value, where it came from)."""
    from train.model_card import TrainingRecord

    evaluated = data.eval_examples is not None
    allow = data.allow_no_answer
    return TrainingRecord(
        base_model=cfg.model.model_name_or_path,
        train_datasets=list(cfg.data.train_dataset),
        eval_datasets=list(cfg.data.eval_dataset or cfg.data.train_dataset) if evaluated else [],
        eval_split=cfg.data.eval_split,
        metrics=scores.metrics if scores else {},
        allow_no_answer=allow,
        null_threshold=threshold[0] if allow else None,
        null_threshold_source=threshold[1] if allow and threshold[0] is not None else None,
        no_answer_share=scores.no_answer_share if scores else None,
        degenerate_no_answer=bool(scores and scores.degenerate),
        no_answer_auc=scores.no_answer_auc if scores else None,
        span_metrics=(scores.span_metrics or {}) if scores else {},
        settings=_settings(cfg, data),
        train_runtime_s=result.metrics.get("train_runtime"),
        train_samples_per_second=result.metrics.get("train_samples_per_second"),
        global_step=result.global_step,
        world_size=cfg.training.world_size,
        finished_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        hub_model_id=hub_target.repo_id if hub_target else None,
    )


def analysis_or_none(data: QAData, results, scores):
    """What ``train.evaluate`` adds to its files (breakdowns by question type, answer length
    and windows, calibration, the no-answer curve), for training's own evaluation; None, with
    the reason logged, when it cannot be had: the evaluation files are written either way."""
    from collections import Counter

    from qa_core.evaluation.analysis import analyse
    from qa_core.types import Prediction

    try:
        windows = Counter(data.eval_features["example_id"])
        examples = data.eval_examples
        texts = dict(zip(examples["id"], zip(examples["question"], examples["context"])))
        predictions = {
            qid: Prediction(
                answers=res.answers, no_answer=res.no_answer, null_score=res.null_score,
                null_probability=res.null_probability, question=texts[qid][0],
                context=texts[qid][1], n_windows=windows[qid],
            )
            for qid, res in results.items()
        }
        return analyse(predictions, scores.references or {}, scores.predictions,
                       null_threshold=scores.null_threshold)
    except Exception:  # an analysis is a bonus: never lose the evaluation for it
        logger.exception("The evaluation's analysis failed; its scores are written without it.")
        return None


def _final_evaluation(trainer):
    """Spans, scores and timing of the final model; reuses the evaluation the Trainer ran at
    the last step when that is the model we keep (no best checkpoint loaded instead)."""
    state = trainer.state
    kept_last = not trainer.args.load_best_model_at_end or state.best_global_step in (
        None,
        state.global_step,
    )
    if trainer.last_eval is not None and trainer.last_eval[0] == state.global_step and kept_last:
        return trainer.last_eval[1:]
    return trainer.predict_spans()


def push_or_explain(output_dir: Path, repo_id: str, private: bool | None) -> str | None:
    """Push the saved model; on failure log why and the command that pushes it later."""
    from train.push import push_model

    try:
        url = push_model(output_dir, repo_id, private)
    except Exception as exc:  # network, permissions, quota: the model is safe on disk
        logger.error(
            "Pushing to the Hub failed (%s: %s). The model is saved in %s; push it later with:\n"
            "  %s",
            type(exc).__name__,
            exc,
            output_dir,
            push_command(output_dir, repo_id, private),
        )
        return None
    logger.info("Model published at %s", url)
    return url


def setup_logging(is_main: bool) -> None:
    """Readable logs: ours at INFO on the main process; libraries at WARNING."""
    import datasets
    import transformers

    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        level=logging.INFO if is_main else logging.WARNING,
    )
    transformers.utils.logging.set_verbosity_warning()
    datasets.utils.logging.set_verbosity_warning()
    # transformers' own bars ("Writing model shards" on every save) are noise between the log
    # lines; the Trainer's progress bar (--disable-tqdm) and the data bars are not affected.
    transformers.utils.logging.disable_progress_bar()


def main(argv: list[str] | None = None) -> int:
    from qa_core.errors import QAError
    from train.hub import HubAccessError

    try:
        cfg = parse_args(argv)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    setup_logging(cfg.training.process_index == 0)
    try:
        metrics = train(cfg)
    except TrainingStopped as exc:
        logger.warning("%s", exc)
        return 128 + exc.signum
    except HubAccessError as exc:
        print(f"error: {exc}\nNothing was trained.", file=sys.stderr)
        return 2
    except (TrainConfigError, QAError) as exc:  # messages that name the problem and the fix
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if cfg.training.process_index == 0:
        print(json.dumps(metrics, indent=2, default=str))
    for message in metrics.get("failed", []):  # last, where the user looks first
        print(f"error: {message}", file=sys.stderr)
    return 1 if metrics.get("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
