"""Tone-mark placement as PhoBERT's pre-training text had it: "hoà", "thuý", not "hòa", "thúy".

PhoBERT was pre-trained on text that VnCoreNLP had normalised: its word segmenter rewrites the
old placement of the tone mark in "oa", "oe" and "uy" (on the first vowel) to the new one (on
the second) before segmenting. Its BPE vocabulary therefore knows "hoà" as a piece and splits
"hòa" into rarer ones. ``move_tones`` applies the same rewrite.

Every rule turns two NFC characters into two NFC characters, so a character keeps its position:
offsets computed on the rewritten text index the text before it, unchanged.
"""

from __future__ import annotations

import itertools
import re

# VnCoreNLP's normaliser, old placement -> new placement, in lowercase.
_LOWER = {
    "òa": "oà", "óa": "oá", "ỏa": "oả", "õa": "oã", "ọa": "oạ",
    "òe": "oè", "óe": "oé", "ỏe": "oẻ", "õe": "oẽ", "ọe": "oẹ",
    "ùy": "uỳ", "úy": "uý", "ủy": "uỷ", "ũy": "uỹ", "ụy": "uỵ",
}  # fmt: skip


def _cased(pair: str, upper: tuple[bool, bool]) -> str:
    """``pair`` with each of its two letters upper-cased where ``upper`` says so."""
    return "".join(c.upper() if up else c for c, up in zip(pair, upper))


# Every case of each rule ("Ủy" -> "Uỷ", "ỦY" -> "UỶ"): each letter keeps its own case.
TONE_MOVES: dict[str, str] = {
    _cased(old, upper): _cased(new, upper)
    for old, new in _LOWER.items()
    for upper in itertools.product((False, True), repeat=2)
}
_PATTERN = re.compile("|".join(TONE_MOVES))


def move_tones(text: str) -> str:
    """``text`` (NFC) with the tone mark of "oa", "oe", "uy" moved to the second vowel, as
    VnCoreNLP writes it; the result has the same length, character for character.

    >>> move_tones("Hòa bình, Thủy điện, HÒA, hoà")
    'Hoà bình, Thuỷ điện, HOÀ, hoà'
    """
    return _PATTERN.sub(lambda m: TONE_MOVES[m.group()], text)
