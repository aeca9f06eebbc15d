"""A ``Trainer`` that post-processes logits into answer spans before scoring them.

Evaluation features carry ``example_id`` and ``offset_mapping`` that the model does not take;
the Trainer drops them from the batches, and we use them afterwards to turn the gathered
``(n_features, seq_len)`` logits into spans with ``qa_core.spans`` (the same search the app
uses), then score with both normalisations.
"""

from __future__ import annotations

import math
import time

import datasets
from torch.utils.data import SequentialSampler
from transformers import Trainer
from transformers.trainer_utils import speed_metrics

from qa_core.spans import SpanOptions, postprocess_predictions, references_of
from qa_core.types import SpanResult
from train.scoring import Scores, score_results


class QATrainer(Trainer):
    """``Trainer`` whose ``evaluate`` reports exact match and F1 of post-processed spans.

    Extra arguments: ``eval_examples`` (the questions, flat schema), ``span_options``
    (``qa_core.spans.SpanOptions``), ``null_threshold`` (None: tuned on the evaluation set
    when ``span_options.allow_no_answer``) and ``tune_for`` (the normalisation tuned for).
    ``eval_dataset`` holds the evaluation features of those questions.
    """

    def __init__(
        self,
        *args,
        eval_examples: datasets.Dataset | None = None,
        span_options: SpanOptions | None = None,
        null_threshold: float | None = None,
        tune_for: str = "mlqa-vi",
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.eval_examples = eval_examples
        self.span_options = span_options or SpanOptions()
        self.null_threshold = null_threshold
        self.tune_for = tune_for
        # (global step, results, scores, timing) of the latest evaluation, so the final model
        # need not be evaluated twice when it is the one just evaluated.
        self.last_eval: tuple | None = None

    def _get_eval_sampler(self, eval_dataset):
        # Logits must come back in feature order to be matched with their offsets; the parent
        # shuffles evaluation batches by length under train_sampling_strategy="group_by_length".
        if self.args.world_size <= 1:
            return SequentialSampler(eval_dataset)
        return None  # accelerate shards the dataset in order and gathers it back in order

    def predict_spans(self) -> tuple[dict[str, SpanResult], Scores, dict[str, float]]:
        """Run the model over the evaluation features: spans, scores and timing metrics."""
        start = time.time()
        features = self.eval_dataset
        output = self.evaluation_loop(
            self.get_eval_dataloader(features),
            description="Evaluation",
            prediction_loss_only=False,
            metric_key_prefix="eval",
        )
        start_logits, end_logits = output.predictions  # (n_features, max seq_len), -100 padded
        results = postprocess_predictions(
            self.eval_examples, features, start_logits, end_logits, self.span_options
        )
        scores = score_results(
            results,
            references_of(self.eval_examples),
            allow_no_answer=self.span_options.allow_no_answer,
            null_threshold=self.null_threshold,
            tune_for=self.tune_for,
        )
        batch = self.args.eval_batch_size * self.args.world_size
        timing = speed_metrics(
            "eval",
            start,
            num_samples=output.num_samples,
            num_steps=math.ceil(output.num_samples / batch),
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
        self.control = self.callback_handler.on_evaluate(
            self.args, self.state, self.control, metrics
        )
        return metrics
