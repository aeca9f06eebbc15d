"""Which checkpoints the app offers: public Hub models kept in one place, plus local ones.

A *local checkpoint* is a directory holding a ``config.json`` whose ``architectures`` name a
question-answering head (``...ForQuestionAnswering``) and the files of a tokenizer, which is what
``train`` writes and what ``save_pretrained`` of a model + tokenizer pair leaves behind. They are
found under a models directory: ``models/`` by default, or ``$VIQA_MODELS_DIR``.

Listing never loads a model or touches the network: the app calls it at start-up. Loading goes
through :class:`ReaderCache`, a bounded, thread-safe LRU of readers for a server that lets users
pick among many checkpoints (``qa_core.load_reader``'s own cache keeps every reader forever).
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa_core.errors import CheckpointError, UntrainedHeadWarning
from qa_core.hub import hub_id_problem, hub_reachable
from qa_core.loading import (
    DEFAULT_HUB_CHECKPOINT,
    TOKENIZER_FILES,
    WEIGHT_FILES,
    WEIGHT_INDEXES,
    check_local_checkpoint,
    is_phobert,
)

MODELS_DIR_ENV = "VIQA_MODELS_DIR"
# Set to 1 to let a server load local checkpoints from any path (a local single-user run).
ALLOW_LOCAL_PATHS_ENV = "VIQA_ALLOW_LOCAL_PATHS"
CACHE_SIZE_ENV = "VIQA_MODEL_CACHE_SIZE"
DEFAULT_CACHE_SIZE = 2
DEFAULT_MODELS_DIR = Path("models")
# Where training builds a random base model (tiny:FAMILY): never a checkpoint to offer.
TINY_BASE_DIR = ".tiny-base"
# Directories walked below the models directory (models/run/checkpoint-500 is depth 2).
MAX_DEPTH = 3
QA_ARCHITECTURE_SUFFIX = "ForQuestionAnswering"


# Licences that let anyone use a model, commercially too (with attribution where they say so).
PERMISSIVE_LICENCES = ("CC BY 4.0", "MIT", "Apache 2.0")


@dataclass(frozen=True)
class PublicCheckpoint:
    """A checkpoint on the Hugging Face Hub, fine-tuned for extractive QA, with the licence its
    model card states and whether the Hub makes users accept conditions before downloading."""

    hub_id: str
    description: str
    licence: str
    gated: bool = False

    @property
    def permissive(self) -> bool:
        return self.licence in PERMISSIVE_LICENCES

    @property
    def label(self) -> str:
        access = "gated: accept its terms on the Hub, then log in" if self.gated else "open"
        return f"{self.hub_id} — {self.description} ({self.licence}; {access})"


# Public checkpoints that answer Vietnamese, the default first; the app's picker lists them in
# this order. Edit here only: the app, the README and the tests read this tuple. Licences and
# gating as the model pages state them. The default must work on a fresh machine without a
# token and allow any use: deepset's XLM-R base (multilingual SQuAD 2.0, CC BY 4.0, base size
# for CPUs). vi-mrc is the strongest on Vietnamese but gated and non-commercial.
PUBLIC_CHECKPOINTS: tuple[PublicCheckpoint, ...] = (
    PublicCheckpoint(
        DEFAULT_HUB_CHECKPOINT, "multilingual XLM-R base, fine-tuned on SQuAD 2.0", "CC BY 4.0"
    ),
    PublicCheckpoint(
        "deepset/xlm-roberta-large-squad2", "multilingual XLM-R large, fine-tuned on SQuAD 2.0", "CC BY 4.0"
    ),
    PublicCheckpoint("timpal0l/mdeberta-v3-base-squad2", "multilingual mDeBERTa-v3 base, fine-tuned on SQuAD 2.0", "MIT"),
    PublicCheckpoint(
        "nguyenvulebinh/vi-mrc-base", "XLM-R base, Vietnamese MRC", "CC BY-NC 4.0", gated=True
    ),
    PublicCheckpoint(
        "nguyenvulebinh/vi-mrc-large", "XLM-R large, Vietnamese MRC", "CC BY-NC 4.0", gated=True
    ),
    PublicCheckpoint(
        "FredDYyy/Roberta_vi_MLQA", "RoBERTa base (English BPE vocabulary), MLQA-vi", "MIT"
    ),
)


def default_public_checkpoint() -> PublicCheckpoint:
    """The first public checkpoint that is ungated and permissively licensed."""
    return next(c for c in PUBLIC_CHECKPOINTS if not c.gated and c.permissive)


@dataclass(frozen=True)
class LocalCheckpoint:
    """A QA checkpoint directory found on disk; ``problem`` says why it cannot be used."""

    path: Path
    architecture: str
    root: Path  # the models directory it was found under
    problem: str | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None

    @property
    def name(self) -> str:
        """Path relative to the models directory, e.g. ``xlmr-mlqa/checkpoint-500``."""
        try:
            return self.path.relative_to(self.root).as_posix() or self.path.name
        except ValueError:
            return self.path.name

    @property
    def label(self) -> str:
        if self.problem:
            return f"{self.name} — local ({self.architecture}; cannot be used: {self.problem})"
        return f"{self.name} — local ({self.architecture})"


def models_dir(path: str | os.PathLike | None = None) -> Path:
    """The directory searched for local checkpoints: ``path``, else ``$VIQA_MODELS_DIR``, else ``models/``."""
    if path is not None:
        return Path(path)
    return Path(os.environ.get(MODELS_DIR_ENV) or DEFAULT_MODELS_DIR)


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


def local_problem(directory: str | os.PathLike) -> str | None:
    """Why a QA checkpoint folder cannot be used, in a few words, or ``None``: a PhoBERT
    tokenizer (no character offsets), a malformed ``config.json``, weights missing or damaged.
    Reads only the files' headers."""
    directory = Path(directory)
    if is_phobert(directory):
        return "PhoBERT's tokenizer gives no character offsets"
    try:
        check_local_checkpoint(directory)
    except CheckpointError as exc:
        return str(exc).split(" cannot be loaded: ", 1)[-1].split(". ", 1)[0]
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
    """Every QA checkpoint under ``root`` (default :func:`models_dir`), sorted by path, each
    with the ``problem`` that keeps it from loading (``None`` for usable ones).

    Walks at most ``max_depth`` levels and follows symbolic links to directories, so a models
    directory may link to checkpoints kept elsewhere. Hidden folders are skipped. A missing
    directory gives ``[]``.
    """
    base = models_dir(root)
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


