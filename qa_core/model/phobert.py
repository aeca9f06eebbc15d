"""PhoBERT for extractive QA: its slow BPE tokenizer, with character offsets in the user's text.

PhoBERT (``vinai/phobert-base``, ``-large``, ``-base-v2``) reads word-segmented text, the
syllables of a word joined by "_" ("Hà_Nội là thủ_đô"), and ships only ``PhobertTokenizer``
(fastBPE in Python), which gives no offsets. ``PhobertOffsetTokenizer`` wraps a loaded one:

1. each text is segmented into words placed on the text itself (``qa_core.segmentation``); the
   segmenter reads the text as written, the placement its training data had;
2. each word is written as PhoBERT's pre-training text wrote it, character by character from
   the original: NFC, tone marks placed as VnCoreNLP does ("hòa" -> "hoà"), each whitespace run
   inside the word -> one "_" (a *joiner*), invisible spaces likewise;
3. the word goes through the wrapped tokenizer's own ``bpe``, so the ids are exactly those
   ``PhobertTokenizer`` gives for the segmented text (``model_text``);
4. each piece's offsets are the span of original characters it came from: from its first to
   its last non-joiner character, so no piece covers the whitespace around it; a piece that is
   nothing but a joiner spans that whitespace (span search trims it, as it trims the lone "▁"
   of a SentencePiece model).

Calling the adapter answers what ``qa_core.windows`` asks of a fast tokenizer: pairs cut into
overlapping windows (``only_second`` truncation with a stride, exactly as the Rust tokenizers
cut them), offsets, ``overflow_to_sample_mapping`` and ``sequence_ids``. For training it also
takes ``word_boundaries``: character positions where a word must be cut so a gold answer's
start and end are token boundaries.
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import BatchEncoding

from qa_core.errors import BrokenCheckpointError, InputError
from qa_core.model import folders
from qa_core.segmentation import (
    DEFAULT_SEGMENTER,
    check_segmenter,
    clusters,
    move_tones,
    segment,
    segmenter_version,
)
from qa_core.textnorm import is_space

# max_position_embeddings is 258 and RoBERTa's position ids start after the padding index (1),
# so a window holds at most 256 tokens, special tokens included.
MAX_WINDOW_TOKENS = 256
_PAIR_SPECIALS = 4  # <s> A </s></s> B </s>
_NO_SPAN = (0, 0)  # offsets of special and padding tokens, as fast tokenizers give them
# Keys this adapter adds to tokenizer_config.json, so a fine-tuned model is read as it was trained.
SEGMENTER_KEY = "word_segmenter"
TONES_KEY = "move_tones"

Span = tuple[int, int]


@dataclass(frozen=True)
class EncodedText:
    """One text as PhoBERT pieces (``"Hà_@@"``, ``"Nội"``), their ids and their
    ``(start, end)`` spans in the text."""

    pieces: tuple[str, ...]
    ids: tuple[int, ...]
    offsets: tuple[Span, ...]
    fallbacks: int = 0  # stretches the segmenter could not be aligned on (plain syllables there)
    splits: int = 0  # words cut by forced boundaries


@dataclass
class _Row:
    """One encoded sequence or window: per token its id, offsets, sequence (0, 1, ``None``)
    and attention (0 for padding)."""

    sample: int
    ids: list[int]
    offsets: list[Span]
    sequence_ids: list[int | None]
    attention: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.attention = self.attention or [1] * len(self.ids)


class PhobertEncoding(BatchEncoding):
    """The adapter's output: a ``BatchEncoding`` that also knows, without a Rust encoding,
    which sequence each token belongs to (``sequence_ids``), and per input sample how many
    stretches fell back to plain syllables and how many words forced boundaries cut."""

    def __init__(self, data: dict, rows: list[_Row], fallbacks: list[int], splits: list[int],
                 tensor_type: str | None = None, n_sequences: int | None = None):
        super().__init__(data, tensor_type=tensor_type, n_sequences=n_sequences)
        self._sequence_ids = [row.sequence_ids for row in rows]
        self.alignment_fallbacks = fallbacks
        self.forced_splits = splits

    def sequence_ids(self, batch_index: int = 0) -> list[int | None]:
        """``None`` for special and padding tokens, 0 for the first text, 1 for the second."""
        return list(self._sequence_ids[batch_index])

    def __getstate__(self):
        return {**super().__getstate__(), "extra": (self._sequence_ids, self.alignment_fallbacks,
                                                    self.forced_splits)}

    def __setstate__(self, state):
        super().__setstate__(state)
        self._sequence_ids, self.alignment_fallbacks, self.forced_splits = state["extra"]


def model_form(text: str, tones: bool = True) -> tuple[str, list[Span]]:
    """``text`` with its characters as PhoBERT's pre-training text had them (each cluster NFC,
    tone marks moved when ``tones``), and the span of ``text`` each character came from: its
    own where NFC leaves the cluster as it is, else the whole cluster. The tone rewrite keeps
    positions, so the two lists stay aligned character by character.

    >>> form, spans = model_form(unicodedata.normalize("NFD", "hòa"))
    >>> form, spans
    ('hoà', [(0, 1), (1, 3), (3, 4)])
    """
    chars: list[str] = []
    spans: list[Span] = []
    for start, end in clusters(text):
        nfc = unicodedata.normalize("NFC", text[start:end])
        chars += nfc
        if nfc == text[start:end]:
            spans += [(i, i + 1) for i in range(start, end)]
        else:  # composed: its characters cannot be told apart in the text
            spans += [(start, end)] * len(nfc)
    form = "".join(chars)
    return (move_tones(form) if tones else form), spans


def window_ranges(n_tokens: int, room: int, stride: int) -> list[Span]:
    """``(start, stop)`` token ranges of the windows a context of ``n_tokens`` is cut into when
    each holds ``room`` of its tokens and consecutive windows share ``stride``: the same cut as
    the Rust tokenizers' ``only_second`` truncation with overflowing tokens.

    >>> window_ranges(10, 4, 1)
    [(0, 4), (3, 7), (6, 10)]
    >>> window_ranges(3, 4, 1)
    [(0, 3)]
    """
    if n_tokens <= room:
        return [(0, n_tokens)]
    out = []
    for start in range(0, n_tokens, room - stride):
        out.append((start, min(start + room, n_tokens)))
        if start + room >= n_tokens:
            break
    return out


class PhobertOffsetTokenizer:
    """A loaded ``PhobertTokenizer`` that segments its input and gives character offsets.

    ``segmenter`` is one of ``qa_core.segmentation.SEGMENTERS``; ``tones`` moves tone marks as
    PhoBERT's pre-training text had them. Anything not defined here (``decode``,
    ``convert_ids_to_tokens``, special tokens, ``vocab_size``) is the wrapped tokenizer's.
    Safe to call from several threads: a call changes no state but caches (the segmentation
    cache is thread-safe, the wrapped tokenizer's per-word BPE cache only ever gains entries).
    """

    is_fast = False  # no Rust tokenizer inside ...
    gives_offsets = True  # ... yet it gives what windows need from one
    padding_side = "right"  # the context is the second sequence

    def __init__(self, tokenizer, segmenter: str = DEFAULT_SEGMENTER, tones: bool = True):
        self.tokenizer = tokenizer
        self.segmenter = check_segmenter(segmenter)
        self.tones = tones
        # A snapshot of the vocabulary (added <mask> included): convert_tokens_to_ids per piece
        # without the per-call overhead.
        self._vocab: dict[str, int] = tokenizer.get_vocab()
        self._unk: int = tokenizer.unk_token_id

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike, segmenter: str | None = None,
                        tones: bool | None = None, **kwargs: Any) -> PhobertOffsetTokenizer:
        """Load ``PhobertTokenizer`` from ``path`` (``kwargs`` go to its ``from_pretrained``)
        and wrap it with the segmenter and tone setting saved beside it by ``save_pretrained``,
        unless given here (defaults: underthesea, tones moved)."""
        from transformers import PhobertTokenizer

        tokenizer = PhobertTokenizer.from_pretrained(path, **kwargs)
        saved = tokenizer.init_kwargs
        return cls(
            tokenizer,
            segmenter=segmenter or saved.get(SEGMENTER_KEY, DEFAULT_SEGMENTER),
            tones=saved.get(TONES_KEY, True) if tones is None else tones,
        )

    def __getattr__(self, name: str):
        # Only reached for names not defined here; private names are never delegated, so
        # pickling and copying see this object as it is.
        if name.startswith("_") or name == "tokenizer":
            raise AttributeError(name)
        return getattr(self.tokenizer, name)

    def __len__(self) -> int:
        return len(self.tokenizer)

    @property
    def model_input_names(self) -> list[str]:
        return ["input_ids", "attention_mask"]  # PhoBERT has one segment: no token_type_ids

    @property
    def model_max_length(self) -> int:
        return min(self.tokenizer.model_max_length, MAX_WINDOW_TOKENS)

    # ---- one text ----------------------------------------------------------------------------
    def encode_text(self, text: str, word_boundaries: Sequence[int] = ()) -> EncodedText:
        """``text`` as pieces with their ids and spans in ``text``, a word boundary forced at
        each of ``word_boundaries``."""
        segmentation, words = self._model_words(text, word_boundaries)
        pieces: list[str] = []
        offsets: list[Span] = []
        for word, spans, joiner in words:
            word_pieces = self.tokenizer.bpe(word).split(" ")
            pieces += word_pieces
            offsets += _piece_offsets(word, word_pieces, spans, joiner)
        return EncodedText(
            pieces=tuple(pieces),
            ids=tuple(self._vocab.get(p, self._unk) for p in pieces),
            offsets=tuple(offsets),
            fallbacks=segmentation.fallbacks,
            splits=segmentation.splits,
        )

    def model_text(self, text: str, word_boundaries: Sequence[int] = ()) -> str:
        """The segmented text PhoBERT reads for ``text`` ("Hà_Nội là thủ_đô"): the adapter's ids
        are ``PhobertTokenizer``'s ids for it."""
        return " ".join(word for word, _, _ in self._model_words(text, word_boundaries)[1])

    def _model_words(self, text: str, word_boundaries: Sequence[int]):
        """The segmentation of ``text`` and each word's model form (see ``_word``)."""
        segmentation = segment(text, self.segmenter, word_boundaries)
        form, char_spans = model_form(text, self.tones)
        at = _form_index(char_spans, len(text))
        words = [_word(form, char_spans, at[s], at[e]) for s, e in segmentation.spans]
        return segmentation, words

    # ---- what windows.py calls -----------------------------------------------------------------
    def __call__(
        self,
        text: str | Sequence[str],
        text_pair: str | Sequence[str] | None = None,
        *,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        stride: int = 0,
        return_tensors: str | None = None,
        return_attention_mask: bool = True,
        return_token_type_ids: bool = False,
        return_overflowing_tokens: bool = False,
        return_offsets_mapping: bool = False,
        word_boundaries: Sequence[Sequence[int]] | None = None,
    ) -> PhobertEncoding:
        """Encode texts or (question, context) pairs as a fast tokenizer would.

        Pairs are ``<s> A </s></s> B </s>``. ``truncation="only_second"`` with ``max_length``
        cuts B into windows that each hold all of A and share ``stride`` tokens with the next
        (all of them with ``return_overflowing_tokens``, else the first). ``word_boundaries``
        holds, per sample, character positions of B (of the text, for single texts) where a
        word must be cut. Offsets index each sample's own text; specials and padding get
        ``(0, 0)``.
        """
        batched = not isinstance(text, str)
        firsts = list(text) if batched else [text]
        seconds = None
        if text_pair is not None:
            seconds = list(text_pair) if batched else [text_pair]
            if len(seconds) != len(firsts):
                raise ValueError(f"{len(firsts)} texts but {len(seconds)} text pairs")
        truncate = _truncates(truncation, seconds is not None)
        if truncate:
            max_length = self._check_max_length(max_length)
        boundaries = list(word_boundaries) if word_boundaries is not None else [()] * len(firsts)
        if len(boundaries) != len(firsts):
            raise ValueError(f"{len(firsts)} samples but {len(boundaries)} word_boundaries")

        rows, fallbacks, splits = [], [], []
        for i, first in enumerate(firsts):
            if seconds is None:
                a, b = self.encode_text(first, boundaries[i] or ()), None
            else:
                a, b = self.encode_text(first), self.encode_text(seconds[i], boundaries[i] or ())
            fallbacks.append(a.fallbacks + (b.fallbacks if b else 0))
            splits.append((b or a).splits)
            rows += self._rows(i, a, b, add_special_tokens, max_length if truncate else None,
                               stride, return_overflowing_tokens)

        rows = _padded(rows, padding, max_length, self.tokenizer.pad_token_id)
        data: dict[str, list] = {"input_ids": [r.ids for r in rows]}
        if return_token_type_ids:
            data["token_type_ids"] = [[0] * len(r.ids) for r in rows]
        if return_attention_mask:
            data["attention_mask"] = [r.attention for r in rows]
        if return_offsets_mapping:
            data["offset_mapping"] = [r.offsets for r in rows]
        if return_overflowing_tokens:
            data["overflow_to_sample_mapping"] = [r.sample for r in rows]
        if not batched and not return_overflowing_tokens and return_tensors is None:
            data = {key: value[0] for key, value in data.items()}
        return PhobertEncoding(data, rows, fallbacks, splits, tensor_type=return_tensors,
                               n_sequences=1 if seconds is None else 2)

    def _check_max_length(self, max_length: int | None) -> int:
        if max_length is None:
            return self.model_max_length
        if max_length > MAX_WINDOW_TOKENS:
            raise InputError(
                "max_length={max_length} is longer than PhoBERT's windows of {limit} tokens "
                "(its position embeddings end there); use max_length={limit} or less.",
                max_length=max_length, limit=MAX_WINDOW_TOKENS,
            )
        return max_length

    def _rows(self, sample: int, a: EncodedText, b: EncodedText | None, specials: bool,
              max_length: int | None, stride: int, overflowing: bool) -> list[_Row]:
        """The sequence (or windows) of one sample, before padding."""
        cls, sep = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        a_ids, a_offsets = list(a.ids), list(a.offsets)
        if b is None:
            if not specials:
                return [_Row(sample, a_ids, a_offsets, [0] * len(a_ids))]
            return [_Row(sample, [cls, *a_ids, sep], [_NO_SPAN, *a_offsets, _NO_SPAN],
                         [None, *[0] * len(a_ids), None])]
        ranges = [(0, len(b.ids))]
        if max_length is not None:
            room = max_length - len(a_ids) - (_PAIR_SPECIALS if specials else 0)
            if len(b.ids) > room and not 0 <= stride < room:
                raise InputError(
                    "A window of max_length={max_length} tokens has room for {room} passage "
                    "tokens after this question ({question} tokens); doc_stride={stride} must "
                    "be smaller than that. Shorten the question, lower doc_stride or raise "
                    "max_length (at most {limit}).",
                    max_length=max_length, room=max(room, 0), question=len(a_ids),
                    stride=stride, limit=MAX_WINDOW_TOKENS,
                )
            ranges = window_ranges(len(b.ids), room, stride)
            ranges = ranges if overflowing else ranges[:1]
        rows = []
        for start, stop in ranges:
            b_ids, b_offsets = list(b.ids[start:stop]), list(b.offsets[start:stop])
            if specials:
                ids = [cls, *a_ids, sep, sep, *b_ids, sep]
                offsets = [_NO_SPAN, *a_offsets, _NO_SPAN, _NO_SPAN, *b_offsets, _NO_SPAN]
                seq = [None, *[0] * len(a_ids), None, None, *[1] * len(b_ids), None]
            else:
                ids, offsets = a_ids + b_ids, a_offsets + b_offsets
                seq = [*[0] * len(a_ids), *[1] * len(b_ids)]
            rows.append(_Row(sample, ids, offsets, seq))
        return rows

    # ---- what training and saving call ---------------------------------------------------------
    def pad(self, *args: Any, **kwargs: Any):
        """The wrapped tokenizer's ``pad`` (``DataCollatorWithPadding`` calls it), on the right."""
        kwargs.setdefault("padding_side", self.padding_side)
        return self.tokenizer.pad(*args, **kwargs)

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs: Any) -> tuple[str, ...]:
        """The wrapped tokenizer's files (``vocab.txt``, ``bpe.codes``,
        ``tokenizer_config.json``), the segmenter and tone setting added to the config so
        ``from_pretrained`` reads the text the way the model was trained on it."""
        files = self.tokenizer.save_pretrained(save_directory, **kwargs)
        config_path = Path(save_directory) / "tokenizer_config.json"
        config = json.loads(config_path.read_text(encoding="utf-8"))
        config.update({SEGMENTER_KEY: self.segmenter, TONES_KEY: self.tones})
        config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n",
                               encoding="utf-8")
        return tuple(files)

    def cache_state(self) -> dict[str, Any]:
        """What decides the ids and offsets this adapter gives, for keys of caches of its output
        (what a fast tokenizer's serialised ``tokenizer.json`` is for): vocabulary, merges,
        segmenter and its version, tone placement."""
        merges = sorted(self.tokenizer.bpe_ranks, key=self.tokenizer.bpe_ranks.get)
        return {
            "class": type(self).__name__,
            "vocab": _digest(sorted(self._vocab.items(), key=lambda item: item[1])),
            "merges": _digest(merges),
            "segmenter": self.segmenter,
            "segmenter_version": segmenter_version(self.segmenter),
            "tones": self.tones,
        }


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False).encode("utf-8")).hexdigest()


