"""Which checkpoints this server offers and which names it loads.

* The picker lists the usable final models found under the models directory (by their name
  relative to it, e.g. ``smoke``; a run's intermediate ``checkpoint-N`` folders are left out),
  then the public checkpoints of ``qa_core.checkpoints``.
* A name is taken as the picker shows it: ``smoke`` is ``models/smoke``, wherever the call
  comes from (a tab, ``/answer``, an MCP client).
* The path policy: anyone can call a public server's API with any path, so by default a local
  checkpoint must resolve (links followed, ``~`` and ``..`` applied) to a place under the
  models directory or to a listed checkpoint. Every other name gets the same reply whether or
  not it exists, so the reply tells nothing about the server's disk. The rule for "local path
  or Hub id" is the engine's own (``qa_core.model.names.parse_checkpoint``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from qa_core.checkpoints import (
    PUBLIC_CHECKPOINTS,
    LocalCheckpoint,
    default_public_checkpoint,
    discover_local_checkpoints,
)
from qa_core.errors import CheckpointError, Phrase
from qa_core.model.folders import WEIGHT_FILES, WEIGHT_INDEXES
from qa_core.model.hub import hub_reachable
from qa_core.model.names import parse_checkpoint

ALLOW_LOCAL_PATHS_ENV = "VIQA_ALLOW_LOCAL_PATHS"
MODELS_DIR_ENV = "VIQA_MODELS_DIR"


class NotServedError(CheckpointError):
    """A name this server does not load (a path outside its models directory)."""


def not_served(name: str, root: Path) -> NotServedError:
    """The one reply for every refused name, whether or not it exists on the server."""
    return NotServedError(
        "'{name}' is not a checkpoint this app serves: it loads Hub ids (such as '{default}') "
        "and the checkpoints in its models directory '{root}'. To use a folder kept elsewhere, "
        "move or link it there, or start the app with {setting}=1 (only for a local, "
        "single-user run).", name=name, default=default_public_checkpoint().hub_id,
        root=str(root), setting=ALLOW_LOCAL_PATHS_ENV,
    )


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


@dataclass(frozen=True)
class Checkpoints:
    """What a scan of the models directory found, and the names it lets through.

    ``found``: every QA checkpoint folder under ``root`` (usable or not, final or not).
    """

    root: Path
    found: tuple[LocalCheckpoint, ...]
    allow_local_paths: bool = False

    @classmethod
    def scan(cls, root: str | os.PathLike, allow_local_paths: bool = False) -> Checkpoints:
        return cls(Path(root), tuple(discover_local_checkpoints(root)), allow_local_paths)

    @property
    def offered(self) -> list[LocalCheckpoint]:
        """The local checkpoints a picker lists: usable final models."""
        return [c for c in self.found if c.usable and not c.intermediate]

    def default(self) -> str:
        """The picker's starting value: the first offered local model (it works offline),
        else the default public checkpoint."""
        local = self.offered
        return local[0].name if local else default_public_checkpoint().hub_id

    def values(self) -> list[str]:
        """Every value a picker offers: local names first, then public Hub ids."""
        return [c.name for c in self.offered] + [c.hub_id for c in PUBLIC_CHECKPOINTS]

    def resolve(self, checkpoint: str) -> str:
        """What ``checkpoint`` loads as: a listed local name becomes its folder; a Hub id or a
        path this server may load is returned as given (stripped); anything else raises
        :class:`NotServedError` (the same words whether the path exists or not)."""
        name = str(checkpoint).strip()
        for local in self.found:
            if name == local.name:
                return str(local.path)
        if self.allow_local_paths or not name:
            return name
        allowed = [self.root, *(c.path for c in self.found)]
        try:
            resolved = Path(name).expanduser().resolve()
            if any(_within(resolved, a.expanduser().resolve()) for a in allowed):
                return name  # the loader says what is wrong with it, if anything
            parsed = parse_checkpoint(name)
        except (CheckpointError, OSError, RuntimeError, ValueError):
            # Not a Hub id, or a link loop, a NUL byte, an unknown user's ~: not servable.
            raise not_served(name, self.root) from None
        if not parsed.is_local:
            return parsed.name
        raise not_served(name, self.root)

    def local(self, checkpoint: str) -> LocalCheckpoint | None:
        """The found checkpoint ``checkpoint`` names (by name or by path), if any."""
        name = str(checkpoint).strip()
        for local in self.found:
            if name in (local.name, str(local.path)):
                return local
        return None

    def notes(self, online: bool | None = None) -> list[Phrase]:
        """What a user must know before the first question: local folders that cannot be
        used, and, when nothing can answer (offline, nothing local, the default public model
        not cached), how to get a model. ``online`` defaults to probing the Hub."""
        notes = [
            Phrase("'{name}' in the models directory is not offered: {problem}.",
                   name=c.name, problem=c.problem)
            for c in self.found if not c.usable
        ]
        default = default_public_checkpoint().hub_id
        if not self.offered:
            online = hub_reachable() if online is None else online
            if not online and not cached_on_this_machine(default):
                notes.insert(0, Phrase(
                    "No model is available offline: there is no checkpoint in the models "
                    "directory '{root}' and the Hugging Face Hub cannot be reached to download "
                    "'{default}'. To get one, train a small model here with `python -m "
                    "train.finetune --preset smoke` (about a minute on a CPU; it is saved in "
                    "models/smoke), or put a saved checkpoint folder in '{root}' (or point "
                    "{setting} at the folder that holds it), or connect to the internet once so "
                    "the public model is downloaded.",
                    root=str(self.root), default=default, setting=MODELS_DIR_ENV,
                ))
        return notes


def cached_on_this_machine(hub_id: str) -> bool:
    """Whether the Hub cache holds ``hub_id``'s config and weights (usable offline)."""
    from huggingface_hub import try_to_load_from_cache

    def cached(name: str) -> bool:
        return isinstance(try_to_load_from_cache(hub_id, name), str)

    return cached("config.json") and any(cached(n) for n in (*WEIGHT_FILES, *WEIGHT_INDEXES))


def hub_status(hub_id: str) -> str:
    """What is known of a Hub model, without downloading it: ``cached`` (usable offline),
    ``exists``, ``missing`` (no model of that name, or a private one), or ``offline`` (the
    Hub cannot be reached to tell)."""
    if cached_on_this_machine(hub_id):
        return "cached"
    if not hub_reachable():
        return "offline"
    from huggingface_hub import repo_exists

    try:
        return "exists" if repo_exists(hub_id) else "missing"
    except Exception:  # the network went away meanwhile, or the Hub refused to say
        return "offline"
