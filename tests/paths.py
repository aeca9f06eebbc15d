"""Where the tests find the repository's files and the shared data beside it.

``../shared`` (real datasets, never copied into the repository) is beside the checkout on
developers' machines and in CI, not on a user's. Tests that need it call :func:`shared`: on a
user's machine they skip with the reason; in CI (``CI`` set, as ``.ci/run`` does) a missing
file is an error, so that no test that needs the data is skipped there unnoticed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "assets" / "sample.vi.squad2.json"
SHARED = REPO.parent / "shared"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def shared(*parts: str) -> Path:
    """``../shared/<parts>``, or a skip (a failure in CI) when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"{path} not found (../shared is only beside the repository in CI)"
        if in_ci():
            pytest.fail(f"{message}; CI must run every test that needs it.")
        pytest.skip(message)
    return path