def _truncates(truncation: bool | str | None, pair: bool) -> bool:
    """Whether windows are cut: only ``"only_second"`` truncation of pairs is implemented (what
    ``qa_core.windows`` uses); other strategies are refused rather than ignored."""
    if truncation in (None, False, "do_not_truncate"):
        return False
    if truncation == "only_second" and pair:
        return True
    raise ValueError(
        f"PhobertOffsetTokenizer implements truncation='only_second' of (question, context) "
        f"pairs only; got truncation={truncation!r} for {'pairs' if pair else 'single texts'}."
    )


def _padded(rows: list[_Row], padding: bool | str, max_length: int | None, pad_id: int):
    """``rows`` padded on the right: to the longest (``True``/``"longest"``), to ``max_length``
    (``"max_length"``), or not at all."""
    if padding in (False, None, "do_not_pad"):
        return rows
    if padding in (True, "longest"):
        width = max((len(r.ids) for r in rows), default=0)
    elif padding == "max_length" and max_length is not None:
        width = max_length
    else:
        raise ValueError(f"padding={padding!r} is not supported (use 'longest' or 'max_length' "
                         "with max_length, or False).")
    out = []
    for r in rows:
        extra = max(width - len(r.ids), 0)
        out.append(_Row(r.sample, r.ids + [pad_id] * extra, r.offsets + [_NO_SPAN] * extra,
                        r.sequence_ids + [None] * extra, r.attention + [0] * extra))
    return out


