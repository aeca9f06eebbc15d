"""What the app allows, read once from the ``VIQA_*`` environment at start-up.

A value that makes no sense stops ``python app.py`` with one line naming the setting and what
it accepts (a ``ValueError``), rather than failing at the first question.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from qa_core.checkpoints import DEFAULT_MODELS_DIR
from qa_core.model.precision import dtype_name
from ui.checkpoints import ALLOW_LOCAL_PATHS_ENV, MODELS_DIR_ENV
from ui.reader_cache import DEFAULT_CACHE_SIZE


def positive_int_env(name: str, default: int) -> int:
    """``$name`` as a positive whole number (``1_000`` and ``1,000`` read as 1000), ``default``
    when unset; anything else is refused with a message naming the setting."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw.replace("_", "").replace(",", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{name}={raw!r} must be a positive whole number (default {default}).")
    return value


def flag_env(name: str) -> bool:
    """A yes/no setting: 1/true/yes/on or 0/false/no/off (unset: no)."""
    raw = os.environ.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{name}={raw!r} must be 1 or 0 (true or false).")


def dtype_env(name: str) -> str:
    """A precision from the environment, checked at start-up (``auto`` when unset)."""
    raw = os.environ.get(name, "")
    try:
        return dtype_name(raw)
    except ValueError:
        raise ValueError(
            f"{name}={raw!r} is not a precision; use auto, float32, bfloat16, float16 or int8."
        ) from None


@dataclass(frozen=True)
class Settings:
    """What the app allows, read once from the environment at start-up."""

    max_context_chars: int = 20_000  # longer contexts are refused with a message
    cache_size: int = DEFAULT_CACHE_SIZE  # readers kept in memory at once
    concurrency: int = 2  # requests the queue runs at once
    max_batch_rows: int = 1_000  # rows per batch upload
    models_dir: str = str(DEFAULT_MODELS_DIR)  # where local checkpoints are found
    # Readers' precision; "auto" is the fastest the hardware runs at float32's answers
    # (qa_core.model.precision), "float32" trades that speed for float32's exact scores.
    dtype: str = "auto"
    # Local checkpoints from any path on the server, not only under models_dir: for a local
    # single-user run; a public server keeps it off (remote callers could probe the disk).
    allow_local_paths: bool = False
    shutdown_timeout_s: int = 8  # SIGTERM: how long requests in flight may still run

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            max_context_chars=positive_int_env("VIQA_MAX_CONTEXT_CHARS", cls.max_context_chars),
            cache_size=positive_int_env("VIQA_MODEL_CACHE_SIZE", cls.cache_size),
            concurrency=positive_int_env("VIQA_CONCURRENCY", cls.concurrency),
            max_batch_rows=positive_int_env("VIQA_MAX_BATCH_ROWS", cls.max_batch_rows),
            models_dir=os.environ.get(MODELS_DIR_ENV, "").strip() or cls.models_dir,
            dtype=dtype_env("VIQA_DTYPE"),
            allow_local_paths=flag_env(ALLOW_LOCAL_PATHS_ENV),
            shutdown_timeout_s=positive_int_env("VIQA_SHUTDOWN_TIMEOUT", cls.shutdown_timeout_s),
        )
