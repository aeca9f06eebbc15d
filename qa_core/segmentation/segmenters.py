"""The word segmenters a text can go through, each imported only when first used.

* ``underthesea`` (the default): a CRF segmenter whose model ships inside the package, so it
  works offline; maintained; Apache-2.0.
* ``pyvi``: a smaller, faster CRF segmenter, unmaintained; not a dependency (``pip install
  pyvi`` to use it).
* ``none``: no segmenter; every whitespace-separated token is a word (plain syllables).

Each returns the words it found as strings, syllables joined by " " or "_";
``qa_core.segmentation.align`` places them back on the text. A lock per segmenter serialises
its calls: neither package says it is thread-safe, and underthesea loads its model on the first
call through a module global.
"""

from __future__ import annotations

import importlib.metadata
import threading
from collections.abc import Callable

from qa_core.errors import InputError, SegmenterUnavailableError

DEFAULT_SEGMENTER = "underthesea"
SEGMENTERS = ("underthesea", "pyvi", "none")
_PACKAGES = {"underthesea": "underthesea", "pyvi": "pyvi"}
_LOCKS = {name: threading.Lock() for name in _PACKAGES}


def check_segmenter(segmenter: str) -> str:
    """``segmenter`` if it is one of ``SEGMENTERS``, else an ``InputError`` listing them."""
    if segmenter not in SEGMENTERS:
        raise InputError(
            "Unknown word segmenter '{segmenter}'; choose one of {choices}.",
            segmenter=segmenter, choices=", ".join(SEGMENTERS),
        )
    return segmenter


def _missing(segmenter: str) -> SegmenterUnavailableError:
    return SegmenterUnavailableError(
        "The word segmenter '{segmenter}' is not installed. Install it with `pip install "
        "{package}`, or choose another segmenter ({choices}).",
        segmenter=segmenter, package=_PACKAGES[segmenter], choices=", ".join(SEGMENTERS),
    )


def _underthesea(text: str) -> list[str]:
    try:
        from underthesea import word_tokenize
    except ImportError as exc:
        raise _missing("underthesea") from exc
    # Its token normaliser rewrites spellings ("hòa" -> "hoà" and more); the words must keep
    # the text's characters for the alignment to hold, so it stays off.
    return word_tokenize(text, use_token_normalize=False)


def _pyvi(text: str) -> list[str]:
    try:
        from pyvi import ViTokenizer
    except ImportError as exc:
        raise _missing("pyvi") from exc
    return ViTokenizer.tokenize(text).split()  # "Hà_Nội là thủ_đô"


_RUN: dict[str, Callable[[str], list[str]]] = {"underthesea": _underthesea, "pyvi": _pyvi}


def segmenter_words(text: str, segmenter: str = DEFAULT_SEGMENTER) -> list[str] | None:
    """The words ``segmenter`` finds in ``text`` (give it NFC text: both segmenters are trained
    on NFC), or ``None`` for ``"none"``."""
    check_segmenter(segmenter)
    if segmenter == "none":
        return None
    with _LOCKS[segmenter]:
        return _RUN[segmenter](text)


def segmenter_version(segmenter: str) -> str | None:
    """The installed version of ``segmenter``'s package (``None`` when it has none or is not
    installed): a new version can segment differently, so caches of its output key on it."""
    check_segmenter(segmenter)
    if segmenter == "none":
        return None
    try:
        return importlib.metadata.version(_PACKAGES[segmenter])
    except importlib.metadata.PackageNotFoundError:
        return None
