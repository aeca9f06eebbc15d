"""An offline look-alike of a PhoBERT QA checkpoint, with the real layout and random weights.

Public facts it copies (``vinai/phobert-base`` and its QA fine-tunes):

* ``vocab.txt``: fairseq's dictionary, one ``token count`` line per piece, most frequent first,
  no special tokens (``PhobertTokenizer`` puts ``<s> <pad> </s> <unk>`` at ids 0-3 and appends
  ``<mask>`` after the last line); a piece that does not end a word carries ``@@``; words are
  segmented, syllables joined by "_" ("Hà_Nội").
* ``bpe.codes``: fastBPE's merges, ``left right count`` per line in merge order, ``</w>`` marking
  the end of a word; the file ends with a newline (``PhobertTokenizer`` drops the last line).
* ``tokenizer_config.json`` and ``config.json`` name ``tokenizer_class: PhobertTokenizer``;
  ``config.json`` is RoBERTa's with ``max_position_embeddings: 258``, ``type_vocab_size: 1``,
  ``pad_token_id: 1`` and ``vocab_size`` = 4 specials + the file's lines + ``<mask>``.

The vocabulary is learned from the bundled sample passages, written as PhoBERT's pre-training
text was (NFC, VnCoreNLP's tone placement, segmented, here by underthesea), with fastBPE's
algorithm; the counts are real counts in that text. Characters the sample lacks (emoji, CJK,
most symbols) stay unknown, as rare ones do in the real vocabulary. No real PhoBERT file is
used or shipped.

    from phobert_layout import build_phobert_lookalike   # tests/ is on sys.path under pytest
    path = build_phobert_lookalike(tmp_path / "qa-model")

``awkward_texts()`` is the text the PhoBERT tests feed it: Vietnamese in both tone placements,
NFC or NFD, runs of spaces and line breaks, literal "_", punctuation, numbers, emoji, URLs,
characters outside the vocabulary and text that looks like PhoBERT's own markup.
"""

from __future__ import annotations

import heapq
import json
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

from hypothesis import strategies as st

from qa_core.model.tiny import sample_texts
from qa_core.segmentation import move_tones

SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
MAX_MERGES = 3000  # more than the sample has pairs seen twice: it runs out first


def _segmented_corpus(texts: Iterable[str]) -> list[str]:
    """``texts`` as PhoBERT's pre-training text: "Hoà_bình là ..."."""
    from underthesea import word_tokenize

    lines = []
    for text in texts:
        text = move_tones(unicodedata.normalize("NFC", text))
        words = word_tokenize(text, use_token_normalize=False)
        lines.append(" ".join("_".join(word.split()) for word in words))
    return lines


def _merged(symbols: list[str], pair: tuple[str, str]) -> list[str]:
    """``symbols`` with every occurrence of ``pair`` merged, left to right (as fastBPE does)."""
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def _learn_bpe(word_counts: Counter, max_merges: int) -> tuple[list[tuple[str, str, int]], Counter]:
    """Sennrich's BPE as fastBPE learns it (a word is its characters, ``</w>`` glued to the
    last): repeatedly merge the most frequent adjacent pair, ties going to the smallest pair so
    the result never depends on hash order. Returns the merges with their counts, and the
    pieces of the segmented corpus with theirs (fairseq's dictionary)."""
    words = [([*w[:-1], w[-1] + "</w>"], c) for w, c in sorted(word_counts.items())]
    pairs: Counter = Counter()
    where: dict[tuple[str, str], set[int]] = defaultdict(set)
    for i, (symbols, count) in enumerate(words):
        for pair in pairwise(symbols):
            pairs[pair] += count
            where[pair].add(i)
    heap = [(-count, pair) for pair, count in pairs.items()]
    heapq.heapify(heap)
    merges = []
    while heap and len(merges) < max_merges:
        negative, pair = heapq.heappop(heap)
        if pairs[pair] != -negative:
            continue  # a stale entry: the pair's count changed since it was pushed
        if -negative < 2:
            break
        merges.append((*pair, -negative))
        for i in sorted(where.pop(pair)):
            symbols, count = words[i]
            new = _merged(symbols, pair)
            if new == symbols:
                continue
            touched = set(pairwise(symbols)) | set(pairwise(new))
            for old_pair in pairwise(symbols):
                pairs[old_pair] -= count
            for new_pair in pairwise(new):
                pairs[new_pair] += count
                where[new_pair].add(i)
            for changed in touched:
                heapq.heappush(heap, (-pairs[changed], changed))
            words[i] = (new, count)
    pieces: Counter = Counter()
    for symbols, count in words:
        for piece in symbols[:-1]:
            pieces[piece + "@@"] += count
        pieces[symbols[-1].removesuffix("</w>")] += count
    return merges, pieces


