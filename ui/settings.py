"""What the app allows, read once from the ``VIQA_*`` environment at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass

from qa_core.checkpoints import (
    ALLOW_LOCAL_PATHS_ENV,
    DEFAULT_CACHE_SIZE,
    cache_size_from_env,
    positive_int_env,
)
from qa_core.reader import dtype_name


def _dtype_env(name: str) -> str:
    """A precision from the environment, checked at start-up (``auto`` when unset)."""
    raw = os.environ.get(name, "")
    try:
        return dtype_name(raw)
    except ValueError:
        raise ValueError(
            f"{name}={raw!r} is not a precision; use auto, float32, bfloat16, float16 or int8."
        ) from None


def _flag_env(name: str) -> bool:
    """A yes/no setting: 1/true/yes/on or 0/false/no/off (unset: no)."""
    raw = os.environ.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{name}={raw!r} must be 1 or 0 (true or false).")


@dataclass(frozen=True)
class Settings:
    """What the app allows, read once from the environment at start-up."""

    max_context_chars: int = 20_000  # longer contexts are refused with a message
    cache_size: int = DEFAULT_CACHE_SIZE  # readers kept in memory at once
    concurrency: int = 2  # requests the queue runs at once
    max_batch_rows: int = 1_000  # rows per batch upload
    models_dir: str | None = None  # None: $VIQA_MODELS_DIR or models/
    # Readers' precision; "auto" is the fastest the hardware runs at float32's answers
    # (qa_core.reader.default_dtype: bfloat16 matmuls on CPUs with native bf16, else float32;
    # int8 only when asked, see README), "float32" trades that speed for float32's exact scores.
    dtype: str = "auto"
    # Local checkpoints from any path on the server, not only under models_dir: for a local
    # single-user run; a public server keeps it off (remote callers could probe the disk).
    allow_local_paths: bool = False
    shutdown_timeout_s: int = 8  # SIGTERM: how long requests in flight may still run

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            max_context_chars=positive_int_env("VIQA_MAX_CONTEXT_CHARS", cls.max_context_chars),
            cache_size=cache_size_from_env(),
            concurrency=positive_int_env("VIQA_CONCURRENCY", cls.concurrency),
            max_batch_rows=positive_int_env("VIQA_MAX_BATCH_ROWS", cls.max_batch_rows),
            dtype=_dtype_env("VIQA_DTYPE"),
            allow_local_paths=_flag_env(ALLOW_LOCAL_PATHS_ENV),
            shutdown_timeout_s=positive_int_env("VIQA_SHUTDOWN_TIMEOUT", cls.shutdown_timeout_s),
        )
