"""ui.reader_cache: a bounded, thread-safe cache of readers that leaves process-wide state alone."""

from __future__ import annotations

import threading
import time
import warnings

import pytest

from qa_core.errors import HubUnreachableError
from ui.reader_cache import ReaderCache, load_uncached_reader


class CountingLoader:
    def __init__(self, delay=0.0):
        self.calls: list[str] = []
        self.delay = delay
        self.lock = threading.Lock()

    def __call__(self, checkpoint):
        with self.lock:
            self.calls.append(checkpoint)
        time.sleep(self.delay)
        return f"reader:{checkpoint}"


def test_cache_is_bounded_and_evicts_the_least_recently_used():
    loader = CountingLoader()
    cache = ReaderCache(maxsize=2, loader=loader)
    assert cache.get("a") == "reader:a"
    cache.get("b")
    cache.get("a")  # a is now the most recent
    cache.get("c")  # evicts b
    assert cache.names() == ["a", "c"] and cache.peek("b") is None
    cache.get("b")
    assert loader.calls == ["a", "b", "c", "b"]
    assert len(cache) == 2


def test_concurrent_requests_load_a_checkpoint_once():
    loader = CountingLoader(delay=0.2)
    cache = ReaderCache(maxsize=2, loader=loader)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get(" same ")))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loader.calls == ["same"] and results == ["reader:same"] * 8


def test_failed_loads_are_not_cached():
    attempts = []

    def flaky(checkpoint):
        attempts.append(checkpoint)
        if len(attempts) == 1:
            raise HubUnreachableError("offline")
        return "reader"

    cache = ReaderCache(maxsize=1, loader=flaky)
    with pytest.raises(HubUnreachableError):
        cache.get("org/model")
    assert cache.get("org/model") == "reader"


def test_parallel_loads_leave_the_warnings_machinery_as_it_was():
    # Loads that overlap (A starts, B starts, A ends, B ends) once left Python's warnings hook
    # pointing at A's discarded list: every later warning in the server was dropped.
    a_loading, b_loading, a_done = threading.Event(), threading.Event(), threading.Event()

    def loader(checkpoint):
        if checkpoint == "a":
            a_loading.set()
            assert b_loading.wait(5)
        else:
            b_loading.set()
            assert a_done.wait(5)
        warnings.warn(f"loading {checkpoint}", UserWarning, stacklevel=1)
        return f"reader:{checkpoint}"

    cache = ReaderCache(maxsize=2, loader=loader)
    filters, showwarning = warnings.filters, warnings.showwarning

    def load_a():
        cache.get("a")
        a_done.set()

    threads = [threading.Thread(target=load_a), threading.Thread(target=lambda: cache.get("b"))]
    threads[0].start()
    assert a_loading.wait(5)
    threads[1].start()
    for thread in threads:
        thread.join(10)
    assert sorted(cache.names()) == ["a", "b"]
    # Process-wide state, as it was: the same filters (not a load's copy) and the same hook.
    assert warnings.filters is filters and warnings.showwarning is showwarning


def test_peek_never_loads_even_when_the_reader_was_just_evicted():
    loader = CountingLoader()
    cache = ReaderCache(maxsize=1, loader=loader)
    cache.get("a")
    assert cache.peek("a") == "reader:a"
    cache.get("b")  # evicts a
    assert cache.peek("a") is None and loader.calls == ["a", "b"]


def test_default_loader_builds_a_working_reader_outside_the_global_cache(tiny_checkpoints):
    from qa_core.reader import _CACHE

    before = len(_CACHE)
    reader = load_uncached_reader(str(tiny_checkpoints["wordpiece"]))
    pred = reader.answer("Ai chỉ huy?", "Ngô Quyền chỉ huy quân dân Việt.", top_n=3)
    assert pred.answers and all(pred.context[a.start:a.end] == a.text for a in pred.answers)
    assert len(_CACHE) == before