def _form_index(char_spans: list[Span], text_length: int) -> dict[int, int]:
    """Position in the model form of each character start of the text that begins one (every
    cluster boundary among them: words start and end on one), from ``model_form``'s spans."""
    at = {text_length: len(char_spans)}
    for k in range(len(char_spans) - 1, -1, -1):
        at[char_spans[k][0]] = k  # the last write for a start is its first character
    return at


def _word(form: str, char_spans: list[Span], lo: int, hi: int):
    """The model form of one word (``form[lo:hi]``, each whitespace run -> one "_" joiner), with
    each character's span in the text and whether it is a joiner."""
    chars: list[str] = []
    spans: list[Span] = []
    joiner: list[bool] = []
    for k in range(lo, hi):
        if not is_space(form[k]):
            chars.append(form[k])
            spans.append(char_spans[k])
            joiner.append(False)
        elif joiner and joiner[-1]:  # the run goes on: the joiner spans it all
            spans[-1] = (spans[-1][0], char_spans[k][1])
        else:
            chars.append("_")
            spans.append(char_spans[k])
            joiner.append(True)
    return "".join(chars), spans, joiner


def _piece_offsets(word: str, pieces: list[str], spans: list[Span], joiner: list[bool]):
    """The span in the text of each BPE piece of ``word``: from its first to its last
    non-joiner character (a piece of nothing but a joiner spans the whitespace)."""
    offsets = []
    k = 0
    for i, piece in enumerate(pieces):
        # bpe marks every piece but the last with "@@"; a literal "@@" in the text stays.
        n = len(piece) - 2 if i < len(pieces) - 1 else len(piece)
        real = [j for j in range(k, k + n) if not joiner[j]] or [k, k + n - 1]
        offsets.append((spans[real[0]][0], spans[real[-1]][1]))
        k += n
    if k != len(word):
        raise RuntimeError(f"BPE pieces {pieces} do not spell the word {word!r}")
    return offsets


