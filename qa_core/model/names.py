"""The one rule for what a checkpoint name means: a folder on this disk, or a Hub model id.

Security matters here: a server decides from it which names it may load, so there is one rule,
:func:`parse_checkpoint`, used by the loader and by the app's path policy alike. A name is
local when it exists on this disk (as a path, ``~`` expanded); a name shaped like a path
(``./x``, ``/x``, ``~/x``, ``a/b/c``, a backslash) or whose first part is a folder here, yet
names nothing, is a missing folder; anything else must be a valid Hub id.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qa_core.errors import CheckpointNotFoundError, InvalidHubIdError
from qa_core.model.hub import hub_id_problem

DEFAULT_HUB_CHECKPOINT = "deepset/xlm-roberta-base-squad2"  # ungated, CC BY 4.0


def looks_like_path(name: str) -> bool:
    """Whether ``name`` is written as a path, not as an ``owner/name`` id.

    >>> looks_like_path("./models/run"), looks_like_path("a/b/c"), looks_like_path("org/model")
    (True, True, False)
    """
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


@dataclass(frozen=True)
class CheckpointName:
    """A checkpoint name as given (stripped), and the path it names on this disk (``None``
    for a Hub id)."""

    name: str
    local: Path | None = None

    @property
    def is_local(self) -> bool:
        return self.local is not None


def parse_checkpoint(checkpoint: str | Path) -> CheckpointName:
    """What ``checkpoint`` names, decided before any network access; names that are neither a
    path on this disk nor a valid Hub id are refused with a ``CheckpointNotFoundError``.

    >>> parse_checkpoint("deepset/xlm-roberta-base-squad2").is_local
    False
    """
    name = str(checkpoint).strip()
    if not name:
        raise CheckpointNotFoundError("No checkpoint given: pass a Hub id or a local directory.")
    path = Path(name).expanduser()
    if path.exists() or path.is_symlink():
        return CheckpointName(str(path), path)
    first = name.split("/", 1)[0]
    if looks_like_path(name) or ("/" in name and first and Path(first).expanduser().exists()):
        raise CheckpointNotFoundError(
            "The directory '{name}' does not exist. Check the path, or give a Hub id such as "
            "'{default}'.", name=name, default=DEFAULT_HUB_CHECKPOINT,
        )
    problem = hub_id_problem(name)
    if problem:
        raise InvalidHubIdError(
            "'{name}' is not a valid Hugging Face Hub id ({problem}), and no directory of that "
            "name exists. Give a folder that exists, or an id such as '{default}'.",
            name=name, problem=problem.rstrip("."), default=DEFAULT_HUB_CHECKPOINT,
        )
    return CheckpointName(name)
