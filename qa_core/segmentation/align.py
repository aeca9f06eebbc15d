"""A word segmenter's words, placed back on the text it was given as ``(start, end)`` spans.

Segmenters return words as strings ("Hà Nội", "Hà_Nội") and may have rewritten characters on
the way: NFC, "ð" -> "đ", spacing around punctuation, a dropped symbol. Only their word
*boundaries* are taken; every character of a word comes from the original text.

How: both sides become a folded stream with one character per visible cluster (base letter,
lower-cased, marks dropped; whitespace, invisible spaces and "_" left out, since segmenters use
them as joiners). A word boundary is a bit on the gap between two stream characters. Where the
streams are equal (the usual case) the segmenter's bits are copied gap by gap; otherwise they
are copied inside the stretches ``difflib`` matches, and every gap outside those stretches
falls back to plain syllables (a boundary exactly where the text has whitespace). Each stretch
that fell back is counted in ``Segmentation.fallbacks``: nothing is guessed.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from qa_core.textnorm import is_space

Span = tuple[int, int]

# A line break ends a word whatever the segmenter says: segmenters work sentence by sentence,
# and a word across a paragraph break is an artefact of giving them a whole passage.
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
# Letters a segmenter may write differently without changing the word (underthesea's map).
_SAME_LETTER = {"ð": "đ"}


@dataclass(frozen=True)
class Segmentation:
    """The words of a text as spans of it: in order, not overlapping, each starting and ending
    on a visible character, none holding a line break; every visible character is in one."""

    spans: tuple[Span, ...]
    fallbacks: int = 0  # stretches where the segmenter's words could not be aligned
    splits: int = 0  # words cut in two by forced boundaries (``split_words``)


def clusters(text: str) -> list[Span]:
    """Spans of ``text``'s clusters: a character with the combining marks after it. A mark
    after whitespace stands alone, since whitespace never carries a mark.

    >>> clusters("e\u0301 \u0301")
    [(0, 2), (2, 3), (3, 4)]
    """
    out: list[Span] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or not unicodedata.combining(text[i]) or is_space(text[i - 1]):
            out.append((start, i))
            start = i
    return out


@functools.cache
def _fold(char: str) -> str:
    """One stream character for a cluster starting with ``char``."""
    base = unicodedata.normalize("NFD", char)[0]
    lower = base.lower()
    base = lower if len(lower) == 1 else base
    return _SAME_LETTER.get(base, base)


def _stream(text: str) -> tuple[str, list[int], list[int]]:
    """The folded stream of ``text`` and each stream character's cluster ``(starts, ends)``."""
    folded, starts, ends = [], [], []
    for start, end in clusters(text):
        first = text[start]
        if is_space(first) or first == "_":
            continue
        folded.append(_fold(first))
        starts.append(start)
        ends.append(end)
    return "".join(folded), starts, ends


def _segmenter_stream(words: Sequence[str]) -> tuple[str, list[bool]]:
    """The folded stream of the segmenter's words, and for each stream character whether a
    word starts there."""
    folded: list[str] = []
    starts: list[bool] = []
    for word in words:
        chars = _stream(word)[0]
        folded.append(chars)
        starts.extend(i == 0 for i in range(len(chars)))
    return "".join(folded), starts


def _matched_bits(
    folded: str, seg_folded: str, seg_starts: list[bool]
) -> tuple[list[bool | None], int]:
    """The segmenter's word starts copied onto ``folded`` where the streams match (``None``
    where they do not), and the number of stretches that did not match."""
    bits: list[bool | None] = [None] * len(folded)
    matcher = difflib.SequenceMatcher(None, folded, seg_folded, autojunk=False)
    for a, b, size in matcher.get_matching_blocks():
        # The gap before a block's first character borders a mismatch: left unknown.
        bits[a + 1 : a + size] = seg_starts[b + 1 : b + size]
    unmatched = sum(tag != "equal" for tag, *_ in matcher.get_opcodes())
    return bits, unmatched


def _word_starts(text: str, starts: list[int], ends: list[int], bits: list[bool | None]):
    """Whether a word starts at each stream character: line breaks always start one; the
    segmenter's bit where known; otherwise whitespace does (plain syllables)."""
    out = []
    for k in range(len(starts)):
        if k == 0:
            out.append(True)
            continue
        gap = text[ends[k - 1] : starts[k]]
        if any(c in _LINE_BREAKS for c in gap):
            out.append(True)
        elif bits[k] is not None:
            out.append(bits[k])
        else:
            out.append(any(is_space(c) for c in gap))
    return out


