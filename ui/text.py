"""Text for the page: Markdown escaping, numbers, checkpoint names, and search that respects
the tone marks a person typed."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_URL = re.compile(r"https?://[^\s<>()\[\]]*[^\s<>()\[\].,;:!?'\"’”]")


def escape_markdown(text: str) -> str:
    """``text`` as literal Markdown: HTML is shown as text, never run; no accidental emphasis.
    Web addresses become links that work (:func:`markdown_link`).

    >>> escape_markdown("<script>alert(1)</script> *x*")
    '&lt;script&gt;alert\\\\(1\\\\)&lt;/script&gt; \\\\*x\\\\*'
    >>> escape_markdown("See https://github.com/x.json.")
    'See [https://github.com/x.json](<https://github.com/x.json>)\\\\.'
    """
    text, out, at = str(text), [], 0
    for url in _URL.finditer(text):
        out.append(_escape(text[at:url.start()]))
        out.append(markdown_link(url.group()))
        at = url.end()
    out.append(_escape(text[at:]))
    return "".join(out)


def _escape(text: str) -> str:
    return html.escape(_MD_SPECIAL.sub(r"\\\1", text), quote=False)


def markdown_link(url: str, label: str | None = None) -> str:
    """A Markdown link whose address is kept as it is (escaping it would break it: a
    backslash before each dot reached the browser as ``github%5C.com``).

    >>> markdown_link("https://github.com/deepmind/xquad/raw/master/xquad.vi.json")
    '[https://github.com/deepmind/xquad/raw/master/xquad.vi.json](<https://github.com/deepmind/xquad/raw/master/xquad.vi.json>)'
    """
    safe = url.replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")
    return f"[{_escape(label) if label else safe}](<{safe}>)"


def format_probability(p: float | None) -> str:
    """A probability as a short percentage.

    >>> format_probability(0.8734), format_probability(0.0123), format_probability(None)
    ('87.3%', '1.23%', '–')
    """
    if p is None:
        return "–"
    return f"{100 * p:.1f}%" if p >= 0.1 else f"{100 * p:.2f}%"


def short_checkpoint_name(checkpoint: str) -> str:
    """A checkpoint as a label names it: a Hub id whole, a local path by its folder.

    >>> short_checkpoint_name("deepset/xlm-roberta-base-squad2"), short_checkpoint_name("/srv/models/run-3/")
    ('deepset/xlm-roberta-base-squad2', 'run-3')
    """
    name = checkpoint.strip()
    if name.count("/") <= 1 and not name.startswith((".", "/", "~")):
        return name
    return name.rstrip("/").rsplit("/", 1)[-1] or name


# ---------------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------------
def fold_text(text: str) -> str:
    """Lower-case ``text`` without tone marks or diacritics, ``đ`` as ``d``.

    >>> fold_text("Hà Nội"), fold_text("ĐỒNG BẰNG")
    ('ha noi', 'dong bang')
    """
    decomposed = unicodedata.normalize("NFD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.replace("đ", "d")


def _lower(text: str) -> str:
    return unicodedata.normalize("NFC", text.casefold())


@dataclass(frozen=True)
class SearchText:
    """One example's searchable text, lower-cased (NFC) and folded, built once per dataset."""

    lower: str
    folded: str


def search_index(questions: Sequence[str], contexts: Sequence[str]) -> list[SearchText]:
    """The searchable ``question + context`` of every example."""
    out = []
    for q, c in zip(questions, contexts):
        text = f"{q}\n{c}"
        out.append(SearchText(_lower(text), fold_text(text)))
    return out


def _matches(item: SearchText, lower: str, folded: str) -> bool:
    if len(item.lower) != len(item.folded) or len(lower) != len(folded):
        return lower in item.lower  # a character folded to several: match as typed
    marked = [i for i, (a, b) in enumerate(zip(lower, folded)) if a != b]
    if not marked:
        return folded in item.folded
    start = item.folded.find(folded)
    while start != -1:
        if all(item.lower[start + i] == lower[i] for i in marked):
            return True
        start = item.folded.find(folded, start + 1)
    return False


def search_indices(index: Sequence[SearchText], query: str) -> list[int]:
    """Positions of the examples whose question or context contains ``query``, ignoring case.
    A letter typed without a tone mark matches it with or without one (``ha noi`` finds
    *Hà Nội*); a letter typed with a mark matches only that mark (``Huế`` does not find
    *thuê*). A blank query matches every example.

    >>> index = search_index(["Ai?", "Ở đâu?", "Giá thuê?"], ["Ngô Quyền", "Cổ Loa, Huế", "nhà"])
    >>> search_indices(index, "co loa"), search_indices(index, "Huế"), search_indices(index, "hue")
    ([1], [1], [1, 2])
    """
    query = query.strip()
    if not query:
        return list(range(len(index)))
    lower, folded = _lower(query), fold_text(query)
    return [i for i, item in enumerate(index) if _matches(item, lower, folded)]