def _fastbpe_files(lines: list[str], max_merges: int) -> tuple[str, str]:
    """``(vocab.txt, bpe.codes)`` learned from whitespace-separated words, in fastBPE's format."""
    merges, pieces = _learn_bpe(Counter(w for line in lines for w in line.split()), max_merges)
    ranked = sorted((p for p in pieces if p not in SPECIALS), key=lambda p: (-pieces[p], p))
    vocab = "".join(f"{p} {pieces[p]}\n" for p in ranked)
    codes = "".join(f"{a} {b} {count}\n" for a, b, count in merges)
    return vocab, codes


def build_phobert_lookalike(
    out_dir: str | Path, texts: Iterable[str] | None = None, max_merges: int = MAX_MERGES
) -> Path:
    """Write a PhoBERT-layout QA checkpoint (tiny random ``RobertaForQuestionAnswering``) to
    ``out_dir``; loadable by ``AutoTokenizer``/``PhobertTokenizer`` and
    ``AutoModelForQuestionAnswering``. Deterministic: the same files every time. The
    vocabulary is learned from ``texts`` (default: the bundled sample's passages and
    questions) with at most ``max_merges`` merges."""
    import torch
    from transformers import RobertaConfig, RobertaForQuestionAnswering

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines = _segmented_corpus(sample_texts() if texts is None else texts)
    vocab, codes = _fastbpe_files(lines, max_merges)
    (out / "vocab.txt").write_text(vocab, encoding="utf-8")
    (out / "bpe.codes").write_text(codes, encoding="utf-8")
    (out / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "PhobertTokenizer", "model_max_length": 256}, indent=2),
        encoding="utf-8",
    )
    config = RobertaConfig(
        vocab_size=4 + vocab.count("\n") + 1,
        # the sizes of qa_core.model.tiny's models: the smoke runs of both compare
        hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128,
        max_position_embeddings=258, type_vocab_size=1,
        pad_token_id=1, bos_token_id=0, eos_token_id=2,
        tokenizer_class="PhobertTokenizer", architectures=["RobertaForQuestionAnswering"],
    )  # fmt: skip
    torch.manual_seed(0)
    RobertaForQuestionAnswering(config).save_pretrained(out)
    return out


# ---------------------------------------------------------------------------------------------
# Text for property tests

_WORDS = [
    "Hà", "Nội", "thủ", "đô", "Việt", "Nam", "là", "của", "năm", "nghiên", "cứu", "Đảng",
    "hòa", "hoà", "Hòa", "HÒA", "Hoà", "bình", "thủy", "thuỷ", "Thủy", "điện", "khỏe", "khoẻ",
    "Ủy", "ỦY", "uỷ", "ban", "ð", "Ðà", "quý", "người",
]  # fmt: skip
_SYMBOLS = [
    ",", ".", "?", "!", ":", ";", "(", ")", '"', "“", "”", "…", "-", "–", "%", "/", "2024",
    "3,5", "1.000", "12h30", "½", "_", "__init__", "snake_case", "a_b", "@@", "x@@y", "</w>",
    "<s>", "</s>", "<mask>", "<unk>", "😀", "👍🏽", "👨\u200d👩\u200d👧", "❤️", "漢字", "ß", "İ",
    "ﬁ", "\u0301", "https://vi.wikipedia.org/wiki/Hà_Nội?x=1&y=2", "ai.vn@example.com",
]  # fmt: skip
_GAPS = [" "] * 8 + ["", "", "  ", "\n", "\n\n", "\r\n", "\t", "\u00a0", "\u200b", " \u3000 ", " _ "]


@st.composite
def awkward_texts(draw, min_words: int = 0, max_words: int = 30) -> str:
    """Text as users paste it, in NFC or NFD (see the module docstring)."""
    words = draw(st.lists(st.sampled_from(_WORDS + _SYMBOLS), min_size=min_words,
                          max_size=max_words))
    gaps = draw(st.lists(st.sampled_from(_GAPS), min_size=len(words) + 1,
                         max_size=len(words) + 1))
    text = gaps[0] + "".join(w + g for w, g in zip(words, gaps[1:]))
    return unicodedata.normalize(draw(st.sampled_from(["NFC", "NFD"])), text)