# ---- which tokenizer, and does it fit the model -------------------------------------------------
def is_phobert(tokenizer_or_dir: Any) -> bool:
    """Whether a tokenizer (a ``PhobertTokenizer`` or this adapter) or a checkpoint folder is
    PhoBERT's (judged by class or files, never by a name)."""
    if isinstance(tokenizer_or_dir, (str, os.PathLike)):
        return folders.is_phobert(tokenizer_or_dir)
    if isinstance(tokenizer_or_dir, PhobertOffsetTokenizer):
        return True
    return type(tokenizer_or_dir).__name__.startswith("Phobert")


def highest_token_id(tokenizer_or_path: Any) -> int | None:
    """The highest id a tokenizer can give: from a loaded tokenizer's vocabulary (added tokens
    included), or from a ``tokenizer.json`` (a file, or the folder holding one; ``None`` when
    there is none)."""
    if not isinstance(tokenizer_or_path, (str, os.PathLike)):
        return max(tokenizer_or_path.get_vocab().values())
    path = Path(tokenizer_or_path)
    path = path / "tokenizer.json" if path.is_dir() else path
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        vocab = data["model"].get("vocab") or {}
        ids = list(vocab.values()) if isinstance(vocab, dict) else [len(vocab) - 1]
        ids += [token["id"] for token in data.get("added_tokens") or []]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BrokenCheckpointError(
            "'{name}' cannot be loaded: its tokenizer.json is unreadable ({detail}). Delete it to "
            "use the checkpoint's other tokenizer files, or download it again.",
            name=str(path.parent), detail=f"{type(exc).__name__}: {exc}",
        ) from exc
    return max(ids, default=None)


