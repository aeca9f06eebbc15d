"""Which checkpoints there are: public Hub models kept in one place, plus local ones on disk.

A *local checkpoint* is a directory holding a ``config.json`` whose ``architectures`` name a
question-answering head (``...ForQuestionAnswering``) and the files of a tokenizer, which is what
``train`` writes and what ``save_pretrained`` of a model + tokenizer pair leaves behind. They are
found under a models directory (``models/`` unless the caller names another). A training run's
intermediate ``checkpoint-N`` folders are found too, marked as such: the run's final model is
the one to offer.

Listing never loads a model or touches the network: the app calls it at start-up.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from qa_core.errors import CheckpointError, Phrase
from qa_core.model.folders import TOKENIZER_FILES, check_local_checkpoint
from qa_core.model.names import DEFAULT_HUB_CHECKPOINT

DEFAULT_MODELS_DIR = Path("models")
# Where training builds a random base model (tiny:FAMILY): never a checkpoint to offer.
TINY_BASE_DIR = ".tiny-base"
# Directories walked below the models directory (models/run/checkpoint-500 is depth 2).
MAX_DEPTH = 3
QA_ARCHITECTURE_SUFFIX = "ForQuestionAnswering"
# What the Trainer calls the checkpoints it saves during a run (models/RUN/checkpoint-500).
TRAINING_CHECKPOINT = re.compile(r"checkpoint-\d+")

# Licences that let anyone use a model, commercially too (with attribution where they say so).
PERMISSIVE_LICENCES = ("CC BY 4.0", "MIT", "Apache 2.0")


@dataclass(frozen=True)
class PublicCheckpoint:
    """A checkpoint on the Hugging Face Hub, fine-tuned for extractive QA, with the licence its
    model card states and whether the Hub makes users accept conditions before downloading."""

    hub_id: str
    description: Phrase
    licence: str
    gated: bool = False

    @property
    def permissive(self) -> bool:
        return self.licence in PERMISSIVE_LICENCES


# Public checkpoints that answer Vietnamese, the default first; the app's picker lists them in
# this order. Edit here only: the app, docs/app.md and the tests read this tuple. Licences and
# gating as the model pages state them. The default must work on a fresh machine without a
# token and allow any use: deepset's XLM-R base (multilingual SQuAD 2.0, CC BY 4.0, base size
# for CPUs). vi-mrc is the strongest on Vietnamese but gated and non-commercial.
PUBLIC_CHECKPOINTS: tuple[PublicCheckpoint, ...] = (
    PublicCheckpoint(
        DEFAULT_HUB_CHECKPOINT, Phrase("multilingual XLM-R base, fine-tuned on SQuAD 2.0"),
        "CC BY 4.0",
    ),
    PublicCheckpoint(
        "deepset/xlm-roberta-large-squad2",
        Phrase("multilingual XLM-R large, fine-tuned on SQuAD 2.0"), "CC BY 4.0",
    ),
    PublicCheckpoint(
        "timpal0l/mdeberta-v3-base-squad2",
        Phrase("multilingual mDeBERTa-v3 base, fine-tuned on SQuAD 2.0"), "MIT",
    ),
    PublicCheckpoint(
        "nguyenvulebinh/vi-mrc-base", Phrase("XLM-R base, Vietnamese MRC"), "CC BY-NC 4.0",
        gated=True,
    ),
    PublicCheckpoint(
        "nguyenvulebinh/vi-mrc-large", Phrase("XLM-R large, Vietnamese MRC"), "CC BY-NC 4.0",
        gated=True,
    ),
    PublicCheckpoint(
        "FredDYyy/Roberta_vi_MLQA", Phrase("RoBERTa base (English BPE vocabulary), MLQA-vi"),
        "MIT",
    ),
)


# Licences of base encoders people fine-tune here (as their model pages state them, in the
# Hub's licence ids): a model fine-tuned from one carries its base's licence. PhoBERT base and
# large are MIT; phobert-base-v2 is AGPL-3.0, which reaches anyone serving it on a network.
BASE_MODEL_LICENCES = {
    "vinai/phobert-base": "mit",
    "vinai/phobert-large": "mit",
    "vinai/phobert-base-v2": "agpl-3.0",
    "xlm-roberta-base": "mit",
    "xlm-roberta-large": "mit",
    "FacebookAI/xlm-roberta-base": "mit",
    "FacebookAI/xlm-roberta-large": "mit",
}
NETWORK_COPYLEFT = frozenset({"agpl-3.0"})  # serving the model obliges offering its source


def default_public_checkpoint() -> PublicCheckpoint:
    """The first public checkpoint that is ungated and permissively licensed."""
    return next(c for c in PUBLIC_CHECKPOINTS if not c.gated and c.permissive)


@dataclass(frozen=True)
class LocalCheckpoint:
    """A QA checkpoint directory found on disk; ``problem`` says why it cannot be used."""

    path: Path
    architecture: str
    root: Path  # the models directory it was found under
    problem: Phrase | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None

    @property
    def name(self) -> str:
        """Path relative to the models directory, e.g. ``xlmr-mlqa/checkpoint-500``: what a
        picker shows, and what a server takes for it."""
        try:
            return self.path.relative_to(self.root).as_posix() or self.path.name
        except ValueError:
            return self.path.name

    @property
    def intermediate(self) -> bool:
        """A checkpoint the Trainer saved during a run (``RUN/checkpoint-500``), not a final
        model: the run's own folder holds that."""
        return bool(TRAINING_CHECKPOINT.fullmatch(self.path.name)) and (
            (self.path / "trainer_state.json").is_file()
        )


