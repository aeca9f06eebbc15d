"""A ``Trainer`` that post-processes logits into answer spans before scoring them.

Evaluation features carry ``example_id`` and ``offset_mapping`` that the model does not take;
the Trainer drops them from the batches, and we use them afterwards to turn the gathered
``(n_features, seq_len)`` logits into spans with ``qa_core.spans`` (the same search the app
uses), then score with both normalisations.

The no-answer threshold is tuned on a held-out slice of the *training* questions
(``threshold_examples``, whole passages kept out of training), never on the evaluation set the
scores are reported for, unless no slice was held out; each score says where its threshold came
from.
"""

from __future__ import annotations

import logging
import math
import time

import datasets
from torch.utils.data import DataLoader, SequentialSampler
from transformers import Trainer
from transformers.trainer_utils import speed_metrics

from qa_core.evaluation.no_answer import best_null_threshold
from qa_core.spans import SpanOptions, postprocess_predictions, references_of
from qa_core.types import SpanResult
from train.scoring import Scores, score_results

logger = logging.getLogger("train.trainer")

def held_out_label(n_questions: int, n_passages: int) -> str:
    """Where a threshold tuned on the held-out slice comes from, in words.

    >>> held_out_label(75, 9)
    'held-out slice of the training data (75 questions, 9 passages not trained on)'
    """
    return (
        f"held-out slice of the training data ({n_questions} questions, {n_passages} "
        "passages not trained on)"
    )


class QATrainer(Trainer):
    """``Trainer`` whose ``evaluate`` reports exact match and F1 of post-processed spans.

    Extra arguments: ``eval_examples`` (the questions, flat schema), ``span_options``
    (``qa_core.spans.SpanOptions``), ``null_threshold`` (None: tuned when
    ``span_options.allow_no_answer``), ``threshold_examples`` and ``threshold_features`` (the
    held-out questions it is tuned on and their evaluation windows; without them, on the
    evaluation set, labelled as such) and ``tune_for`` (the normalisation tuned for).
    ``eval_dataset`` holds the evaluation features of the evaluation questions.
    """

    def __init__(
        self,
        *args,
        eval_examples: datasets.Dataset | None = None,
        span_options: SpanOptions | None = None,
        null_threshold: float | None = None,
        threshold_examples: datasets.Dataset | None = None,
        threshold_features: datasets.Dataset | None = None,
        tune_for: str = "mlqa-vi",
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.eval_examples = eval_examples
        self.span_options = span_options or SpanOptions()
        self.null_threshold = null_threshold
        self.threshold_examples = threshold_examples
        self.threshold_features = threshold_features
        self.tune_for = tune_for
        # (global step, results, scores, timing) of the latest evaluation, so the final model
        # need not be evaluated twice when it is the one just evaluated.
        self.last_eval: tuple | None = None

    def get_eval_dataloader(self, eval_dataset=None) -> DataLoader:
        """Evaluation windows in feature order, whatever ``train_sampling_strategy`` says.

        Logits are matched with their windows' offsets by position, but the Trainer's own
        loader groups evaluation batches by length under ``group_by_length``. Built from public
        parts only: the model's inputs, a sequential sampler, and ``accelerator.prepare``,
        which shards the windows in order and gathers the logits back in order on several
        processes.
        """
        dataset = self.eval_dataset if eval_dataset is None else eval_dataset
        if isinstance(dataset, str):
            dataset = self.eval_dataset[dataset]
        inputs = set(self.processing_class.model_input_names)
        dataset = dataset.remove_columns([c for c in dataset.column_names if c not in inputs])
        loader = DataLoader(
            dataset,
            batch_size=self.args.eval_batch_size,
            sampler=SequentialSampler(dataset),
            collate_fn=self.data_collator,
            num_workers=self.args.dataloader_num_workers,
            pin_memory=self.args.dataloader_pin_memory,
        )
        return self.accelerator.prepare(loader)

    def spans_of(self, examples: datasets.Dataset, features: datasets.Dataset):
        """Span results of ``examples`` from the model's logits on their ``features``, and
        the number of windows run."""
        output = self.evaluation_loop(
            self.get_eval_dataloader(features),
            description="Evaluation",
            prediction_loss_only=False,
            metric_key_prefix="eval",
        )
        start_logits, end_logits = output.predictions  # (n_features, max seq_len), -100 padded
        results = postprocess_predictions(
            examples, features, start_logits, end_logits, self.span_options
        )
        return results, output.num_samples

    def tuned_threshold(self) -> tuple[float | None, str | None]:
        """The no-answer threshold and where it comes from: given, tuned on the held-out
        slice of the training data, or (None, None) when it must be tuned on the evaluation
        set (no slice held out) or no-answer is off."""
        if not self.span_options.allow_no_answer:
            return None, None
        if self.null_threshold is not None:
            return self.null_threshold, "given (--null-threshold)"
        if self.threshold_examples is None or len(self.threshold_examples) == 0:
            return None, None
        results, _ = self.spans_of(self.threshold_examples, self.threshold_features)
        references = references_of(self.threshold_examples)
        threshold = best_null_threshold(results, references, self.tune_for)[0]
        passages = len(set(self.threshold_examples["context"]))
        return threshold, held_out_label(len(self.threshold_examples), passages)

    def predict_spans(self) -> tuple[dict[str, SpanResult], Scores, dict[str, float]]:
        """Run the model over the evaluation features: spans, scores (at the threshold of
        :meth:`tuned_threshold`) and timing metrics."""
        threshold, source = self.tuned_threshold()
        start = time.time()
        results, n_windows = self.spans_of(self.eval_examples, self.eval_dataset)
        scores = score_results(
            results,
            references_of(self.eval_examples),
            allow_no_answer=self.span_options.allow_no_answer,
            null_threshold=threshold,
            tune_for=self.tune_for,
            threshold_source=source or "given",
        )
        batch = self.args.eval_batch_size * self.args.world_size
        timing = speed_metrics(
            "eval", start, num_samples=n_windows, num_steps=math.ceil(n_windows / batch)
        )
        return results, scores, timing

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval"):
        """Exact match and F1 (both normalisations) of the evaluation questions, logged."""
        if eval_dataset is not None:
            raise ValueError(
                "QATrainer.evaluate scores the eval_examples given at construction; build a new "
                "QATrainer to evaluate other data."
            )
        results, scores, timing = self.predict_spans()
        self.last_eval = (self.state.global_step, results, scores, timing)
        metrics = {f"{metric_key_prefix}_{k}": v for k, v in scores.flat().items()}
        metrics.update({k.replace("eval", metric_key_prefix, 1): v for k, v in timing.items()})
        self.log(metrics)
        if scores.degenerate:
            logger.warning("%s", scores.warning("the evaluation set"))
        self.control = self.callback_handler.on_evaluate(
            self.args, self.state, self.control, metrics
        )
        return metrics