def checkpoint_choices(root: str | os.PathLike | None = None) -> list[tuple[str, str]]:
    """``(label, value)`` pairs for a picker: usable local checkpoints first, then the public
    ones (labels give licence and gating). Local folders that cannot be used are left out:
    :func:`startup_notice` names them.

    The value is what ``qa_core.load_reader`` takes: a local path or a Hub id.
    """
    local = [(c.label, str(c.path)) for c in discover_local_checkpoints(root) if c.usable]
    public = [(c.label, c.hub_id) for c in PUBLIC_CHECKPOINTS]
    return local + public


def default_checkpoint(root: str | os.PathLike | None = None) -> str:
    """The picker's starting value: the first usable local checkpoint if there is one (it works
    offline), else the default public one (ungated, permissive licence)."""
    local = [c for c in discover_local_checkpoints(root) if c.usable]
    return str(local[0].path) if local else default_public_checkpoint().hub_id


def _cached_on_this_machine(hub_id: str) -> bool:
    """Whether the Hub cache holds ``hub_id``'s config and weights (usable offline)."""
    from huggingface_hub import try_to_load_from_cache

    def cached(name: str) -> bool:
        return isinstance(try_to_load_from_cache(hub_id, name), str)

    return cached("config.json") and any(cached(n) for n in (*WEIGHT_FILES, *WEIGHT_INDEXES))


def startup_notice(
    root: str | os.PathLike | None = None, online: bool | None = None
) -> str | None:
    """What a user must know before the first question, or ``None`` when all is well.

    Offline with no usable local checkpoint and the default public one not cached, nothing can
    answer: the notice says how to get a model. Local folders that cannot be used are named
    too. ``online`` defaults to probing the Hub (a few seconds at most, cached a minute).
    """
    base = models_dir(root)
    found = discover_local_checkpoints(base)
    notes = [
        f"'{c.name}' in {base} is not offered: {c.problem}." for c in found if not c.usable
    ]
    default = default_public_checkpoint().hub_id
    if not any(c.usable for c in found):
        online = hub_reachable() if online is None else online
        if not online and not _cached_on_this_machine(default):
            notes.insert(
                0,
                f"No model is available offline: there is no checkpoint under '{base}' and the "
                f"Hugging Face Hub cannot be reached to download '{default}'. To get one, train "
                "a small model here with `python -m train.finetune --preset smoke` (about a "
                "minute on a CPU; it is saved in models/smoke), or put a saved checkpoint "
                f"folder under '{base}' (or point {MODELS_DIR_ENV} at the folder that holds "
                "it), or connect to the internet once so the public model is downloaded.",
            )
    return "\n".join(notes) or None


# ---------------------------------------------------------------------------------------------
# Which names a server loads: Hub ids, and local folders under the models directory only
# ---------------------------------------------------------------------------------------------
def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _hub_shaped(name: str) -> bool:
    """Whether ``name`` reads as a Hub id and names nothing on this disk (neither the path
    itself nor, for ``owner/name``, a folder ``owner``): then only the Hub can answer for it."""
    if name.startswith((".", "/", "~")) or "\\" in name or name.count("/") > 1:
        return False
    if hub_id_problem(name) is not None:
        return False
    first = Path(name.split("/", 1)[0])
    return not (Path(name).exists() or Path(name).is_symlink() or first.exists())


def not_served_message(name: str, root: str | os.PathLike | None = None) -> str:
    """The one reply for every refused name, whether or not it exists on the server."""
    return (
        f"'{name}' is not a checkpoint this app serves: it loads Hub ids (such as "
        f"'{default_public_checkpoint().hub_id}') and the checkpoints in its models directory "
        f"'{models_dir(root)}'. To use a folder kept elsewhere, move or link it there, or start "
        f"the app with {ALLOW_LOCAL_PATHS_ENV}=1 (only for a local, single-user run)."
    )