def qa_architecture(directory: str | os.PathLike) -> str | None:
    """The QA architecture named by ``directory/config.json``, or ``None`` if it is not a local
    QA checkpoint (no config, unreadable config, no QA head, or no tokenizer files).

    >>> qa_architecture("/nonexistent") is None
    True
    """
    directory = Path(directory)
    config_file = directory / "config.json"
    if not config_file.is_file():
        return None
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    architectures = config.get("architectures") if isinstance(config, dict) else None
    if not isinstance(architectures, list):
        return None
    qa = [a for a in architectures if isinstance(a, str) and a.endswith(QA_ARCHITECTURE_SUFFIX)]
    if not qa:
        return None
    if not any((directory / name).is_file() for name in TOKENIZER_FILES):
        return None
    return qa[0]


def local_problem(directory: str | os.PathLike) -> Phrase | None:
    """Why a QA checkpoint folder cannot be used, in a few words, or ``None``: a malformed
    ``config.json``, weights missing or damaged. Reads only the files' headers."""
    directory = Path(directory)
    try:
        check_local_checkpoint(directory)
    except CheckpointError as exc:
        return exc.params.get("problem") or Phrase(exc.template, **exc.params)
    return None


def _internal(path: Path, base: Path) -> bool:
    """Folders that are no one's checkpoint: hidden ones below ``base`` (``.cache``) and the
    random base model training builds (``TINY_BASE_DIR``), wherever a link leads."""
    try:
        hidden = any(p.startswith(".") for p in path.relative_to(base).parts)
    except ValueError:
        hidden = False
    try:
        return hidden or TINY_BASE_DIR in path.resolve().parts
    except OSError:
        return hidden


def discover_local_checkpoints(
    root: str | os.PathLike | None = None, max_depth: int = MAX_DEPTH
) -> list[LocalCheckpoint]:
    """Every QA checkpoint under ``root`` (default ``models/``), sorted by path, each with the
    ``problem`` that keeps it from loading (``None`` for usable ones).

    Walks at most ``max_depth`` levels and follows symbolic links to directories, so a models
    directory may link to checkpoints kept elsewhere. Hidden folders are skipped. A missing
    directory gives ``[]``.
    """
    base = Path(root) if root is not None else DEFAULT_MODELS_DIR
    if not base.is_dir():
        return []
    found: list[LocalCheckpoint] = []
    # Iterative walk: (directory, depth). Hidden directories (.git, .cache) are skipped.
    stack = [(base, 0)]
    seen: set[Path] = set()
    while stack:
        directory, depth = stack.pop()
        try:
            real = directory.resolve()
        except OSError:
            continue
        if real in seen:  # a symlink loop
            continue
        seen.add(real)
        architecture = qa_architecture(directory)
        if architecture is not None and not _internal(directory, base):
            found.append(LocalCheckpoint(directory, architecture, base, local_problem(directory)))
        if depth >= max_depth:
            continue
        try:
            children = [p for p in directory.iterdir() if p.is_dir() and not p.name.startswith(".")]
        except OSError:
            continue
        stack.extend((child, depth + 1) for child in children)
    return sorted(found, key=lambda c: c.name)