def check_token_ids(tokenizer_or_path: Any, vocab_size: int, name: str | None = None) -> None:
    """Refuse a tokenizer that gives ids the model has no embedding for (``>= vocab_size``).

    Some Hub copies of PhoBERT carry a ``tokenizer.json`` from a fork that numbers tokens past
    the model's vocabulary; the model would fail (or read garbage) on the first such id.
    ``tokenizer_or_path`` is a loaded tokenizer or a ``tokenizer.json`` (or its folder);
    ``name`` is how the message calls the checkpoint.
    """
    highest = highest_token_id(tokenizer_or_path)
    if highest is None or highest < vocab_size:
        return
    if name is None:
        name = (str(tokenizer_or_path) if isinstance(tokenizer_or_path, (str, os.PathLike))
                else getattr(tokenizer_or_path, "name_or_path", "") or "the tokenizer")
    raise BrokenCheckpointError(
        "'{name}' cannot be used: its tokenizer gives token ids up to {highest}, but the model "
        "has embeddings for ids 0 to {last} only, so the tokenizer does not belong to these "
        "weights (some PhoBERT copies carry a tokenizer.json from a fork that renumbers ids). "
        "Delete tokenizer.json to use the checkpoint's vocab.txt and bpe.codes, or use the "
        "tokenizer the model was trained with.",
        name=name, highest=highest, last=vocab_size - 1,
    )
