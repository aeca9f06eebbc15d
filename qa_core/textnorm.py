"""NFC normalisation that remembers where every character came from.

Vietnamese text from macOS or Word often arrives decomposed (NFD: "ê" + U+0301). Tokenizers
trained on NFC text see such words as unknown pieces, so the reader feeds the model NFC text;
but every offset it returns must index the text the caller gave. ``to_nfc`` gives both.
"""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass

import numpy as np

# Zero-width space, non-joiner, joiner and the byte-order mark: invisible, not str.isspace(),
# yet common in text pasted from the web or Word. They count as whitespace when answers are
# trimmed and when a question or context is checked for being empty.
INVISIBLE_SPACES = "\u200b\u200c\u200d\ufeff"


def is_space(char: str) -> bool:
    r"""Whitespace, the invisible characters above included.

    >>> is_space("\u200b"), is_space(" "), is_space("a")
    (True, True, False)
    """
    return char.isspace() or char in INVISIBLE_SPACES


def is_blank(text: str) -> bool:
    r"""True when ``text`` holds nothing but whitespace and invisible characters.

    >>> is_blank(" \u200b\ufeff\n"), is_blank("\u200bHà Nội")
    (True, False)
    """
    return all(is_space(c) for c in text)  # stops at the first visible character



@dataclass(frozen=True)
class NormalizedText:
    """``text`` (NFC) plus maps from its character positions back to the ``original``."""

    original: str
    text: str
    # (len(text) + 1,) original index where each NFC char starts; last entry = len(original)
    starts: np.ndarray | None = None
    # (len(text) + 1,) original index just after each NFC char; entry 0 = 0
    ends: np.ndarray | None = None

    @property
    def is_identity(self) -> bool:
        return self.starts is None

    def to_original(self, start: np.ndarray | int, end: np.ndarray | int):
        """Map half-open NFC spans ``[start, end)`` to spans of the original text."""
        if self.starts is None:
            return start, end
        return self.starts[start], self.ends[end]


def to_nfc(text: str) -> NormalizedText:
    """NFC-normalise ``text`` keeping an exact map back to the original positions.

    Each cluster (a starter and the combining marks after it) is normalised on its own; a
    composed character maps to the whole cluster it came from.

    >>> n = to_nfc(unicodedata.normalize("NFD", "Hà Nội"))
    >>> n.text == "Hà Nội", len(n.original)
    (True, 9)
    >>> s, e = n.to_original(3, 6)   # "Nội" in the NFC text
    >>> n.original[s:e] == unicodedata.normalize("NFD", "Nội")
    True
    """
    if unicodedata.is_normalized("NFC", text):
        return NormalizedText(original=text, text=text)
    cluster_bounds = [0]
    for i in range(1, len(text)):
        if unicodedata.combining(text[i]) == 0:
            cluster_bounds.append(i)
    cluster_bounds.append(len(text))
    pieces, starts, ends = [], [], []
    for a, b in itertools.pairwise(cluster_bounds):
        piece = unicodedata.normalize("NFC", text[a:b])
        pieces.append(piece)
        starts.extend([a] * len(piece))
        ends.extend([b] * len(piece))
    normalized = "".join(pieces)
    if normalized != unicodedata.normalize("NFC", text):
        # Composition across clusters (e.g. Hangul jamo): keep the text as given, offsets exact.
        return NormalizedText(original=text, text=text)
    starts_arr = np.asarray([*starts, len(text)], dtype=np.int64)
    ends_arr = np.asarray([0, *ends], dtype=np.int64)
    return NormalizedText(original=text, text=normalized, starts=starts_arr, ends=ends_arr)