def _cover(text: str, spans: list[Span]) -> list[Span]:
    """``spans`` grown over the visible characters outside the stream (a literal "_", a mark
    on one): a run touching a word joins it (the word before first), a run alone is a word."""
    out: list[list[int]] = []
    prev_end = 0
    for start, end in [*spans, (len(text), len(text))]:
        for a, b in _visible_runs(text, prev_end, start):
            if out and out[-1][1] == a:
                out[-1][1] = b
            elif b == start and start < end:
                start = a
            else:
                out.append([a, b])
        if start < end:
            out.append([start, end])
        prev_end = end
    return [(a, b) for a, b in out]


def _visible_runs(text: str, start: int, end: int) -> list[Span]:
    """Maximal runs of non-whitespace characters in ``text[start:end]``."""
    runs, run_start = [], None
    for i in range(start, end):
        if is_space(text[i]):
            if run_start is not None:
                runs.append((run_start, i))
                run_start = None
        elif run_start is None:
            run_start = i
    if run_start is not None:
        runs.append((run_start, end))
    return runs


def align_words(text: str, words: Sequence[str] | None) -> Segmentation:
    """Spans in ``text`` of the ``words`` a segmenter found in it (syllables joined by " " or
    "_"); ``None`` gives plain syllables: every whitespace-separated token is a word.

    >>> text = "Hà  Nội là thủ đô."
    >>> seg = align_words(text, ["Hà Nội", "là", "thủ_đô", "."])
    >>> [text[s:e] for s, e in seg.spans], seg.fallbacks
    (['Hà  Nội', 'là', 'thủ đô', '.'], 0)
    >>> seg = align_words(text, ["Hà Nội", "là", "thủ đô"])   # the "." was dropped
    >>> [text[s:e] for s, e in seg.spans], seg.fallbacks
    (['Hà  Nội', 'là', 'thủ đô.'], 1)
    """
    folded, starts, ends = _stream(text)
    bits: list[bool | None] = [None] * len(folded)
    fallbacks = 0
    if words is not None:
        seg_folded, seg_starts = _segmenter_stream(words)
        if seg_folded == folded:
            bits = list(seg_starts)
        else:
            bits, fallbacks = _matched_bits(folded, seg_folded, seg_starts)
    spans: list[Span] = []
    for k, new_word in enumerate(_word_starts(text, starts, ends, bits)):
        if new_word:
            spans.append((starts[k], ends[k]))
        else:
            spans[-1] = (spans[-1][0], ends[k])
    return Segmentation(tuple(_cover(text, spans)), fallbacks)


def _inside_cluster(text: str, position: int) -> bool:
    return bool(unicodedata.combining(text[position])) and not is_space(text[position - 1])


def split_words(text: str, segmentation: Segmentation, positions: Iterable[int]) -> Segmentation:
    """``segmentation`` with a word boundary forced at each of ``positions`` (character
    indices of ``text``): a word that holds a position inside it is cut there, whitespace at
    the cut trimmed. Training uses it so that a gold answer's start and end, falling inside a
    segmented word, stay reachable as whole tokens. Positions inside a cluster (between a
    letter and its combining mark) cannot be a boundary and are left alone.

    >>> text = "Việt Nam"
    >>> seg = split_words(text, align_words(text, ["Việt Nam"]), [5])
    >>> [text[s:e] for s, e in seg.spans], seg.splits
    (['Việt', 'Nam'], 1)
    """
    spans = list(segmentation.spans)
    splits = 0
    for p in sorted(set(positions)):
        if not 0 < p < len(text) or _inside_cluster(text, p):
            continue
        i = bisect.bisect_right(spans, (p, len(text) + 1)) - 1
        if i < 0 or not spans[i][0] < p < spans[i][1]:
            continue
        start, end = spans[i]
        left_end, right_start = p, p
        while is_space(text[left_end - 1]):
            left_end -= 1
        while is_space(text[right_start]):
            right_start += 1
        spans[i : i + 1] = [(start, left_end), (right_start, end)]
        splits += 1
    return replace(segmentation, spans=tuple(spans), splits=segmentation.splits + splits)
