"""Giving back the memory of weights a conversion replaced (the int8 and bf16 matmul modes).

transformers memory-maps safetensors checkpoints: a weight's pages are read from the file on
first use and then count as the process's memory until the whole file is unmapped, which the
still-used embedding table prevents. Converting reads every linear weight once; without this
the converted reader would hold the float32 linear weights as file pages beside its own copy.

Linux only (``/proc/self/maps`` and libc's ``madvise``, called through ``ctypes``: Python's
``mmap.madvise`` works on its own ``mmap`` objects only); elsewhere the pages just stay.
``tests`` check on every run that pages are really given back, so a platform or library change
that breaks this fails loudly rather than silently costing memory.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import torch
from torch import nn

_MADV_DONTNEED = 4
_PAGE = 4096


def file_mappings() -> list[tuple[int, int]]:
    """``(start, end)`` addresses of this process's file-backed memory maps (Linux; else [])."""
    try:
        lines = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return []
    spans = []
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5].startswith("/"):  # a path: a mapped file
            start, end = (int(x, 16) for x in fields[0].split("-"))
            spans.append((start, end))
    return spans


def release_mapped_pages(tensor: torch.Tensor, mapped: list[tuple[int, int]]) -> bool:
    """Drop the resident pages of ``tensor`` if it lies in a memory-mapped file (in
    ``mapped``), so they stop counting as memory; the caller no longer reads it. Only whole
    pages inside the tensor are dropped, never a neighbour's. True when pages were dropped.

    A file mapping's dropped page reads back from the file, so even a wrong call loses no data
    the file does not hold; anonymous memory (a model built in memory) is never touched.
    """
    start = tensor.data_ptr()
    end = start + tensor.numel() * tensor.element_size()
    if not any(lo <= start and end <= hi for lo, hi in mapped):
        return False
    first, last = -(-start // _PAGE) * _PAGE, end // _PAGE * _PAGE
    if last <= first:
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return (
            libc.madvise(ctypes.c_void_p(first), ctypes.c_size_t(last - first), _MADV_DONTNEED) == 0
        )
    except (OSError, AttributeError):  # no libc madvise (not Linux): the pages just stay
        return False


class ReplacedWeights:
    """Gives back the mapped pages of weights a conversion replaces (``quantize_int8``, and
    the bf16 matmul mode), except where a tensor that stays (a tied weight) shares them."""

    def __init__(self, model: nn.Module, replaced: list[nn.Module]):
        # Tensors of every module that stays; a tied weight is one Parameter in two modules.
        ids = {id(m) for m in replaced}
        self._shared = {
            t.untyped_storage().data_ptr()
            for m in model.modules()
            if id(m) not in ids
            for t in (*m.parameters(recurse=False), *m.buffers(recurse=False))
        }
        self._mapped = file_mappings()

    def release(self, weight: torch.Tensor) -> bool:
        """Drop ``weight``'s resident pages if it is file-mapped and no kept tensor shares it."""
        if weight.untyped_storage().data_ptr() in self._shared:
            return False
        return release_mapped_pages(weight, self._mapped)
