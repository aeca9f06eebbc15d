"""The reader: a checkpoint + tokenizer that turns questions and passages into ranked spans.

``load_reader`` loads any checkpoint with a fast tokenizer and a QA head (Hub id or local
directory, see ``qa_core.model.loading``) once per process; ``Reader.answer`` runs all windows of a
question in one batch under ``torch.inference_mode`` and hands the logits to the pure span
search in ``spans``. A checkpoint trained here answers with the windows and no-answer threshold
it saved (``reader.defaults``) unless a call says otherwise.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa_core.answer_options import (
    LIBRARY_DEFAULTS,
    AnswerOptions,
    trained_defaults,
    window_limit,
)
from qa_core.errors import InputError, Phrase
from qa_core.heatmap import token_scores
from qa_core.model.loading import load_checkpoint
from qa_core.model.precision import (
    default_device,
    half_precision_matmuls,
    inputs_to,
    matmuls_only,
    resolve_dtype,
)
from qa_core.spans import find_spans_batch, map_answer
from qa_core.textnorm import is_blank, to_nfc
from qa_core.types import Prediction, TokenScore
from qa_core.windows import tokenize_cut_windows, truncate_questions

logger = logging.getLogger(__name__)


class Reader:
    """A QA checkpoint ready to answer questions about Vietnamese (or any) passages."""

    def __init__(
        self,
        model,
        tokenizer,
        checkpoint: str = "",
        device: str = "cpu",
        dtype=None,
        defaults: AnswerOptions | None = None,
        defaults_source: str = "",
        warnings: Sequence[str] = (),
    ):
        """``defaults``: the options of calls that do not give them (``build_reader`` reads a
        checkpoint's ``viqa_training.json``); ``defaults_source`` says where they come from;
        ``warnings`` go on every prediction (an untrained QA head)."""
        import torch

        self.checkpoint = checkpoint
        self.defaults = defaults if defaults is not None else AnswerOptions()
        self.defaults_source = defaults_source or LIBRARY_DEFAULTS
        self.warnings = tuple(warnings)
        self.trained = None  # the TrainedSettings behind ``defaults``; build_reader sets it
        self.device = device
        self.dtype = dtype if dtype is not None else torch.float32
        self.tokenizer = tokenizer
        half = self.dtype in (torch.bfloat16, torch.float16)
        if self.dtype == torch.qint8:  # float32 with one warning when it cannot be quantized
            from qa_core.model.quantize import int8_or_float32  # imports torch: not at import time

            self.model, self.dtype = int8_or_float32(model, checkpoint)
        elif matmuls_only(device, self.dtype):
            self.model = half_precision_matmuls(model.float(), self.dtype).eval()
        else:
            self.model = model.to(device=device, dtype=self.dtype).eval()
        head = getattr(self.model, "qa_outputs", None)
        if head is not None and half:
            # The 2-logit head in float32: reduced-precision logits are so coarse that distinct
            # spans tie; in float32 they rank like the float32 model's far more often.
            head.float()
            head.register_forward_pre_hook(inputs_to(torch.float32))
        self._input_names = set(tokenizer.model_input_names)
        self._lock = threading.Lock()  # one forward at a time: torch uses all cores anyway

    def __repr__(self) -> str:
        return f"Reader({self.checkpoint!r}, device={self.device!r}, dtype={self.dtype})"

    @property
    def precision(self) -> Phrase:
        """How the forward pass computes, e.g. ``float32`` or ``bfloat16 matmuls, float32
        elsewhere`` (the CPU half-precision mode)."""
        name = str(self.dtype).replace("torch.", "")
        if name == "qint8":
            from qa_core.model.quantize import int8_activation_scales

            if int8_activation_scales(self.model) == "token":
                return Phrase("int8 linear layers (dynamic, one scale per token), float32 elsewhere")
            return Phrase("int8 linear layers (dynamic, one scale per batch), float32 elsewhere")
        if matmuls_only(self.device, self.dtype):
            return Phrase("{dtype} matmuls, float32 elsewhere", dtype=name)
        return Phrase("{dtype}", dtype=name)

    def describe_defaults(self) -> str:
        """Which answer settings are in force when a call gives none, and where they come
        from, e.g. ``as trained (viqa_training.json): windows of 256 tokens (stride 64), ...``."""
        return f"{self.defaults_source}: {self.defaults.describe()}"

    # ---- public API ----------------------------------------------------------------------
    def answer(
        self,
        question: str,
        context: str,
        top_n: int | None = None,
        max_answer_length: int | None = None,
        max_length: int | None = None,
        doc_stride: int | None = None,
        allow_no_answer: bool | None = None,
        null_threshold: float | None = None,
        max_question_length: int | None = None,
        *,
        include_tokens: bool = False,
    ) -> Prediction:
        """Ranked answer spans of ``question`` in ``context``; offsets index ``context`` as given.

        Options left at ``None`` come from ``self.defaults`` (the checkpoint's trained settings,
        else 5 answers of up to 30 tokens, windows of 384 tokens with stride 128, no-answer off).
        ``include_tokens`` fills ``Prediction.tokens``, the per-token evidence a heatmap shows
        (left out otherwise: most callers show none, and it costs time on long contexts).
        """
        options = self.defaults.with_overrides(
            top_n=top_n,
            max_answer_length=max_answer_length,
            max_length=max_length,
            doc_stride=doc_stride,
            allow_no_answer=allow_no_answer,
            null_threshold=null_threshold,
            max_question_length=max_question_length,
        )
        return self._predict([question], [context], options, batch_size=None, progress=False,
                             include_tokens=include_tokens)[0]

    def answer_batch(
        self,
        questions: Sequence[str],
        contexts: Sequence[str],
        *,
        batch_size: int = 32,
        progress: bool = False,
        include_tokens: bool = False,
        **options,
    ) -> list[Prediction]:
        """``answer`` for many questions (same options, same defaults); windows run in
        batches of ``batch_size``."""
        if len(questions) != len(contexts):
            raise InputError(
                "Got {questions} questions but {contexts} contexts; pass one context per "
                "question (repeat a context for several questions).",
                questions=len(questions), contexts=len(contexts),
            )
        return self._predict(
            questions, contexts, self.defaults.with_overrides(**options), batch_size, progress,
            include_tokens,
        )

    # ---- internals -----------------------------------------------------------------------
    def _predict(self, questions, contexts, options: AnswerOptions, batch_size, progress,
                 include_tokens: bool):
        for q, c in zip(questions, contexts):
            validate_text(q, c)
        if not questions:
            return []
        window_cfg, span_opts = options.windows(), options.spans()
        norm_ctx = [to_nfc(c) for c in contexts]
        # Cut here, before the windows, to tell the user which questions were cut.
        norm_q, cut = truncate_questions(
            self.tokenizer, [to_nfc(q).text for q in questions], window_cfg.max_question_length
        )
        enc = tokenize_cut_windows(
            self.tokenizer,
            norm_q,
            [n.text for n in norm_ctx],
            window_cfg,
            padding="longest",
            return_tensors="np",
        )
        offsets = np.asarray(enc["offset_mapping"], dtype=np.int64)  # (F, L, 2)
        feature_example = np.asarray(enc["overflow_to_sample_mapping"], dtype=np.int64)
        inputs = {k: v for k, v in enc.items() if k in self._input_names}
        start, end = self._forward(inputs, batch_size, progress)  # (F, L) float32
        cls = (
            np.argmax(enc["input_ids"] == self.tokenizer.cls_token_id, axis=1)
            if (self.tokenizer.cls_token_id is not None)
            else np.zeros(len(offsets), dtype=np.int64)
        )
        results = find_spans_batch(
            start, end, offsets, feature_example, [n.text for n in norm_ctx], span_opts, cls
        )
        predictions = []
        for ex, (res, norm) in enumerate(zip(results, norm_ctx)):
            rows = feature_example == ex
            tokens = []
            if include_tokens:
                tokens = token_scores(start[rows], end[rows], offsets[rows], norm.text)
            if not norm.is_identity:
                res.answers = [map_answer(a, norm) for a in res.answers]
                tokens = [_map_token(t, norm) for t in tokens]
            predictions.append(
                Prediction(
                    answers=res.answers,
                    no_answer=res.no_answer,
                    null_score=res.null_score,
                    null_probability=res.null_probability,
                    question=questions[ex],
                    context=contexts[ex],
                    tokens=tokens,
                    n_windows=int(rows.sum()),
                    checkpoint=self.checkpoint,
                    warnings=[
                        *self.warnings,
                        *(_truncated(norm_q[ex], options) if cut[ex] else ()),
                        *self._no_answer_warning(res, options),
                    ],
                )
            )
        return predictions

    def _no_answer_warning(self, result, options: AnswerOptions) -> list[str]:
        """The trained threshold's degenerate warning, on a "no answer" it decided."""
        trained = self.trained
        if (result.no_answer and trained is not None and trained.no_answer_warning
                and options.null_threshold == trained.null_threshold):
            return [trained.no_answer_warning]
        return []

    def _forward(self, inputs: dict, batch_size: int | None, progress: bool):
        """Start/end logits of every window, ``(n_windows, seq_len)`` float32 numpy arrays."""
        import torch

        n = len(next(iter(inputs.values())))
        step = batch_size if batch_size else n
        mask = inputs["attention_mask"]
        order = np.argsort(-mask.sum(axis=1), kind="stable")  # similar lengths batch together
        starts = np.zeros(mask.shape, dtype=np.float32)
        ends = np.zeros(mask.shape, dtype=np.float32)
        batches = range(0, n, step)
        if progress:
            from tqdm.auto import tqdm

            batches = tqdm(batches, desc="Answering", unit="batch")
        with self._lock, torch.inference_mode():
            for b in batches:
                idx = order[b : b + step]
                width = int(mask[idx].sum(axis=1).max()) if mask[idx].any() else mask.shape[1]
                # Right-padded windows can be cut to their longest member; left-padded ones
                # keep the full width so positions stay aligned.
                cols = slice(0, width) if self.tokenizer.padding_side == "right" else slice(None)
                batch = {
                    k: torch.from_numpy(np.ascontiguousarray(v[idx][:, cols])).to(self.device)
                    for k, v in inputs.items()
                }
                out = self.model(**batch)
                s = out.start_logits.float().cpu().numpy()
                e = out.end_logits.float().cpu().numpy()
                starts[idx, : s.shape[1]] = s
                ends[idx, : e.shape[1]] = e
        return starts, ends


def _truncated(kept: str, options: AnswerOptions) -> tuple[Phrase]:
    """What an answer to a question cut to ``options.max_question_length`` tokens must say."""
    return (Phrase(
        "The question is longer than {limit} tokens, so only its start was read: “{kept}”. "
        "Shorten the question, or raise max_question_length.",
        limit=options.max_question_length, kept=kept,
    ),)


def _map_token(token: TokenScore, norm) -> TokenScore:
    s, e = norm.to_original(token.start, token.end)
    s, e = int(s), int(e)
    return TokenScore(
        norm.original[s:e],
        s,
        e,
        token.start_prob,
        token.end_prob,
        token.start_logit,
        token.end_logit,
    )


def validate_text(question, context) -> None:
    """Reject input no reader can answer, with a message that says what to change."""
    if not isinstance(question, str) or not isinstance(context, str):
        raise InputError(
            "Question and context must be text; got {question} and {context}.",
            question=type(question).__name__, context=type(context).__name__,
        )
    if is_blank(question):
        raise InputError("The question is empty: type a question about the passage.")
    if is_blank(context):
        raise InputError("The context is empty: paste the passage that holds the answer.")


# ---------------------------------------------------------------------------------------------
# Process-wide cache
# ---------------------------------------------------------------------------------------------
_CACHE: dict[tuple, Reader] = {}
_CACHE_LOCK = threading.Lock()


def build_reader(checkpoint: str | Path, device: str | None = None, dtype=None) -> Reader:
    """A new ``Reader`` for ``checkpoint`` (Hub id or local directory), outside any cache.

    ``device`` defaults to cuda, then mps, then cpu; ``dtype`` to what the hardware runs
    natively (bfloat16 on GPUs and on CPUs with AVX512-BF16/AMX, float32 elsewhere). The
    reader's default answer options are the checkpoint's trained ones (``viqa_training.json``).
    Logs one line: what was loaded, its size, precision and answer settings.
    """
    import torch

    device = device or default_device()
    torch_dtype = resolve_dtype(dtype, device)
    # Matmuls-only and int8 readers load float32 weights; the Reader converts their linear
    # layers (int8: one at a time, giving back each float32 layer's memory as it goes).
    converted = matmuls_only(device, torch_dtype) or torch_dtype == torch.qint8
    loaded = load_checkpoint(str(checkpoint), torch.float32 if converted else torch_dtype)
    trained = loaded.trained
    defaults, source = trained_defaults(trained, window_limit(
        loaded.config.model_type, getattr(loaded.config, "max_position_embeddings", None)))
    reader = Reader(
        loaded.model, loaded.tokenizer, str(checkpoint), device, torch_dtype,
        defaults=defaults, defaults_source=source, warnings=loaded.warnings(),
    )
    reader.trained = trained
    logger.info("%s; answers %s", loaded.summary(reader.precision, device), reader.describe_defaults())
    return reader


def load_reader(checkpoint: str | Path, device: str | None = None, dtype=None) -> Reader:
    """``build_reader`` once per process: later calls with the same arguments share it."""
    device = device or default_device()
    key = (str(checkpoint), device, str(resolve_dtype(dtype, device)))
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
    reader = build_reader(checkpoint, device, dtype)
    with _CACHE_LOCK:
        return _CACHE.setdefault(key, reader)


def clear_reader_cache() -> None:
    """Forget every loaded reader (frees their memory once no one else holds them)."""
    with _CACHE_LOCK:
        _CACHE.clear()
