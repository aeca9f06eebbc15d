"""A bounded, thread-safe cache of readers for a server that lets users pick among many
checkpoints (``qa_core.load_reader``'s own cache keeps every reader for the whole process)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

DEFAULT_CACHE_SIZE = 2


def load_uncached_reader(checkpoint: str, dtype: str | None = None):
    """A fresh ``Reader`` for ``checkpoint`` on the best device (in ``dtype``, default: what
    the hardware runs natively), outside ``load_reader``'s process-wide cache (so that evicting
    it from a :class:`ReaderCache` frees its memory)."""
    from qa_core.reader import build_reader

    return build_reader(checkpoint, dtype=dtype)


class ReaderCache:
    """At most ``maxsize`` readers, least recently used evicted first; safe across threads.

    Each checkpoint loads once even when many requests ask for it at the same moment (they
    wait on a per-checkpoint lock); different checkpoints load in parallel. A failed load is
    not cached, so a checkpoint that was unreachable can be tried again. What a reader's
    answers must say (an untrained head) travels on the reader itself (``Reader.warnings``),
    so loading touches no process-wide state such as the warnings filters.
    """

    def __init__(self, maxsize: int = DEFAULT_CACHE_SIZE,
                 loader: Callable[[str], object] | None = None):
        if maxsize < 1:
            raise ValueError(f"maxsize={maxsize} must be at least 1.")
        self.maxsize = maxsize
        self._loader = loader or load_uncached_reader
        self._items: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()  # guards _items and _loading
        self._loading: dict[str, threading.Lock] = {}

    @staticmethod
    def key(checkpoint: str) -> str:
        return str(checkpoint).strip()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def names(self) -> list[str]:
        """Cached checkpoints, least recently used first."""
        with self._lock:
            return list(self._items)

    def peek(self, checkpoint: str):
        """The reader for ``checkpoint`` if it is loaded, else ``None``; never loads, and does
        not count as a use. One step, so no eviction can come between "is it there" and
        "give it"."""
        with self._lock:
            return self._items.get(self.key(checkpoint))

    def get(self, checkpoint: str):
        """The reader for ``checkpoint``, loading it (and evicting the oldest) if needed.

        Loading errors (``qa_core.errors.QAError`` and friends) propagate unchanged.
        """
        key = self.key(checkpoint)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            load_lock = self._loading.setdefault(key, threading.Lock())
        with load_lock:
            with self._lock:  # another thread may have finished loading it meanwhile
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key]
            try:
                reader = self._loader(key)
                with self._lock:  # insert before releasing the key, so no one loads it twice
                    self._items[key] = reader
                    self._items.move_to_end(key)
                    while len(self._items) > self.maxsize:
                        self._items.popitem(last=False)
                return reader
            finally:
                with self._lock:
                    if self._loading.get(key) is load_lock:
                        del self._loading[key]

    def clear(self) -> None:
        """Forget every reader."""
        with self._lock:
            self._items.clear()
