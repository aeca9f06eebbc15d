"""Running a model on a Space's ZeroGPU, and nowhere else asking for a GPU.

On ZeroGPU (Hugging Face's free GPU for Spaces) a GPU is attached only while a function
decorated with ``@spaces.GPU`` runs, for at most the ``duration`` it asked for; shorter
requests are served first, and visitors' daily quota is counted against what they ask for.
The decorated function runs in a worker process: its arguments and return value are
pickled, and what it changes in memory does not come back.

So one function here runs the model, :func:`answer_questions`: every handler that answers
(Ask, Compare, a dataset's example, Evaluate, Batch, ``/answer``) loads its reader first, in
the app's process (cached, and copied into the worker with the process), then calls it with
plain values and gets plain ``Prediction`` objects back. Figures and tables are drawn
afterwards, without a GPU. Page load, the checkpoint picker and dataset browsing never call
it. Its duration is computed from its input: windows × seconds per window plus a margin,
bounded; an input beyond the bound is refused before anything runs (:func:`windows_budget`).

Off ZeroGPU the decorator has no effect, and models run where ``qa_core`` puts them.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Callable, Sequence

try:  # the `spaces` package (Hugging Face); a plain install works without it
    import spaces
except ImportError:  # pragma: no cover - it is in the requirements
    spaces = None

ZERO_GPU = spaces is not None and os.environ.get("SPACES_ZERO_GPU", "").strip().lower() in (
    "1", "t", "true")
# What a ZeroGPU call asks for: a base-size window takes milliseconds on the GPU; the margin
# covers moving the weights there and starting the worker. Generous on purpose: a call that
# runs out of time fails, one that asks for a little more only waits a little longer.
SECONDS_PER_WINDOW = 0.05
MARGIN_S = 15.0
MAX_DURATION_S = 120.0  # the longest call asked for; larger inputs are refused with a message
CHARS_PER_TOKEN = 3.0  # Vietnamese text per subword token, on the low side (more windows)

GPU_FUNCTIONS: list[Callable] = []  # every function decorated here (tests check the set)
_inside = threading.local()


def on_gpu() -> bool:
    """Whether the current thread is inside a function decorated by :func:`runs_model`."""
    return getattr(_inside, "depth", 0) > 0


def estimated_windows(contexts: Sequence[str], max_length: int, doc_stride: int,
                      question_tokens: int = 32) -> int:
    """Windows the contexts are cut into, estimated from their length without a tokenizer
    (erring towards more).

    >>> estimated_windows(["x" * 300], 384, 128), estimated_windows(["x" * 3000], 384, 128)
    (1, 4)
    """
    room = max(1, max_length - question_tokens - 4)
    step = max(1, room - doc_stride)
    total = 0
    for context in contexts:
        tokens = math.ceil(len(context) / CHARS_PER_TOKEN)
        total += 1 + max(0, math.ceil((tokens - room) / step))
    return total


def duration_s(windows: int) -> float:
    """Seconds a call over ``windows`` windows asks for: windows × seconds per window plus a
    margin, never more than :data:`MAX_DURATION_S`.

    >>> duration_s(1), duration_s(100), duration_s(10**6)
    (15.05, 20.0, 120.0)
    """
    return round(min(MAX_DURATION_S, MARGIN_S + windows * SECONDS_PER_WINDOW), 2)


def windows_budget() -> int:
    """The most windows one call can answer within :data:`MAX_DURATION_S`."""
    return int((MAX_DURATION_S - MARGIN_S) / SECONDS_PER_WINDOW)


def runs_model(duration: Callable[..., float]):
    """Decorator for a function that runs a model: on ZeroGPU it asks for a GPU for
    ``duration(*args, **kwargs)`` seconds; elsewhere it only marks the calls (:func:`on_gpu`),
    so tests can check that every model run happens inside one."""

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def marked(*args, **kwargs):
            _inside.depth = getattr(_inside, "depth", 0) + 1
            try:
                return fn(*args, **kwargs)
            finally:
                _inside.depth -= 1

        decorated = spaces.GPU(duration=duration)(marked) if spaces is not None else marked
        GPU_FUNCTIONS.append(decorated)
        return decorated

    return decorate


def reader_placement(dtype: str) -> tuple[str | None, str]:
    """Where readers go and in which precision: on ZeroGPU, ``cuda`` in bfloat16 for ``auto``
    (the GPU is attached only inside :func:`answer_questions`, so nothing probes it at load);
    elsewhere the engine's own choice."""
    if ZERO_GPU:
        return "cuda", ("bfloat16" if dtype == "auto" else dtype)
    return None, dtype


# Apps whose readers :func:`answer_questions` uses, by key: it receives the key, not the app
# (which holds locks and models, and is never pickled).
APPS: dict[str, object] = {}


def _duration(app_key: str, checkpoint: str, questions: Sequence[str],
              contexts: Sequence[str], options: dict, include_tokens: bool = False) -> float:
    return duration_s(estimated_windows(contexts, options["max_length"], options["doc_stride"]))


@runs_model(_duration)
def answer_questions(app_key: str, checkpoint: str, questions: Sequence[str],
                     contexts: Sequence[str], options: dict, include_tokens: bool = False):
    """The predictions of the reader of ``checkpoint`` (loaded already by the app ``app_key``)
    for each question about its context, with ``options`` (every ``AnswerOptions`` field).
    Plain values in and out: on ZeroGPU this runs in a worker process."""
    reader = APPS[app_key].readers.get(checkpoint)
    return reader.answer_batch(list(questions), list(contexts), include_tokens=include_tokens,
                               **options)
