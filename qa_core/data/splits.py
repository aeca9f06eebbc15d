"""Split names with ``datasets``-style slices: ``"validation"``, ``"test[:50]"``,
``"train[100:200]"``, ``"validation[10%:20%]"``, parsed and applied without ``datasets``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa_core.errors import UnknownSplitError

_SPLIT_RE = re.compile(
    r"^(?P<split>[\w.-]+)"
    r"(\[(?:(?P<from>-?\d+)(?P<from_pct>%)?)?:(?:(?P<to>-?\d+)(?P<to_pct>%)?)?\])?$"
)


@dataclass(frozen=True)
class SplitSlice:
    """``[start:stop]`` of a split, in examples or (``percent=True``) in percent."""

    start: int | None = None
    stop: int | None = None
    percent: bool = False

    def indices(self, n: int) -> range:
        """The rows selected from a split of ``n`` rows, rounded as ``datasets`` does."""

        def absolute(bound: int | None, default: int) -> int:
            if bound is None:
                return default
            if self.percent:  # datasets' "closest" rounding (Python round: half to even)
                bound = round(bound * n / 100.0)
            if bound < 0:
                bound = max(n + bound, 0)
            return min(bound, n)

        return range(absolute(self.start, 0), absolute(self.stop, n))


def parse_split(split: str) -> tuple[str, SplitSlice | None]:
    """Split a ``datasets``-style spec into its name and slice.

    >>> parse_split("validation")
    ('validation', None)
    >>> parse_split("train[100:200]")
    ('train', SplitSlice(start=100, stop=200, percent=False))
    >>> base, part = parse_split("validation[10%:20%]")
    >>> base, part.indices(25)
    ('validation', range(2, 5))
    """
    match = _SPLIT_RE.match(split.strip()) if isinstance(split, str) else None
    if match is None:
        raise UnknownSplitError(
            "Cannot parse split {split!r}. Use a name with an optional slice, e.g. "
            "'validation', 'test[:50]', 'train[100:200]' or 'validation[:20%]'.", split=split
        )
    start, stop = match["from"], match["to"]
    if start is None and stop is None and "[" not in split:
        return match["split"], None
    if (start is not None and stop is not None) and bool(match["from_pct"]) != bool(
        match["to_pct"]
    ):
        raise UnknownSplitError(
            "Split {split!r} mixes a percentage and a row count; use one unit for both "
            "ends, e.g. 'train[10%:20%]' or 'train[100:200]'.", split=split
        )
    percent = bool(match["from_pct"] or match["to_pct"])
    bounds = [int(b) for b in (start, stop) if b is not None]
    if percent and any(abs(b) > 100 for b in bounds):
        raise UnknownSplitError(
            "Split {split!r}: percentages must be between -100 and 100.", split=split
        )
    return match["split"], SplitSlice(
        start=int(start) if start is not None else None,
        stop=int(stop) if stop is not None else None,
        percent=percent,
    )