def served_checkpoint(
    checkpoint: str,
    root: str | os.PathLike | None = None,
    allow_local_paths: bool = False,
    listed: tuple[str | os.PathLike, ...] = (),
) -> str:
    """``checkpoint`` (stripped) if a server may load it, else a ``CheckpointError``.

    A remote caller may name any path, so by default a local checkpoint must resolve (links
    followed, ``~`` and ``..`` applied) to a place under the models directory ``root`` or to
    one of the ``listed`` checkpoints (those the picker offers, which may be links to folders
    elsewhere). Hub ids stay allowed. Everything else gets :func:`not_served_message`, the
    same words whether the path exists or not, so the reply tells nothing about the disk.
    ``allow_local_paths`` lets every name through (the loader then decides).
    """
    name = str(checkpoint).strip()
    if allow_local_paths or not name:
        return name
    allowed = [models_dir(root), *(Path(p) for p in listed)]
    try:
        resolved = Path(name).expanduser().resolve()
        if any(_within(resolved, a.expanduser().resolve()) for a in allowed):
            return name
    except (OSError, RuntimeError, ValueError):  # a link loop, a NUL byte: not servable
        pass
    else:
        if _hub_shaped(name):
            return name
    raise CheckpointError(not_served_message(name, root))


# ---------------------------------------------------------------------------------------------
# Loading: a bounded cache of readers
# ---------------------------------------------------------------------------------------------
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


def cache_size_from_env(default: int = DEFAULT_CACHE_SIZE) -> int:
    """``$VIQA_MODEL_CACHE_SIZE``: readers kept in memory at once (``default`` when unset)."""
    return positive_int_env(CACHE_SIZE_ENV, default)


def load_uncached_reader(checkpoint: str, dtype: str | None = None):
    """A fresh ``Reader`` for ``checkpoint`` on the best device (in ``dtype``, default: what
    the hardware runs natively), outside ``load_reader``'s process-wide cache (so that evicting
    it from a :class:`ReaderCache` frees its memory)."""
    from qa_core.reader import build_reader

    return build_reader(checkpoint, dtype=dtype)


@dataclass
class CachedReader:
    """A loaded reader plus the ``UntrainedHeadWarning`` messages its loading raised (the app
    shows them again on every use: the answers of an untrained head stay meaningless)."""

    reader: object
    warnings: tuple[str, ...] = ()


class ReaderCache:
    """At most ``maxsize`` readers, least recently used evicted first; safe across threads.

    Each checkpoint loads once even when many requests ask for it at the same moment (they
    wait on a per-checkpoint lock); different checkpoints load in parallel. A failed load is
    not cached, so a checkpoint that was unreachable can be tried again.
    """

    def __init__(self, maxsize: int | None = None, loader: Callable[[str], object] | None = None):
        self.maxsize = cache_size_from_env() if maxsize is None else maxsize
        if self.maxsize < 1:
            raise ValueError(f"maxsize={self.maxsize} must be at least 1.")
        self._loader = loader or load_uncached_reader
        self._items: OrderedDict[str, CachedReader] = OrderedDict()
        self._lock = threading.Lock()  # guards _items and _loading
        self._loading: dict[str, threading.Lock] = {}

    @staticmethod
    def key(checkpoint: str) -> str:
        return str(checkpoint).strip()

    def __contains__(self, checkpoint: str) -> bool:
        with self._lock:
            return self.key(checkpoint) in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def names(self) -> list[str]:
        """Cached checkpoints, least recently used first."""
        with self._lock:
            return list(self._items)

    def get(self, checkpoint: str) -> CachedReader:
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
                # catch_warnings is process-global; the per-checkpoint lock keeps loads of the
                # same checkpoint apart, and a warning caught from a parallel load of another
                # checkpoint would only be shown to the wrong user, never lost silently.
                with warnings.catch_warnings(record=True) as caught:
                    # Record our warning every time; others pass the usual filters, so only
                    # what would have been shown anyway is recorded (and shown below).
                    warnings.simplefilter("always", UntrainedHeadWarning)
                    reader = self._loader(key)
                shown = []
                for w in caught:
                    if issubclass(w.category, UntrainedHeadWarning):
                        shown.append(str(w.message))
                    else:  # not for the user: back to the log as usual
                        warnings.showwarning(w.message, w.category, w.filename, w.lineno)
                entry = CachedReader(reader, tuple(dict.fromkeys(shown)))
                with self._lock:  # insert before releasing the key, so no one loads it twice
                    self._items[key] = entry
                    self._items.move_to_end(key)
                    while len(self._items) > self.maxsize:
                        self._items.popitem(last=False)
                return entry
            finally:
                with self._lock:
                    if self._loading.get(key) is load_lock:
                        del self._loading[key]

    def clear(self) -> None:
        """Forget every reader."""
        with self._lock:
            self._items.clear()
