"""Question + context → overlapping token windows, and the training labels inside them.

One set of functions serves training (``prepare_train_features``), evaluation
(``prepare_eval_features``) and the reader (``tokenize_windows``); all are module-level and take
the tokenizer and a ``WindowConfig`` so they work inside ``datasets.map(batched=True)``.

Convention for offsets: context tokens keep their ``(start, end)`` character offsets; every
other token (question, special, padding) gets ``(-1, -1)``, so arrays stay rectangular and a
token is "in the context" exactly when ``offsets[..., 0] >= 0``.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa_core.errors import InputError

logger = logging.getLogger(__name__)

# Special tokens a pair encoding adds at most (XLM-R: <s> q </s></s> c </s>).
_MAX_SPECIAL_TOKENS = 4

_locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


def tokenizer_lock(tokenizer) -> threading.RLock:
    """The lock to hold while calling ``tokenizer``: a fast tokenizer stores its truncation and
    padding settings in the shared Rust object for each call, so two threads calling it at once
    (a server answering concurrent requests) can encode with each other's settings and get
    the wrong windows. Kept beside the tokenizer (weakly), not on it, so it still pickles."""
    with _locks_guard:
        lock = _locks.get(tokenizer)
        if lock is None:
            lock = _locks[tokenizer] = threading.RLock()
        return lock


@dataclass
class WindowConfig:
    """How a long context is cut into windows the model can read."""

    max_length: int = 384  # tokens per window, question and special tokens included
    doc_stride: int = 128  # tokens shared by consecutive windows
    max_question_length: int = 64  # longer questions are truncated with a warning

    def __post_init__(self) -> None:
        if self.max_length < 16:
            raise InputError(
                "max_length={max_length} is too small; use at least 16 (default 384).",
                max_length=self.max_length,
            )
        if self.max_question_length < 1:
            raise InputError("max_question_length must be at least 1 (default 64).")
        room = self.max_length - self.max_question_length - _MAX_SPECIAL_TOKENS
        if room < 1:
            raise InputError(
                "max_length={max_length} leaves no room for the context after a question of up "
                "to max_question_length={max_question_length} tokens; raise max_length or lower "
                "max_question_length.",
                max_length=self.max_length, max_question_length=self.max_question_length,
            )
        if not 0 <= self.doc_stride < room:
            raise InputError(
                "doc_stride={doc_stride} must be between 0 and {most} (the context room left in "
                "a window of max_length={max_length} after a question of "
                "max_question_length={max_question_length} tokens); lower doc_stride (default "
                "128 with max_length 384).", doc_stride=self.doc_stride, most=room - 1,
                max_length=self.max_length, max_question_length=self.max_question_length,
            )


def truncate_questions(
    tokenizer, questions: Sequence[str], max_question_length: int
) -> tuple[list[str], list[bool]]:
    """Strip leading whitespace and cut questions to ``max_question_length`` tokens.

    Leading spaces waste tokens and shift offsets; an over-long question would otherwise leave
    no room for the context and make the tokenizer fail. Returns the questions and, for each,
    whether it was cut (the reader tells the user so).
    """
    questions = [q.lstrip() for q in questions]
    with tokenizer_lock(tokenizer):
        enc = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
    out, cut = [], []
    for q, offsets in zip(questions, enc["offset_mapping"]):
        cut.append(len(offsets) > max_question_length)
        out.append(q[: offsets[max_question_length - 1][1]] if cut[-1] else q)
    if any(cut):
        logger.warning(
            "%d question(s) longer than max_question_length=%d tokens were truncated.",
            sum(cut),
            max_question_length,
        )
    return out, cut


def gives_offsets(tokenizer) -> bool:
    """Whether ``tokenizer`` gives character offsets: a fast (Rust) tokenizer, or an adapter
    that gives them itself (PhoBERT's, ``qa_core.model.phobert``)."""
    return bool(getattr(tokenizer, "is_fast", False) or getattr(tokenizer, "gives_offsets", False))


def segments_words(tokenizer) -> bool:
    """Whether ``tokenizer`` cuts its input into words first (PhoBERT's adapter), and so can be
    told where a word must end (``word_boundaries``) for a gold answer to stay reachable."""
    return bool(getattr(tokenizer, "gives_offsets", False))


def context_index(tokenizer) -> int:
    """Sequence index of the context: second on right-padding tokenizers, first on left ones."""
    return 1 if tokenizer.padding_side == "right" else 0


def tokenize_windows(
    tokenizer,
    questions: Sequence[str],
    contexts: Sequence[str],
    config: WindowConfig,
    **kwargs,
):
    """Tokenize question/context pairs into overlapping windows, questions longer than
    ``config.max_question_length`` tokens cut first (:func:`truncate_questions`).

    Returns the tokenizer's ``BatchEncoding`` with one row per window, its
    ``overflow_to_sample_mapping`` and ``offset_mapping`` masked to context tokens only
    (``(-1, -1)`` elsewhere). Extra ``kwargs`` (e.g. ``padding``, ``return_tensors``) go to the
    tokenizer.
    """
    _require_offsets(tokenizer)
    questions, _ = truncate_questions(tokenizer, questions, config.max_question_length)
    return tokenize_cut_windows(tokenizer, questions, contexts, config, **kwargs)


def tokenize_cut_windows(
    tokenizer,
    questions: Sequence[str],
    contexts: Sequence[str],
    config: WindowConfig,
    **kwargs,
):
    """:func:`tokenize_windows` for questions :func:`truncate_questions` has cut already (the
    reader cuts them itself, to tell the user which were), so they are not tokenized twice."""
    _require_offsets(tokenizer)
    ctx = context_index(tokenizer)
    first, second = (questions, contexts) if ctx == 1 else (contexts, questions)
    with tokenizer_lock(tokenizer):
        enc = tokenizer(
            list(first),
            list(second),
            truncation="only_second" if ctx == 1 else "only_first",
            max_length=config.max_length,
            stride=config.doc_stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            **kwargs,
        )
    enc["offset_mapping"] = mask_offsets(enc, ctx)
    return enc


def _require_offsets(tokenizer) -> None:
    if not gives_offsets(tokenizer):
        raise InputError(
            "Windows need a tokenizer that gives character offsets (a fast tokenizer); load one "
            "with use_fast=True."
        )


def mask_offsets(enc, ctx: int) -> list[list[tuple[int, int]]] | np.ndarray:
    """Offsets of context tokens, ``(-1, -1)`` for all others (question, special, padding)."""
    masked = []
    for i, offsets in enumerate(enc["offset_mapping"]):
        seq_ids = enc.sequence_ids(i)
        masked.append(
            [
                tuple(o) if s == ctx else (-1, -1)
                for o, s in zip(
                    offsets.tolist() if hasattr(offsets, "tolist") else offsets, seq_ids
                )
            ]
        )
    if hasattr(enc["offset_mapping"], "shape"):  # tensors in → array out, same shape
        return np.asarray(masked, dtype=np.int64)
    return masked


def cls_positions(input_ids: Sequence[Sequence[int]], cls_token_id: int | None) -> list[int]:
    """Index of the CLS token in each window (0 when the tokenizer has none)."""
    out = []
    for ids in input_ids:
        ids = list(ids)
        out.append(ids.index(cls_token_id) if cls_token_id in ids else 0)
    return out


def _nfc_examples(contexts, answers=None):
    """NFC contexts (and answers, start offsets moved to match), as the reader feeds the model."""
    new_contexts, new_answers = [], []
    for i, context in enumerate(contexts):
        nfc = unicodedata.normalize("NFC", context)
        new_contexts.append(nfc)
        if answers is None:
            continue
        ans = answers[i]
        if nfc == context:
            new_answers.append(ans)
            continue
        new_answers.append(
            {
                "text": [unicodedata.normalize("NFC", t) for t in ans["text"]],
                "answer_start": [
                    len(unicodedata.normalize("NFC", context[:s])) for s in ans["answer_start"]
                ],
            }
        )
    return new_contexts, (new_answers if answers is not None else None)


def label_window(
    offsets: Sequence[tuple[int, int]], answer_start: int | None, answer_end: int | None, cls: int
) -> tuple[int, int]:
    """Start/end token of a character span inside one window, or ``(cls, cls)`` if it is not
    wholly inside the window's context (or there is no answer).

    >>> offs = [(-1, -1), (-1, -1), (0, 2), (2, 6), (6, 10), (-1, -1)]   # " Hà", " Nội", ...
    >>> label_window(offs, 3, 6, 0)
    (3, 3)
    >>> label_window(offs, 20, 25, 0)
    (0, 0)
    """
    if answer_start is None or answer_end is None:
        return cls, cls
    ctx = [i for i, (s, _) in enumerate(offsets) if s >= 0]
    if not ctx:
        return cls, cls
    first, last = ctx[0], ctx[-1]
    if offsets[first][0] > answer_start or offsets[last][1] < answer_end:
        return cls, cls
    # Last token starting at or before the answer start (offsets may include a leading space).
    start = first
    while start + 1 <= last and offsets[start + 1][0] <= answer_start:
        start += 1
    # First token ending at or after the answer end.
    end = last
    while end - 1 >= first and offsets[end - 1][1] >= answer_end:
        end -= 1
    return start, end


def prepare_train_features(examples: dict, tokenizer, config: WindowConfig) -> dict:
    """Windows with start/end labels for a batch of flat-schema examples (``datasets.map``).

    The first gold answer is the label; windows that do not contain it wholly (and examples
    without answers) point at the CLS token, which is how SQuAD v2 models learn "no answer".
    ``answerable`` tells the two kinds of CLS window apart: the question has an answer (in
    another window) or none at all.

    A tokenizer that segments words (PhoBERT's) is told to end words at the gold answer's
    edges, so the answer is whole tokens; ``split_words`` counts, on each example's first
    window, the words it had to split for that.
    """
    contexts, answers = _nfc_examples(examples["context"], examples["answers"])
    extra = {}
    if segments_words(tokenizer):
        extra["word_boundaries"] = [
            [a["answer_start"][0], a["answer_start"][0] + len(a["text"][0])] if a["text"] else []
            for a in answers]
    enc = tokenize_windows(tokenizer, examples["question"], contexts, config, **extra)
    cls = cls_positions(enc["input_ids"], tokenizer.cls_token_id)
    splits = getattr(enc, "forced_splits", None)
    starts, ends, answerable, split_words = [], [], [], []
    seen = set()
    for i, offsets in enumerate(enc["offset_mapping"]):
        sample = enc["overflow_to_sample_mapping"][i]
        split_words.append(splits[sample] if splits and sample not in seen else 0)
        seen.add(sample)
        ans = answers[sample]
        answerable.append(bool(ans["text"]))
        if ans["text"]:
            a_start = ans["answer_start"][0]
            a_end = a_start + len(ans["text"][0])
        else:
            a_start = a_end = None
        s, e = label_window(offsets, a_start, a_end, cls[i])
        starts.append(s)
        ends.append(e)
    out = {
        k: v for k, v in enc.items() if k not in ("offset_mapping", "overflow_to_sample_mapping")
    }
    out["start_positions"] = starts
    out["end_positions"] = ends
    out["answerable"] = answerable
    out["split_words"] = split_words
    return out


def prepare_eval_features(examples: dict, tokenizer, config: WindowConfig) -> dict:
    """Windows for evaluation: model inputs plus ``example_id``, masked ``offset_mapping`` and
    ``cls_index`` for post-processing. Offsets index the NFC form of the context."""
    contexts, _ = _nfc_examples(examples["context"])
    enc = tokenize_windows(tokenizer, examples["question"], contexts, config)
    sample = enc.pop("overflow_to_sample_mapping")
    enc["example_id"] = [examples["id"][i] for i in sample]
    enc["cls_index"] = cls_positions(enc["input_ids"], tokenizer.cls_token_id)
    enc["offset_mapping"] = [[list(o) for o in offs] for offs in enc["offset_mapping"]]
    return dict(enc)
