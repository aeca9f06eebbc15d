"""Vietnamese word segmentation, placed on the text the user gave.

PhoBERT reads word-segmented text ("Hà_Nội là thủ_đô"), so its input goes through a segmenter
(``segmenters``); the words are placed back on the original text as spans (``align``), so
every offset computed from them indexes what the user typed; ``tone`` puts tone marks where
PhoBERT's vocabulary expects them.

>>> seg = segment("Hà Nội là thủ đô", segmenter="none")
>>> seg.spans, seg.fallbacks
(((0, 2), (3, 6), (7, 9), (10, 13), (14, 16)), 0)
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable

from qa_core.segmentation.align import Segmentation, align_words, clusters, split_words
from qa_core.segmentation.segmenters import (
    DEFAULT_SEGMENTER,
    SEGMENTERS,
    check_segmenter,
    segmenter_version,
    segmenter_words,
)
from qa_core.segmentation.tone import TONE_MOVES, move_tones

__all__ = [
    "DEFAULT_SEGMENTER",
    "SEGMENTERS",
    "TONE_MOVES",
    "Segmentation",
    "align_words",
    "check_segmenter",
    "clear_cache",
    "clusters",
    "move_tones",
    "segment",
    "segmenter_version",
    "segmenter_words",
    "split_words",
]


@functools.lru_cache(maxsize=512)
def _segmented(text: str, segmenter: str) -> Segmentation:
    # Cached: a passage is segmented once for all the questions asked about it.
    return align_words(text, segmenter_words(unicodedata.normalize("NFC", text), segmenter))


def segment(
    text: str, segmenter: str = DEFAULT_SEGMENTER, boundaries: Iterable[int] = ()
) -> Segmentation:
    """The words of ``text`` as ``(start, end)`` spans of it, found by ``segmenter`` (one of
    ``SEGMENTERS``), with a boundary forced at each of ``boundaries`` (character positions,
    e.g. a gold answer's start and end). ``fallbacks`` counts the stretches the segmenter's
    output could not be aligned on (plain syllables there), ``splits`` the words cut by
    ``boundaries``."""
    segmentation = _segmented(text, check_segmenter(segmenter))
    return split_words(text, segmentation, boundaries) if boundaries else segmentation


def clear_cache() -> None:
    """Forget the segmentations ``segment`` cached (to time a passage never seen before)."""
    _segmented.cache_clear()
